#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "agent/reconcile/environment_reconciler.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/cluster/fake_clock.h"
#include "tests/unit/agent/reconcile/simulated_cluster.h"

namespace keelson::reconcile {
namespace {

const char* kEnv = R"(apiVersion: keelson.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  units:
  - name: web
    path: web
    namespace: app
    dependsOn: [infra]
  - name: infra
    path: infra
)";

std::string Deployment(const std::string& image) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  template:\n"
         "    spec:\n      containers: [{name: web, image: " + image + "}]\n";
}

struct Fixture {
  testing::SimulatedCluster cluster;
  cluster::testing::FakeClock clock;
  BuiltinUnitRenderer renderer;
  keelson::testing::TempDir state;
  FileInventoryStore inventory{state.path() + "/inventory"};
  UnitStateStore states{state.path() + "/units"};
  config::EnvironmentSpec env;
  std::vector<std::string> waves;

  Fixture() {
    Result<config::EnvironmentSpec> e = config::ParseEnvironment(kEnv, "keelson.yaml", "repo");
    EXPECT_TRUE(e.ok());
    env = std::move(e).value();
  }

  EnvironmentOutcome Run(const manifest::MemoryFileSystem& fs, const std::string& revision, UnitGate gate = {}) {
    ReconcilerOptions options;
    options.gate = std::move(gate);
    options.on_wave = [&](const std::string& unit, const WaveResult& w) { waves.push_back(unit + " " + w.label); };
    EnvironmentReconciler r(cluster, clock, renderer, inventory, states, options);
    ReconcileRequest req;
    req.revision = revision;
    req.sources["repo"] = SourceRevision{revision, "alice@example.com", &fs};
    req.environment = &env;
    return r.Reconcile(req);
  }
};

manifest::MemoryFileSystem Repo(const std::string& image) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("infra/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n");
  fs.AddFile("web/deploy.yaml", Deployment(image));
  return fs;
}

TEST(EnvironmentReconciler, AppliesDependenciesFirstAndLabelsObjects) {
  Fixture f;
  EnvironmentOutcome out = f.Run(Repo("nginx:1"), "rev1");
  ASSERT_TRUE(out.healthy);
  EXPECT_EQ(f.waves, (std::vector<std::string>{"infra foundation", "web wave 0"}));
  auto stored = f.cluster.fake.Stored(manifest::ResourceId{"apps", "v1", "Deployment", "app", "web"});
  ASSERT_TRUE(stored.has_value());  // the unit namespace was filled in
  EXPECT_EQ(stored->FindPath({"metadata", "labels", "keelson.dev/unit"})->AsString(), "web");
  ASSERT_EQ(out.units.size(), 2u);
  EXPECT_EQ(out.units[0].status, UnitStatus::kApplied);
  EXPECT_EQ(out.units[0].object_digests.size(), 1u);
  EXPECT_EQ(out.units[0].object_digests[0].size(), 64u);
  // The same revision again is a no-op.
  f.cluster.fake.ClearCalls();
  EnvironmentOutcome again = f.Run(Repo("nginx:1"), "rev1");
  EXPECT_EQ(again.units[0].status, UnitStatus::kUnchanged);
  for (const auto& c : f.cluster.fake.calls()) EXPECT_NE(c.verb, "apply");
}

TEST(EnvironmentReconciler, FailingRevisionRollsBackAndIsNotRetried) {
  Fixture f;
  ASSERT_TRUE(f.Run(Repo("nginx:1"), "rev1").healthy);
  EnvironmentOutcome bad = f.Run(Repo("nginx:broken"), "rev2");
  EXPECT_FALSE(bad.healthy);
  const UnitOutcome& web = bad.units[0];
  EXPECT_EQ(web.status, UnitStatus::kRolledBack);
  EXPECT_EQ(web.rolled_back_to, "rev1");
  auto stored = f.cluster.fake.Stored(manifest::ResourceId{"apps", "v1", "Deployment", "app", "web"});
  EXPECT_NE(manifest::EmitYaml(*stored).find("nginx:1"), std::string::npos);
  Result<UnitState> state = f.states.Load("web");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->IsBad("rev2"));
  EXPECT_EQ(state->health, "RolledBack");
  f.cluster.fake.ClearCalls();
  EnvironmentOutcome retry = f.Run(Repo("nginx:broken"), "rev2");
  EXPECT_EQ(retry.units[0].status, UnitStatus::kSkipped);
  for (const auto& c : f.cluster.fake.calls()) EXPECT_NE(c.verb, "apply");
  EXPECT_TRUE(f.Run(Repo("nginx:2"), "rev3").healthy);
}

