// Two agents against one sandbox with leader election on: only the lease
// holder reconciles; when it is killed (SIGKILL, no release) the other takes
// over within the lease duration, and the two never applied at once.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "tests/e2e/agent/agent_harness.h"
#include "tests/testing/notify_socket.h"

namespace keelson {
namespace {

using testing::AgentHarness;
using testing::Eventually;
using namespace std::chrono_literals;

const char* kEnvironment = R"(apiVersion: keelson.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  units:
  - name: app
    path: app
    namespace: default
)";

std::string ConfigMap(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata: {k: \"" + value + "\"}\n";
}

const char* kElection = "leaderElection: {enabled: true, leaseName: keelson-dev, namespace: default}\n";

std::string LeaseHolder(const AgentHarness& h) {
  manifest::Node lease = h.Get("lease", "default", "keelson-dev");
  const manifest::Node* spec = lease.IsMapping() ? lease.Find("spec") : nullptr;
  return spec != nullptr ? spec->GetString("holderIdentity") : "";
}

std::string Data(const AgentHarness& h, const std::string& name) {
  manifest::Node cm = h.Get("configmap", "default", name);
  const manifest::Node* data = cm.IsMapping() ? cm.Find("data") : nullptr;
  return data != nullptr ? data->GetString("k") : "";
}

bool Leads(const std::string& log) { return log.find("leader election: ") != std::string::npos &&
                                            log.find(" holds lease default/keelson-dev") != std::string::npos; }

// Whether the log shows the agent applying anything before it held the lease.
bool AppliedBeforeLeading(const std::string& log) {
  std::size_t lead = log.find(" holds lease default/keelson-dev");
  std::size_t applied = log.find("unit app: applied");
  return applied != std::string::npos && (lead == std::string::npos || applied < lead);
}

TEST(LeaderElectionEndToEnd, StandbyTakesOverAfterTheLeaderIsKilled) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit({{"clusters/dev/keelson.yaml", kEnvironment}, {"app/config.yaml", ConfigMap("settings", "one")}}, "one");
  h.StartNamedAgent("a", kElection);
  ASSERT_TRUE(Eventually([&] { return Leads(h.NamedAgentLog("a")); }, 30s)) << h.NamedAgentLog("a");
  ASSERT_TRUE(Eventually([&] { return Data(h, "settings") == "one"; }, 60s)) << h.NamedAgentLog("a");
  // The standby runs as a systemd service would: it reports READY=1 with a
  // standby status while it waits (a unit that never became ready would be
  // restarted by systemd over and over).
  testing::NotifySocket notify(h.dir() + "/notify-b");
  ASSERT_TRUE(notify.ok());
  setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  h.StartNamedAgent("b", kElection);
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(Eventually([&] { return h.NamedAgentLog("b").find("waiting for lease") != std::string::npos; }, 30s))
      << h.NamedAgentLog("b");
  long ready = notify.WaitFor("READY=1", 10s);
  ASSERT_GE(ready, 0) << h.NamedAgentLog("b");
  EXPECT_TRUE(notify.Messages()[static_cast<std::size_t>(ready)].Has("STATUS=standby: waiting for lease default/keelson-dev"))
      << notify.Messages()[static_cast<std::size_t>(ready)].text;
  std::string leader = LeaseHolder(h);
  ASSERT_FALSE(leader.empty());
  // The standby stays a standby while the leader renews (several retry
  // periods), and applies nothing.
  h.Commit({{"app/config.yaml", ConfigMap("settings", "two")}}, "two");
  ASSERT_TRUE(Eventually([&] { return Data(h, "settings") == "two"; }, 60s)) << h.NamedAgentLog("a");
  EXPECT_FALSE(Leads(h.NamedAgentLog("b"))) << h.NamedAgentLog("b");
  EXPECT_EQ(LeaseHolder(h), leader);
  EXPECT_EQ(h.NamedAgentLog("b").find("unit app:"), std::string::npos) << h.NamedAgentLog("b");

  // Kill the leader: no release, the standby must wait for the lease to
  // expire (15 s) and then take it within one retry period (2 s).
  auto killed = std::chrono::steady_clock::now();
  h.KillNamedAgent("a");
  ASSERT_TRUE(Eventually([&] { return Leads(h.NamedAgentLog("b")); }, 30s)) << h.NamedAgentLog("b");
  auto took_over = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  std::printf("standby took over %lld ms after the leader was killed\n", static_cast<long long>(took_over.count()));
  EXPECT_LE(took_over, 15s + 2s + 1s);  // lease duration + retry period + polling slack
  EXPECT_GE(notify.WaitFor("STATUS=leader: starting the first reconcile", 10s), ready);
  EXPECT_NE(LeaseHolder(h), leader);
  EXPECT_FALSE(AppliedBeforeLeading(h.NamedAgentLog("b"))) << h.NamedAgentLog("b");
  manifest::Node lease = h.Get("lease", "default", "keelson-dev");
  EXPECT_EQ(lease.Find("spec")->Find("leaseTransitions")->AsInt(), 1);

  // The new leader reconciles.
  h.Commit({{"app/config.yaml", ConfigMap("settings", "three")}}, "three");
  EXPECT_TRUE(Eventually([&] { return Data(h, "settings") == "three"; }, 60s)) << h.NamedAgentLog("b");
}

}  // namespace
}  // namespace keelson
