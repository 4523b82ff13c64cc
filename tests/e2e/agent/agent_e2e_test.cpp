// The agent end to end: a real sandbox API server, a real git daemon
// remote with ssh-signed commits, and `keelson agent` as its own process.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "tests/e2e/agent/agent_harness.h"

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
  - name: infra
    path: infra
  - name: db
    path: db
    namespace: app
    dependsOn: [infra]
    healthTimeout: 20s
  - name: web
    path: web
    namespace: app
    dependsOn: [db]
    healthTimeout: 8s
    drift: correct
)";

std::string Deployment(const std::string& name, const std::string& image, const std::string& wave = "") {
  std::string annotations = wave.empty() ? "" : "\n  annotations: {keelson.dev/wave: \"" + wave + "\"}";
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + annotations +
         "\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " +
         name + "}}\n    spec:\n      containers: [{name: main, image: \"" + image + "\"}]\n";
}

std::string ConfigMap(const std::string& name, const std::string& wave = "") {
  std::string annotations = wave.empty() ? "" : "\n  annotations: {argocd.argoproj.io/sync-wave: \"" + wave + "\"}";
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + annotations + "\ndata: {k: v}\n";
}

std::map<std::string, std::string> BaseRepo() {
  return {{"clusters/dev/keelson.yaml", kEnvironment},
          {"infra/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"},
          {"db/deployment.yaml", Deployment("db", "postgres:16", "-1")},
          {"db/settings.yaml", ConfigMap("db-settings", "1")},
          {"web/deployment.yaml", Deployment("web", "nginx:1.25")},
          {"web/config.yaml", ConfigMap("web-config")}};
}

std::string Image(const manifest::Node& deployment) {
  const manifest::Node* containers = deployment.FindPath({"spec", "template", "spec", "containers"});
  return containers != nullptr && !containers->empty() ? containers->items()[0].GetString("image") : "";
}

std::int64_t Replicas(const manifest::Node& deployment) {
  const manifest::Node* r = deployment.FindPath({"spec", "replicas"});
  return r != nullptr && r->IsInt() ? r->AsInt() : -1;
}

std::size_t IndexOf(const std::vector<std::string>& log, const std::string& entry) {
  auto it = std::find(log.begin(), log.end(), entry);
  return it == log.end() ? log.size() : static_cast<std::size_t>(it - log.begin());
}

// Every declared unit has been reconciled and is healthy without drift.
bool Healthy(const AgentHarness& h) {
  testing::ProcessResult r = h.Keelson({"status", "--config", h.config_path()});
  return r.exit_code == 0 && r.out.find("\ninfra ") != std::string::npos &&
         r.out.find("\ndb ") != std::string::npos && r.out.find("\nweb ") != std::string::npos;
}

TEST(AgentEndToEnd, AppliesInDependsOnAndWaveOrder) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  std::vector<AgentHarness::SandboxRequest> timed = h.SandboxRequestLog();
  std::vector<std::string> log;
  for (const AgentHarness::SandboxRequest& r : timed) log.push_back(r.what);
  std::size_t ns = IndexOf(log, "PATCH /api/v1/namespaces/app");
  std::size_t db = IndexOf(log, "PATCH /apis/apps/v1/namespaces/app/deployments/db");
  std::size_t settings = IndexOf(log, "PATCH /api/v1/namespaces/app/configmaps/db-settings");
  std::size_t web = IndexOf(log, "PATCH /apis/apps/v1/namespaces/app/deployments/web");
  ASSERT_LT(web, log.size()) << h.AgentLog();
  EXPECT_LT(ns, db);        // dependsOn: infra before db
  EXPECT_LT(db, settings);  // wave -1 before wave 1 inside db
  EXPECT_LT(settings, web); // dependsOn: db before web
  // The db Deployment had to be healthy before wave 1 started: the sandbox
  // rolls a Deployment out 200 ms after its apply (the harness's rollout
  // delay), and wave 1 came no earlier.
  EXPECT_GE(timed[settings].time - timed[db].time, 200ms);
  ASSERT_EQ(h.Keelson({"status", "--config", h.config_path()}).out.find("Failed"), std::string::npos);
}

TEST(AgentEndToEnd, PrunesDeletedFilesButNeverAnEmptyRender) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return !h.Get("configmap", "app", "web-config").IsNull(); }, 60s)) << h.AgentLog();
  h.Commit({{"web/config.yaml", ""}}, "drop the web config");
  EXPECT_TRUE(Eventually([&] { return h.Get("configmap", "app", "web-config").IsNull(); }, 30s)) << h.AgentLog();
  EXPECT_FALSE(h.Get("deployment", "app", "web").IsNull());
  // Removing every file of a unit must not delete what runs.
  h.Commit({{"web/deployment.yaml", ""}, {"web/README.md", "moved elsewhere\n"}}, "empty the unit");
  EXPECT_TRUE(Eventually([&] { return h.AgentLog().find("refusing to prune them all") != std::string::npos; }, 30s))
      << h.AgentLog();
  EXPECT_FALSE(h.Get("deployment", "app", "web").IsNull());
}

