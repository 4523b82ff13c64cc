#include "agent/daemon/policy_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace keelson::daemon {
namespace {

const char* kPolicy = R"(name: no-latest
match: {kinds: [Deployment]}
check: containers.all(c, imageTag(c.image) != 'latest')
message: "{{ object.metadata.name }} uses latest"
)";

config::EnvironmentSpec Environment(const std::string& spec) {
  std::string text = "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\nspec:\n" + spec +
                     "  units:\n  - name: web\n    path: web\n";
  Result<config::EnvironmentSpec> env = config::ParseEnvironment(text, "keelson.yaml", "repo");
  EXPECT_TRUE(env.ok()) << env.error().ToString();
  return env.ok() ? *env : config::EnvironmentSpec();
}

manifest::ObjectList Web(const std::string& image) {
  Result<manifest::ObjectList> objects = manifest::ParseObjects(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  template:\n    spec:\n"
      "      containers: [{name: main, image: \"" + image + "\"}]\n",
      "web/deployment.yaml");
  EXPECT_TRUE(objects.ok());
  return objects.ok() ? *objects : manifest::ObjectList();
}

TEST(PolicyGate, NothingDeclaredMeansNoGate) {
  config::EnvironmentSpec env = Environment("");
  manifest::MemoryFileSystem fs;
  Result<reconcile::UnitGate> gate =
      BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "abc", {}, nullptr, nullptr}, std::make_shared<PolicyGateRun>());
  ASSERT_TRUE(gate.ok());
  EXPECT_FALSE(static_cast<bool>(*gate));
}

TEST(PolicyGate, PolicyDenialIsReportedAndNeedsANewCommit) {
  config::EnvironmentSpec env = Environment("  policies: {builtin: false, directories: [policies]}\n");
  manifest::MemoryFileSystem fs;
  fs.AddFile("policies/no-latest.yaml", kPolicy);
  auto run = std::make_shared<PolicyGateRun>();
  Result<reconcile::UnitGate> gate = BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "abc", {}, nullptr, nullptr}, run);
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  reconcile::GateVerdict ok = (*gate)(env.units[0], Web("nginx:1.25"));
  EXPECT_TRUE(ok.allow);
  reconcile::GateVerdict denied = (*gate)(env.units[0], Web("nginx:latest"));
  EXPECT_FALSE(denied.allow);
  ASSERT_EQ(denied.messages.size(), 1u);
  EXPECT_NE(denied.messages[0].find("deny policy/no-latest"), std::string::npos) << denied.messages[0];
  EXPECT_NE(denied.messages[0].find("web uses latest"), std::string::npos) << denied.messages[0];
  EXPECT_FALSE(run->RetryAt().has_value());
  std::vector<audit::PolicyDecision> records;
  AppendPolicyDecisions(*run, "web", &records);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].effect, "deny");
  EXPECT_EQ(records[0].policy, "policy/no-latest");
}

TEST(PolicyGate, BrokenPolicyFileFailsTheBuild) {
  config::EnvironmentSpec env = Environment("  policies: {builtin: false, directories: [policies]}\n");
  manifest::MemoryFileSystem fs;
  fs.AddFile("policies/bad.yaml", "name: bad\ncheck: object.kind ==\n");
  Result<reconcile::UnitGate> gate =
      BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "abc", {}, nullptr, nullptr}, std::make_shared<PolicyGateRun>());
  ASSERT_FALSE(gate.ok());
  EXPECT_NE(gate.error().where.file.find("bad.yaml"), std::string::npos) << gate.error().ToString();
  manifest::MemoryFileSystem empty;
  EXPECT_FALSE(
      BuildPolicyGate(PolicyGateInput{&env, &empty, "prod", "abc", {}, nullptr, nullptr}, std::make_shared<PolicyGateRun>())
          .ok());
}

// A freeze from the gates file: denied with a retry at its end; allowed after.
TEST(PolicyGate, FreezeFromFileDeniesUntilItsEnd) {
  config::EnvironmentSpec env = Environment("  gates: gates.yaml\n");
  manifest::MemoryFileSystem fs;
  fs.AddFile("gates.yaml",
             "windows:\n- name: freeze\n  kind: deny\n  schedule: \"0 12 * * *\"\n  duration: 1h\n  timeZone: UTC\n");
  auto clock = std::make_shared<policy::ManualClock>(1'700'000'000 - 1'700'000'000 % 86400 + 12 * 3600 + 600);
  auto run = std::make_shared<PolicyGateRun>();
  Result<reconcile::UnitGate> gate = BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "abc", {}, clock, nullptr}, run);
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  reconcile::GateVerdict frozen = (*gate)(env.units[0], Web("nginx:latest"));  // no policies: objects unchecked
  EXPECT_FALSE(frozen.allow);
  std::optional<std::chrono::system_clock::time_point> retry = run->RetryAt();
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(retry->time_since_epoch()).count(),
            clock->NowUnixSeconds() - 600 + 3600);
  clock->Advance(3000);
  EXPECT_TRUE((*gate)(env.units[0], Web("nginx:latest")).allow);
  EXPECT_FALSE(run->RetryAt().has_value());
}

