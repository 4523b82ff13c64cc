#include "agent/notify/notifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/server/http_server.h"

namespace keelson::notify {
namespace {

using namespace std::chrono_literals;

// A local HTTP receiver that records every request and answers with the
// statuses it is told to (then 200).
class Receiver {
 public:
  Receiver() : server_(server::HttpServerOptions{}) {
    server_.Route("POST", "/", [this](const server::HttpRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(r);
      int status = 200;
      if (!statuses_.empty()) {
        status = statuses_.front();
        statuses_.erase(statuses_.begin());
      }
      return server::HttpResponse::Text(status, "ok");
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void AnswerFirst(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_ = std::move(statuses);
  }
  std::vector<server::HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  server::HttpServer server_;
  std::mutex mu_;
  std::vector<server::HttpRequest> requests_;
  std::vector<int> statuses_;
};

Event Failure() {
  Event e;
  e.kind = EventKind::kRolloutFailed;
  e.severity = DefaultSeverity(e.kind);
  e.environment = "prod";
  e.unit = "web";
  e.revision = "0123456789abcdef0123456789abcdef01234567";
  e.message = "wave 2 did not become healthy";
  return e;
}

RouteConfig Route(RouteKind kind, std::string url, std::string secret) {
  RouteConfig r;
  r.name = "test";
  r.kind = kind;
  r.url = std::move(url);
  r.secret = std::move(secret);
  r.initial_backoff = 10ms;
  r.timeout = 5s;
  return r;
}

std::vector<server::HttpRequest> SendOne(Receiver& rx, RouteConfig route, const Event& e) {
  Notifier n({std::move(route)}, MakeHttpSender());
  n.Publish(e);
  EXPECT_TRUE(n.Drain(10s));
  EXPECT_EQ(n.delivered(), 1u);
  return rx.requests();
}

TEST(NotifierTest, SlackWebhookGetsTextAndBlocks) {
  Receiver rx;
  auto reqs = SendOne(rx, Route(RouteKind::kSlack, "", rx.Url("/services/T000/B000/secretpart")), Failure());
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/services/T000/B000/secretpart");
  EXPECT_EQ(reqs[0].Header("content-type").value_or(""), "application/json");
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_NE(body["text"].get<std::string>().find("[prod] rollout.failed web"), std::string::npos);
  ASSERT_TRUE(body["blocks"].is_array());
  EXPECT_EQ(body["blocks"][0]["type"], "header");
  EXPECT_EQ(body["blocks"][1]["text"]["text"], "wave 2 did not become healthy");
}

TEST(NotifierTest, PagerDutyTriggersThenResolvesWithOneDedupKey) {
  Receiver rx;
  Notifier n({Route(RouteKind::kPagerDuty, rx.Url("/v2/enqueue"), "R0UTINGKEY")}, MakeHttpSender());
  n.Publish(Failure());
  Event ok = Failure();
  ok.kind = EventKind::kRolloutSucceeded;
  ok.severity = Severity::kInfo;
  n.Publish(ok);
  ASSERT_TRUE(n.Drain(10s));
  auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 2u);
  nlohmann::json trigger = nlohmann::json::parse(reqs[0].body);
  nlohmann::json resolve = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(trigger["routing_key"], "R0UTINGKEY");
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["payload"]["severity"], "critical");
  EXPECT_EQ(trigger["payload"]["source"], "keelson/prod");
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(trigger["dedup_key"], "keelson/prod/web");
  EXPECT_EQ(resolve["dedup_key"], trigger["dedup_key"]);
  EXPECT_FALSE(resolve.contains("payload"));
}

TEST(NotifierTest, StatusPageIncidentCarriesApiKeyHeader) {
  Receiver rx;
  auto reqs = SendOne(rx, Route(RouteKind::kStatusPage, rx.Url("/v1/pages/p1/incidents"), "APIKEY"), Failure());
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Header("authorization").value_or(""), "OAuth APIKEY");
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["incident"]["status"], "investigating");
  EXPECT_EQ(body["incident"]["impact_override"], "major");
  EXPECT_EQ(body["incident"]["metadata"]["keelson"]["unit"], "web");
}

TEST(NotifierTest, GenericWebhookIsSignedWithHmacSha256) {
  Receiver rx;
  auto reqs = SendOne(rx, Route(RouteKind::kWebhook, rx.Url("/hook"), "a-secret-of-some-length"), Failure());
  ASSERT_EQ(reqs.size(), 1u);
  std::string sig = reqs[0].Header("x-keelson-signature-256").value_or("");
  EXPECT_TRUE(VerifySignature("a-secret-of-some-length", reqs[0].body, sig));
  EXPECT_FALSE(VerifySignature("another-secret", reqs[0].body, sig));
  EXPECT_FALSE(VerifySignature("a-secret-of-some-length", reqs[0].body + " ", sig));
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["event"], "rollout.failed");
  EXPECT_EQ(body["severity"], "critical");
  EXPECT_EQ(reqs[0].Header("x-keelson-event").value_or(""), "rollout.failed");
}