TEST(AgentEndToEnd, RollsBackAFailingImage) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  h.Commit({{"web/deployment.yaml", Deployment("web", "broken:2")}}, "ship a broken image");
  ASSERT_TRUE(Eventually([&] { return h.AgentLog().find("rolled-back") != std::string::npos; }, 60s)) << h.AgentLog();
  EXPECT_EQ(Image(h.Get("deployment", "app", "web")), "nginx:1.25");
  std::string status = h.Keelson({"status", "--config", h.config_path()}).out;
  EXPECT_NE(status.find("RolledBack"), std::string::npos) << status;
  // A fixed commit goes through.
  h.Commit({{"web/deployment.yaml", Deployment("web", "nginx:1.27")}}, "fix");
  EXPECT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.27"; }, 60s));
}

TEST(AgentEndToEnd, AnUnsignedCommitInTheRangeBlocksIt) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  h.StopAgent();
  std::string unsigned_commit = h.Commit({{"web/deployment.yaml", Deployment("web", "nginx:evil")}}, "sneak", "");
  h.Commit({{"web/config.yaml", ConfigMap("web-config-2")}}, "looks innocent", "alice");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return h.AgentLog().find("is not trusted") != std::string::npos; }, 60s))
      << h.AgentLog();
  EXPECT_NE(h.AgentLog().find(unsigned_commit.substr(0, 12)), std::string::npos);
  EXPECT_EQ(Image(h.Get("deployment", "app", "web")), "nginx:1.25");
  EXPECT_TRUE(h.Get("configmap", "app", "web-config-2").IsNull());
}

TEST(AgentEndToEnd, DriftIsCorrectedWithinSeconds) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  ASSERT_EQ(h.Kubectl({"patch", "deployment", "web", "-n", "app", "--type=merge", "-p", R"({"spec":{"replicas":7}})"})
                .exit_code,
            0);
  auto edited = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return Replicas(h.Get("deployment", "app", "web")) == 2; }, 10s)) << h.AgentLog();
  EXPECT_LT(std::chrono::steady_clock::now() - edited, 5s);
  EXPECT_NE(h.AgentLog().find("drift in unit web"), std::string::npos);
}

TEST(AgentEndToEnd, DiffShowsWhatTheNextReconcileWouldChange) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  testing::ProcessResult same = h.Keelson({"diff", "--config", h.config_path()});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_EQ(same.out, "");
  // db only detects drift, so the edit stays and diff shows it.
  ASSERT_EQ(h.Kubectl({"patch", "deployment", "db", "-n", "app", "--type=merge", "-p", R"({"spec":{"replicas":4}})"})
                .exit_code,
            0);
  testing::ProcessResult changed = h.Keelson({"diff", "--config", h.config_path(), "--unit", "db"});
  EXPECT_EQ(changed.exit_code, 1) << changed.out << changed.err;
  EXPECT_NE(changed.out.find("--- live/db: apps/v1/Deployment/app/db"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("-  replicas: 4\n+  replicas: 2"), std::string::npos) << changed.out;
}

// dependsOn between units of different renderers: a chart unit waits for a
// Kustomize unit.
TEST(AgentEndToEnd, ChartUnitWaitsForKustomizeUnit) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit({{"clusters/dev/keelson.yaml", R"(apiVersion: keelson.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  units:
  - name: ns
    path: ns
  - name: charted
    path: charts/hello
    namespace: app
    values: [charts/values-dev.yaml]
    dependsOn: [overlay]
  - name: overlay
    path: apps/web/overlays/dev
    dependsOn: [ns]
)"},
            {"ns/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"},
            {"apps/web/base/kustomization.yaml", "namespace: app\nresources: [deployment.yaml]\n"},
            {"apps/web/base/deployment.yaml", Deployment("web", "nginx:1.25")},
            {"apps/web/overlays/dev/kustomization.yaml", "resources: [../../base]\nnamePrefix: dev-\n"},
            {"charts/hello/Chart.yaml", "apiVersion: v2\nname: hello\nversion: 0.1.0\n"},
            {"charts/hello/values.yaml", "greeting: hi\n"},
            {"charts/values-dev.yaml", "greeting: hello from dev\n"},
            {"charts/hello/templates/cm.yaml",
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
             "data:\n  greeting: {{ .Values.greeting | quote }}\n"}},
           "kustomize and helm units");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return !h.Get("configmap", "app", "charted-greeting").IsNull(); }, 60s))
      << h.AgentLog();
  std::vector<AgentHarness::SandboxRequest> timed = h.SandboxRequestLog();
  std::vector<std::string> log;
  for (const AgentHarness::SandboxRequest& r : timed) log.push_back(r.what);
  std::size_t overlay = IndexOf(log, "PATCH /apis/apps/v1/namespaces/app/deployments/dev-web");
  std::size_t chart = IndexOf(log, "PATCH /api/v1/namespaces/app/configmaps/charted-greeting");
  ASSERT_LT(overlay, log.size()) << h.AgentLog();
  EXPECT_LT(overlay, chart);
  // The overlay's Deployment was healthy before the chart started: no
  // earlier than its 200 ms rollout in the sandbox.
  EXPECT_GE(timed[chart].time - timed[overlay].time, 200ms);
  manifest::Node cm = h.Get("configmap", "app", "charted-greeting");
  EXPECT_EQ(cm.FindPath({"data", "greeting"})->AsString(), "hello from dev");
}

