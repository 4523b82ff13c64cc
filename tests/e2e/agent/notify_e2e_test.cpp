// The agent's notifications end to end: `keelson agent` with a signed
// generic webhook route pointing at a receiver in this test.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/notify/notifier.h"
#include "agent/server/http_server.h"
#include "tests/e2e/agent/agent_harness.h"

namespace keelson {
namespace {

using testing::AgentHarness;
using testing::Eventually;
using namespace std::chrono_literals;

TEST(NotifyEndToEnd, RolloutSucceededReachesASignedWebhook) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  std::mutex mu;
  std::vector<server::HttpRequest> received;
  server::HttpServer receiver(server::HttpServerOptions{});
  receiver.Route("POST", "/hook", [&](const server::HttpRequest& r) {
    std::lock_guard lock(mu);
    received.push_back(r);
    return server::HttpResponse::Text(200, "ok");
  });
  ASSERT_TRUE(receiver.Start().ok());
  const std::string secret = "notification-hmac-key-0123456789";
  std::string secret_file = h.dir() + "/hook-secret";
  {
    std::FILE* f = std::fopen(secret_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs((secret + "\n").c_str(), f);
    std::fclose(f);
  }
  h.Commit({{"clusters/dev/keelson.yaml",
             "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  units:\n"
             "  - name: app\n    path: app\n    namespace: default\n"},
            {"app/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata: {k: v}\n"}},
           "one");
  h.StartNamedAgent("n", "notifications:\n  routes:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:" +
                             std::to_string(receiver.port()) + "/hook\n    secretFile: " + secret_file + "\n");
  auto succeeded = [&] {
    std::lock_guard lock(mu);
    for (const server::HttpRequest& r : received) {
      if (r.Header("x-keelson-event").value_or("") == "rollout.succeeded") return true;
    }
    return false;
  };
  ASSERT_TRUE(Eventually(succeeded, 60s)) << h.NamedAgentLog("n");
  std::lock_guard lock(mu);
  bool started = false;
  for (const server::HttpRequest& r : received) {
    EXPECT_TRUE(notify::VerifySignature(secret, r.body, r.Header("x-keelson-signature-256").value_or("")));
    nlohmann::json body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["environment"], "dev");
    if (body["event"] == "rollout.started") started = true;
    if (body["event"] == "rollout.succeeded") {
      EXPECT_EQ(body["unit"], "app");
    }
  }
  EXPECT_TRUE(started);
  // The secret never reaches the log.
  EXPECT_EQ(h.NamedAgentLog("n").find(secret), std::string::npos);
}

}  // namespace
}  // namespace keelson