TEST(NotifierTest, HmacMatchesKnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(SignatureHeaderValue("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(NotifierTest, RetriesServerErrorsWithBackoffButNotClientErrors) {
  Receiver rx;
  rx.AnswerFirst({503, 500, 429});
  {
    Notifier n({Route(RouteKind::kWebhook, rx.Url("/hook"), "k")}, MakeHttpSender());
    n.Publish(Failure());
    ASSERT_TRUE(n.Drain(10s));
    EXPECT_EQ(n.delivered(), 1u);
  }
  EXPECT_EQ(rx.requests().size(), 4u);
  rx.AnswerFirst({400});
  Notifier n({Route(RouteKind::kWebhook, rx.Url("/hook"), "k")}, MakeHttpSender());
  n.Publish(Failure());
  ASSERT_TRUE(n.Drain(10s));
  EXPECT_EQ(n.failed(), 1u);
  EXPECT_EQ(rx.requests().size(), 5u);
}

TEST(NotifierTest, FiltersByUnitAndSeverity) {
  RouteConfig r = Route(RouteKind::kWebhook, "http://x/", "k");
  r.units = {"web"};
  r.min_severity = Severity::kWarning;
  Event e = Failure();
  EXPECT_TRUE(RouteAccepts(r, e));
  e.unit = "db";
  EXPECT_FALSE(RouteAccepts(r, e));
  e.unit = "web";
  e.severity = Severity::kInfo;
  EXPECT_FALSE(RouteAccepts(r, e));
}

// A sender that blocks until released: Publish must still return at once,
// and a full queue drops instead of waiting.
class StuckSender final : public Sender {
 public:
  explicit StuckSender(std::atomic<bool>* release) : release_(release) {}
  Result<int> Post(const RouteConfig&, const Delivery&) override {
    while (!release_->load()) std::this_thread::sleep_for(1ms);
    return 200;
  }

 private:
  std::atomic<bool>* release_;
};

TEST(NotifierTest, SlowReceiverNeverBlocksPublish) {
  std::atomic<bool> release{false};
  NotifierOptions options;
  options.queue_capacity = 4;
  Notifier n({Route(RouteKind::kWebhook, "http://x/", "k")}, std::make_unique<StuckSender>(&release), options);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) n.Publish(Failure());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_GE(n.dropped(), 95u);
  release = true;
  ASSERT_TRUE(n.Drain(10s));
  EXPECT_EQ(n.delivered() + n.dropped(), 100u);
}

TEST(NotifierTest, UnreachableReceiverFailsAfterRetriesWithoutLeakingSlackUrl) {
  // Port 1 on loopback refuses connections.
  RouteConfig r = Route(RouteKind::kSlack, "", "http://127.0.0.1:1/services/T/B/topsecret");
  r.retries = 1;
  Result<int> status = MakeHttpSender()->Post(r, BuildDelivery(r, Failure()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().ToString().find("topsecret"), std::string::npos) << status.error().ToString();
  RouteConfig hook = Route(RouteKind::kWebhook, "http://127.0.0.1:1/hook?token=topsecret", "k");
  Result<int> hook_status = MakeHttpSender()->Post(hook, BuildDelivery(hook, Failure()));
  ASSERT_FALSE(hook_status.ok());
  EXPECT_EQ(hook_status.error().ToString().find("topsecret"), std::string::npos) << hook_status.error().ToString();
  Notifier n({r}, MakeHttpSender());
  n.Publish(Failure());
  ASSERT_TRUE(n.Drain(10s));
  EXPECT_EQ(n.failed(), 1u);
}

}  // namespace
}  // namespace keelson::notify
