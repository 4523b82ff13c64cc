#include <gtest/gtest.h>

#include "agent/reconcile/applier.h"
#include "tests/unit/agent/cluster/fake_clock.h"
#include "tests/unit/agent/reconcile/simulated_cluster.h"

namespace keelson::reconcile {
namespace {

manifest::ObjectList Objects(const std::string& yaml) {
  Result<manifest::ObjectList> objs = manifest::ParseObjects(yaml, "unit.yaml");
  EXPECT_TRUE(objs.ok()) << (objs.ok() ? "" : objs.error().ToString());
  return objs.ok() ? std::move(objs).value() : manifest::ObjectList{};
}

std::string Deployment(const std::string& name, const std::string& image, const std::string& wave = "0") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
         "\n  namespace: app\n  annotations: {keelson.dev/wave: \"" + wave +
         "\"}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        image: " +
         image + "\n";
}

const std::string kNamespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n";
const std::string kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: app}\ndata: {a: \"1\"}\n";

std::vector<Wave> Plan(const std::string& yaml) {
  Result<std::vector<Wave>> waves = PlanWaves(Objects(yaml));
  EXPECT_TRUE(waves.ok());
  return waves.ok() ? std::move(waves).value() : std::vector<Wave>{};
}

std::vector<std::string> Applies(const cluster::FakeClusterClient& fake) {
  std::vector<std::string> out;
  for (const cluster::FakeCall& c : fake.calls()) {
    if (c.verb == "apply" || c.verb == "delete") out.push_back(c.verb + " " + c.target);
  }
  return out;
}

TEST(UnitApplier, AppliesWaveByWaveWaitingForHealth) {
  testing::SimulatedCluster cluster;
  cluster.ready_after_polls = 3;
  cluster::testing::FakeClock clock;
  std::vector<std::string> healthy_waves;
  ApplierOptions options;
  options.on_wave = [&](const WaveResult& w) { healthy_waves.push_back(w.label); };
  UnitApplier applier(cluster, clock, options);
  UnitResult r = applier.Apply(Plan(kNamespace + "---\n" + Deployment("db", "postgres:16", "-1") + "---\n" +
                                    Deployment("web", "nginx:1.25") + "---\n" + kConfigMap),
                               nullptr);
  ASSERT_TRUE(r.healthy) << (r.failure ? r.failure->ToString() : "");
  EXPECT_EQ(healthy_waves, (std::vector<std::string>{"foundation", "wave -1", "wave 0"}));
  EXPECT_EQ(Applies(cluster.fake), (std::vector<std::string>{"apply v1/Namespace/app", "apply apps/v1/Deployment/app/db",
                                                               "apply v1/ConfigMap/app/cfg",
                                                               "apply apps/v1/Deployment/app/web"}));
  // db had to be polled three times before wave 0 started.
  EXPECT_GE(clock.slept(), std::chrono::milliseconds(500 + 1000));
  ASSERT_EQ(r.waves.size(), 3u);
  EXPECT_EQ(r.waves[1].objects[0].action, ObjectAction::kCreated);
}

TEST(UnitApplier, SecondApplyIsUnchanged) {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  UnitApplier applier(cluster, clock, {});
  auto waves = Plan(kConfigMap);
  ASSERT_TRUE(applier.Apply(waves, nullptr).healthy);
  UnitResult again = applier.Apply(waves, nullptr);
  ASSERT_TRUE(again.healthy);
  EXPECT_EQ(again.waves[0].objects[0].action, ObjectAction::kUnchanged);
}

TEST(UnitApplier, FailingRolloutStopsLaterWaves) {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  UnitApplier applier(cluster, clock, {});
  UnitResult r =
      applier.Apply(Plan(Deployment("web", "nginx:broken") + "---\n" + Deployment("late", "nginx", "1")), nullptr);
  EXPECT_FALSE(r.healthy);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_NE(r.failure->message.find("ProgressDeadlineExceeded"), std::string::npos) << r.failure->message;
  ASSERT_TRUE(r.unhealthy_object.has_value());
  EXPECT_EQ(r.unhealthy_object->name, "web");
  EXPECT_EQ(Applies(cluster.fake), std::vector<std::string>{"apply apps/v1/Deployment/app/web"});
}

TEST(UnitApplier, HealthTimeoutIsReported) {
  testing::SimulatedCluster cluster;
  cluster.ready_after_polls = 1000;
  cluster::testing::FakeClock clock;
  ApplierOptions options;
  options.health_timeout = std::chrono::seconds(30);
  UnitApplier applier(cluster, clock, options);
  UnitResult r = applier.Apply(Plan(Deployment("web", "nginx")), nullptr);
  EXPECT_FALSE(r.healthy);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_NE(r.failure->message.find("not healthy within"), std::string::npos);
  EXPECT_NE(r.failure->message.find("0 of 2 replicas"), std::string::npos) << r.failure->message;
  EXPECT_LE(clock.slept(), std::chrono::seconds(31));
}

TEST(UnitApplier, PrunesWhatLeftTheRenderInReverseOrder) {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  UnitApplier applier(cluster, clock, {});
  auto first = Plan(kNamespace + "---\n" + kConfigMap + "---\n" + Deployment("web", "nginx"));
  ASSERT_TRUE(applier.Apply(first, nullptr).healthy);
  Inventory previous{"app", "rev1", ObjectIds(first)};
  // The second render keeps only the ConfigMap: the Deployment and the
  // Namespace are pruned, the Namespace last.
  cluster.fake.ClearCalls();
  UnitResult r = applier.Apply(Plan(kConfigMap), &previous);
  ASSERT_TRUE(r.healthy);
  EXPECT_EQ(Applies(cluster.fake), (std::vector<std::string>{"apply v1/ConfigMap/app/cfg",
                                                               "delete apps/v1/Deployment/app/web",
                                                               "delete v1/Namespace/app"}));
  EXPECT_EQ(r.pruned.size(), 2u);
}

TEST(UnitApplier, PruneOptOutAnnotationIsHonoured) {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  UnitApplier applier(cluster, clock, {});
  std::string kept = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: app\n"
                     "  annotations: {keelson.dev/prune: disabled}\n";
  auto first = Plan(kConfigMap + "---\n" + kept);
  ASSERT_TRUE(applier.Apply(first, nullptr).healthy);
  Inventory previous{"app", "rev1", ObjectIds(first)};
  UnitResult r = applier.Apply(Plan(kConfigMap), &previous);
  ASSERT_TRUE(r.healthy);
  EXPECT_TRUE(r.pruned.empty());
  EXPECT_TRUE(cluster.fake.Stored(manifest::ResourceId{"", "v1", "ConfigMap", "app", "keep"}).has_value());
}

TEST(UnitApplier, EmptyRenderNeverPrunesEverythingUnlessAllowed) {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  auto first = Plan(kConfigMap);
  UnitApplier applier(cluster, clock, {});
  ASSERT_TRUE(applier.Apply(first, nullptr).healthy);
  Inventory previous{"app", "rev1", ObjectIds(first)};
  cluster.fake.ClearCalls();
  UnitResult r = applier.Apply({}, &previous);
  EXPECT_FALSE(r.healthy);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_NE(r.failure->message.find("allowEmptyRender"), std::string::npos);
  EXPECT_TRUE(Applies(cluster.fake).empty());

  ApplierOptions allow;
  allow.allow_empty = true;
  UnitApplier permissive(cluster, clock, allow);
  UnitResult pruned = permissive.Apply({}, &previous);
  EXPECT_TRUE(pruned.healthy);
  EXPECT_EQ(pruned.pruned.size(), 1u);
}

// Every call can fail; whichever does, the applier reports a failure and
// never crashes or claims success.
TEST(UnitApplier, EveryInjectedFailureIsReported) {
  for (std::size_t n = 1; n <= 12; ++n) {
    testing::SimulatedCluster cluster;
    cluster::testing::FakeClock clock;
    auto first = Plan(kNamespace + "---\n" + kConfigMap + "---\n" + Deployment("web", "nginx"));
    UnitApplier applier(cluster, clock, {});
    ASSERT_TRUE(applier.Apply(first, nullptr).healthy);
    Inventory previous{"app", "rev1", ObjectIds(first)};
    cluster.fake.ClearCalls();
    cluster.fake.FailAtCall(n, MakeError(ErrorCode::kInvalidInput, "injected"));
    UnitResult r = applier.Apply(Plan(kConfigMap + "---\n" + Deployment("web", "nginx:2")), &previous);
    std::size_t calls = cluster.fake.calls().size();
    if (n <= calls) {
      EXPECT_FALSE(r.healthy) << "call " << n;
      ASSERT_TRUE(r.failure.has_value()) << "call " << n;
    } else {
      EXPECT_TRUE(r.healthy) << "call " << n;
    }
  }
}

}  // namespace
}  // namespace keelson::reconcile