TEST(EnvironmentReconciler, RenderFailureAndDenialApplyNothing) {
  Fixture f;
  manifest::MemoryFileSystem broken = Repo("nginx:1");
  broken.AddFile("web/bad.yaml", "apiVersion: v1\nkind: [\n");
  EnvironmentOutcome out = f.Run(broken, "rev1");
  EXPECT_EQ(out.units[0].status, UnitStatus::kRenderFailed);
  EXPECT_EQ(out.units[0].error->where.file, "web/bad.yaml");
  EXPECT_FALSE(f.cluster.fake.Stored(manifest::ResourceId{"apps", "v1", "Deployment", "app", "web"}).has_value());

  Fixture g;
  EnvironmentOutcome denied = g.Run(Repo("nginx:1"), "rev1", [](const config::UnitSpec& u, const manifest::ObjectList&) {
    return GateVerdict{u.name != "infra", {"infra: change window closed"}};
  });
  EXPECT_EQ(denied.units[1].status, UnitStatus::kDenied);
  EXPECT_EQ(denied.units[0].status, UnitStatus::kBlocked);  // web waits for infra
  EXPECT_EQ(g.cluster.fake.StoredCount(), 0u);
}

// The hold is taken before a unit's first apply and kept until it is done:
// two units of one level that share it never apply at the same time, even
// with a worker each; a refused hold applies nothing.
TEST(EnvironmentReconciler, HeldUnitsApplyOneAtATime) {
  Fixture f;
  Result<config::EnvironmentSpec> e = config::ParseEnvironment(
      "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  units:\n"
      "  - {name: a, path: a, namespace: app}\n  - {name: b, path: b, namespace: app}\n",
      "keelson.yaml", "repo");
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  f.env = std::move(e).value();
  manifest::MemoryFileSystem fs;
  for (const char* unit : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) {
      fs.AddFile(std::string(unit) + "/cm" + std::to_string(i) + ".yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + std::string(unit) + std::to_string(i) + "}\n");
    }
  }
  std::mutex lock;  // the one lock both units take
  std::mutex log_mu;
  std::map<std::string, std::pair<std::size_t, std::size_t>> windows;  // unit -> calls at take and release
  struct Release {
    std::function<void()> fn;
    ~Release() { fn(); }
  };
  ReconcilerOptions options;
  options.workers = 2;
  options.hold = [&](const config::UnitSpec& unit) -> std::shared_ptr<void> {
    lock.lock();
    {
      std::lock_guard g(log_mu);
      windows[unit.name].first = f.cluster.fake.calls().size();
    }
    auto release = std::make_shared<Release>();
    release->fn = [&, name = unit.name] {
      {
        std::lock_guard g(log_mu);
        windows[name].second = f.cluster.fake.calls().size();
      }
      lock.unlock();
    };
    return release;
  };
  EnvironmentReconciler r(f.cluster, f.clock, f.renderer, f.inventory, f.states, options);
  ReconcileRequest req;
  req.revision = "rev1";
  req.sources["repo"] = SourceRevision{"rev1", "alice@example.com", &fs};
  req.environment = &f.env;
  EnvironmentOutcome out = r.Reconcile(req);
  ASSERT_TRUE(out.healthy);
  std::vector<cluster::FakeCall> calls = f.cluster.fake.calls();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].verb != "apply") continue;
    std::string unit = calls[i].target.substr(calls[i].target.rfind('/') + 1, 1);
    ASSERT_TRUE(windows.count(unit)) << calls[i].target;
    EXPECT_GE(i, windows[unit].first) << calls[i].target;
    EXPECT_LT(i, windows[unit].second) << calls[i].target;
  }
  auto [a, b] = std::make_pair(windows["a"], windows["b"]);
  EXPECT_TRUE(a.second <= b.first || b.second <= a.first) << a.first << "-" << a.second << " " << b.first << "-" << b.second;

  ReconcilerOptions refusing;
  refusing.hold = [](const config::UnitSpec&) { return std::shared_ptr<void>(); };
  EnvironmentReconciler stopped(f.cluster, f.clock, f.renderer, f.inventory, f.states, refusing);
  fs.AddFile("a/cm0.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a0}\ndata: {k: v}\n");
  f.cluster.fake.ClearCalls();
  req.revision = "rev2";
  req.sources["repo"] = SourceRevision{"rev2", "alice@example.com", &fs};
  EnvironmentOutcome held_back = stopped.Reconcile(req);
  EXPECT_FALSE(held_back.healthy);
  for (const auto& c : f.cluster.fake.calls()) EXPECT_NE(c.verb, "apply") << c.target;
}

}  // namespace
}  // namespace keelson::reconcile