// A history that answers from a fixed set of (environment, revision).
class FixedHistory final : public policy::HealthHistory {
 public:
  explicit FixedHistory(std::set<std::string> healthy) : healthy_(std::move(healthy)) {}
  Result<bool> WasHealthy(std::string_view revision, std::string_view environment) const override {
    ++asked;
    return healthy_.count(std::string(environment) + " " + std::string(revision)) > 0;
  }
  mutable int asked = 0;

 private:
  std::set<std::string> healthy_;
};

// spec.promotion.after is a promotion rule for every unit: the revision
// passes once the history shows it healthy upstream, is retried until then,
// and without a history the unit is held with a message saying why.
TEST(PolicyGate, PromotionAfterAnEarlierEnvironment) {
  config::EnvironmentSpec env = Environment("  promotion: {after: staging}\n");
  ASSERT_TRUE(env.gated());
  manifest::MemoryFileSystem fs;
  auto history = std::make_shared<FixedHistory>(std::set<std::string>{"staging good"});
  auto run = std::make_shared<PolicyGateRun>();
  Result<reconcile::UnitGate> gate =
      BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "good", {}, nullptr, history}, run);
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  EXPECT_TRUE((*gate)(env.units[0], Web("nginx:1.25")).allow);
  EXPECT_EQ(history->asked, 1);

  auto held = std::make_shared<PolicyGateRun>();
  gate = BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "fresh", {}, nullptr, history}, held);
  ASSERT_TRUE(gate.ok());
  reconcile::GateVerdict denied = (*gate)(env.units[0], Web("nginx:1.25"));
  EXPECT_FALSE(denied.allow);
  ASSERT_FALSE(denied.messages.empty());
  EXPECT_NE(denied.messages[0].find("fresh has not been recorded healthy in staging"), std::string::npos)
      << denied.messages[0];
  EXPECT_TRUE(held->RetryAt().has_value());  // asked again later, without a new commit

  gate = BuildPolicyGate(PolicyGateInput{&env, &fs, "prod", "good", {}, nullptr, nullptr},
                         std::make_shared<PolicyGateRun>());
  ASSERT_TRUE(gate.ok());
  reconcile::GateVerdict blind = (*gate)(env.units[0], Web("nginx:1.25"));
  EXPECT_FALSE(blind.allow);
  ASSERT_FALSE(blind.messages.empty());
  EXPECT_NE(blind.messages[0].find("no health history"), std::string::npos) << blind.messages[0];
}

// Units sharing a lock roll out one at a time: the second waits until the
// first lets go; a shutdown ends the wait with no hold.
TEST(PolicyGate, RolloutHoldWaitsForTheLockAndGivesUpOnShutdown) {
  policy::ConcurrencyRule rule;
  rule.locks.push_back(policy::LockRule{"orders-db", {"orders", "billing"}});
  std::atomic<bool> running{true};
  reconcile::UnitHold hold = MakeRolloutHold(rule, [&] { return running.load(); }, std::chrono::milliseconds(5));
  config::UnitSpec orders, billing, web;
  orders.name = "orders";
  billing.name = "billing";
  web.name = "web";
  std::shared_ptr<void> first = hold(orders);
  ASSERT_NE(first, nullptr);
  EXPECT_NE(hold(web), nullptr);  // takes no lock: never waits
  std::atomic<bool> granted{false};
  std::thread second([&] {
    std::shared_ptr<void> h = hold(billing);
    granted = h != nullptr;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(granted.load());  // still waiting for orders-db
  first.reset();
  second.join();
  EXPECT_TRUE(granted.load());

  std::shared_ptr<void> again = hold(orders);
  ASSERT_NE(again, nullptr);
  running = false;
  EXPECT_EQ(hold(billing), nullptr);  // shutdown: no hold, no wait
}

TEST(PolicyGate, TrailersComeFromTheLastParagraph) {
  std::vector<policy::Trailer> t = ParseTrailers(
      "Fix it\n\nBody text: not a trailer\nmore\n\nApproved-by: bob@example.com\nKeelson-Override: incident 42\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].key, "Approved-by");
  EXPECT_EQ(t[0].value, "bob@example.com");
  EXPECT_EQ(t[1].value, "incident 42");
  EXPECT_TRUE(ParseTrailers("Subject only\n").empty());
  EXPECT_TRUE(ParseTrailers("Subject\n\nJust a sentence.\n").empty());
}

}  // namespace
}  // namespace keelson::daemon