TEST(AgentEndToEnd, ConvergesAfterKill9InTheMiddleOfAWave) {
  testing::AgentHarnessOptions slow;
  slow.rollout_delay = "3s";
  AgentHarness h(slow);
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  // Kill the agent while it waits for db's first wave to become healthy.
  ASSERT_TRUE(Eventually(
      [&] {
        std::vector<std::string> log = h.SandboxRequests();
        return IndexOf(log, "PATCH /apis/apps/v1/namespaces/app/deployments/db") < log.size();
      },
      60s));
  h.KillAgent();
  EXPECT_TRUE(h.Get("configmap", "app", "db-settings").IsNull());  // wave 1 had not started
  h.StartAgent();
  EXPECT_TRUE(Eventually([&] { return Healthy(h); }, 90s)) << h.AgentLog();
  EXPECT_FALSE(h.Get("deployment", "app", "web").IsNull());
}

}  // namespace
}  // namespace keelson

namespace keelson {
namespace {

// The status page in a real browser, and /metrics through Prometheus'
// own parser.
TEST(AgentEndToEnd, StatusPageAndMetrics) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit(BaseRepo(), "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Healthy(h); }, 60s)) << h.AgentLog();
  int port = h.AgentPort();
  ASSERT_GT(port, 0) << h.AgentLog();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  testing::ProcessResult metrics = testing::RunProgram({"curl", "-sf", base + "/metrics"});
  ASSERT_EQ(metrics.exit_code, 0);
  EXPECT_NE(metrics.out.find("keelson_unit_healthy{unit=\"web\"} 1"), std::string::npos) << metrics.out;
  EXPECT_NE(metrics.out.find("keelson_signature_verifications_total{format=\"ssh\",verdict=\"trusted\"}"),
            std::string::npos);
  if (testing::HaveProgram("/usr/bin/python3")) {
    testing::ProcessResult parsed = testing::RunProgram(
        {"/usr/bin/python3", "-c",
         "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n"
         "print(sum(len(f.samples) for f in text_string_to_metric_families(sys.stdin.read())))\n"},
        metrics.out);
    if (parsed.err.find("No module named") == std::string::npos) {
      EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
      EXPECT_GT(std::atoi(parsed.out.c_str()), 10);
    }
  }
  if (!testing::HaveProgram("chromium")) GTEST_SKIP() << "chromium not installed";
  std::string shot = h.dir() + "/status.png";
  std::vector<std::string> chrome = {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                     "--disable-sync", "--user-data-dir=" + h.dir() + "/chrome",
                                     "--window-size=412,915"};
  std::vector<std::string> screenshot = chrome;
  screenshot.push_back("--screenshot=" + shot);
  screenshot.push_back(base + "/");
  testing::ProcessResult s = testing::RunProgram(screenshot, "", "", 120);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::string png = testing::ReadFileOrDie(shot);
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  std::vector<std::string> dom = chrome;
  dom.push_back("--dump-dom");
  dom.push_back(base + "/");
  testing::ProcessResult d = testing::RunProgram(dom, "", "", 120);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  for (const char* unit : {"infra", "db", "web"}) EXPECT_NE(d.out.find(unit), std::string::npos) << unit;
  EXPECT_NE(d.out.find("alice@example.com"), std::string::npos);
  EXPECT_NE(d.out.find("Healthy"), std::string::npos);
  if (const char* keep = std::getenv("KEELSON_STATUS_SCREENSHOT")) {
    testing::RunProgram({"cp", shot, keep});
  }
}

}  // namespace
}  // namespace keelson
