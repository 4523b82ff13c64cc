// The real kubectl against `keelson sandbox`: server-side apply of a
// multi-kind manifest with a CRD and a custom resource, get -o yaml, diff,
// wait, rollout status, delete, get --watch, restarts, TLS and tokens.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "renderers/manifest/yaml.h"
#include "tests/testing/background_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::testing {
namespace {

using manifest::Node;
using namespace std::chrono_literals;

constexpr const char* kManifest = R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: shop
spec:
  size: 3
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// One sandbox process and the kubeconfig it wrote.
class Sandbox {
 public:
  explicit Sandbox(const std::string& state_dir, std::vector<std::string> extra = {}) : state_dir_(state_dir) {
    kubeconfig_ = dir_.path() + "/kubeconfig";
    std::vector<std::string> argv = {KEELSON_BINARY, "sandbox", "--listen", "127.0.0.1:0", "--state-dir", state_dir,
                                     "--kubeconfig-out", kubeconfig_, "--rollout-delay", "300ms",
                                     "--fail-images", "broken*"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<BackgroundProcess>(argv, dir_.path() + "/stderr");
    address_ = process_->FirstLine(30s);
  }
  const std::string& address() const { return address_; }
  const std::string& kubeconfig() const { return kubeconfig_; }
  std::string stderr_text() const { return ReadFileOrDie(dir_.path() + "/stderr"); }
  int Stop() { return process_->Stop(); }

  // kubectl with this sandbox's kubeconfig and a private discovery cache.
  std::vector<std::string> Kubectl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig_, "--cache-dir", dir_.path() + "/cache",
                                      "--request-timeout", "20s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  ProcessResult Run(std::vector<std::string> args, const std::string& stdin_text = "") const {
    return RunProgram(Kubectl(std::move(args)), stdin_text, "", 60);
  }

 private:
  TempDir dir_;
  std::string state_dir_;
  std::string kubeconfig_;
  std::string address_;
  std::unique_ptr<BackgroundProcess> process_;
};

class KubectlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_ = new TempDir();
    sandbox_ = new Sandbox(state_->path() + "/state");
  }
  static void TearDownTestSuite() {
    delete sandbox_;
    delete state_;
  }
  void SetUp() override {
    if (!HaveProgram("kubectl")) GTEST_SKIP() << "kubectl is not installed";
    ASSERT_FALSE(sandbox_->address().empty()) << sandbox_->stderr_text();
  }
  Node Yaml(const std::string& text) {
    manifest::ParseOptions options;
    options.file = "kubectl output";
    Result<Node> node = manifest::ParseYaml(text, options);
    EXPECT_TRUE(node.ok()) << text;
    return node.ok() ? *node : Node();
  }

  static TempDir* state_;
  static Sandbox* sandbox_;
};

TempDir* KubectlTest::state_ = nullptr;
Sandbox* KubectlTest::sandbox_ = nullptr;

TEST_F(KubectlTest, ServerSideApplyGetDiffWaitDelete) {
  TempDir files;
  std::string manifest = files.Write("app.yaml", kManifest);

  // kubectl checks every object before it sends the first one, so the
  // custom resource of a CRD applied in the same run fails once, exactly
  // as against a real cluster; the second run applies it.
  ProcessResult first = sandbox_->Run({"apply", "--server-side", "-f", manifest});
  EXPECT_NE(first.out.find("customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied"),
            std::string::npos)
      << first.out << first.err;
  EXPECT_NE(first.out.find("deployment.apps/web serverside-applied"), std::string::npos) << first.out << first.err;
  ProcessResult second = sandbox_->Run({"apply", "--server-side", "-f", manifest});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("widget.example.com/gear serverside-applied"), std::string::npos) << second.out;

  ProcessResult got = sandbox_->Run({"get", "deployment", "web", "-n", "shop", "-o", "yaml", "--show-managed-fields"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  Node deployment = Yaml(got.out);
  EXPECT_EQ(deployment.FindPath({"spec", "replicas"})->AsInt(), 2);
  EXPECT_EQ(deployment.FindPath({"spec", "strategy", "type"})->AsString(), "RollingUpdate");
  EXPECT_EQ(deployment.FindPath({"spec", "revisionHistoryLimit"})->AsInt(), 10);
  EXPECT_EQ(deployment.FindPath({"spec", "progressDeadlineSeconds"})->AsInt(), 600);
  const Node& container = deployment.FindPath({"spec", "template", "spec", "containers"})->items()[0];
  EXPECT_EQ(container.GetString("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(container.GetString("terminationMessagePath"), "/dev/termination-log");
  const Node& managed = *deployment.FindPath({"metadata", "managedFields"});
  ASSERT_GE(managed.size(), 1u);
  EXPECT_EQ(managed.items()[0].GetString("manager"), "kubectl");
  EXPECT_EQ(managed.items()[0].GetString("operation"), "Apply");
  EXPECT_NE(managed.items()[0].FindPath({"fieldsV1", "f:spec", "f:replicas"}), nullptr);

  ProcessResult service = sandbox_->Run({"get", "service", "web", "-n", "shop", "-o", "yaml"});
  Node svc = Yaml(service.out);
  EXPECT_EQ(svc.FindPath({"spec", "type"})->AsString(), "ClusterIP");
  EXPECT_EQ(svc.FindPath({"spec", "sessionAffinity"})->AsString(), "None");
  EXPECT_TRUE(svc.FindPath({"spec", "clusterIP"})->AsString().starts_with("10.96."));
  EXPECT_EQ(svc.FindPath({"spec", "ports"})->items()[0].FindPath({"targetPort"})->AsInt(), 80);

  ProcessResult widget = sandbox_->Run({"get", "widget", "gear", "-n", "shop", "-o", "yaml"});
  ASSERT_EQ(widget.exit_code, 0) << widget.err;
  EXPECT_EQ(Yaml(widget.out).FindPath({"spec", "size"})->AsInt(), 3);

  // The rollout settles first: kubectl diff shows status too, and a status
  // the controller writes between diff's read and its dry run would show.
  ProcessResult wait = sandbox_->Run({"wait", "--for=condition=Available", "deployment/web", "-n", "shop",
                                      "--timeout=30s"});
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
  EXPECT_NE(wait.out.find("condition met"), std::string::npos);

  // Nothing changed: both diff modes are silent and exit 0.
  ProcessResult same = sandbox_->Run({"diff", "-f", manifest});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_EQ(same.out, "");
  ProcessResult same_ssa = sandbox_->Run({"diff", "--server-side", "-f", manifest});
  EXPECT_EQ(same_ssa.exit_code, 0) << same_ssa.out << same_ssa.err;

  std::string changed = files.Write("changed.yaml", Replace(Replace(kManifest, "replicas: 2", "replicas: 3"),
                                                           "color: blue", "color: green"));
  for (const char* mode : {"--server-side=false", "--server-side"}) {
    ProcessResult diff = sandbox_->Run({"diff", mode, "-f", changed});
    EXPECT_EQ(diff.exit_code, 1) << mode << diff.out << diff.err;
    EXPECT_NE(diff.out.find("-  replicas: 2\n+  replicas: 3"), std::string::npos) << mode << diff.out;
    EXPECT_NE(diff.out.find("-  color: blue\n+  color: green"), std::string::npos) << mode << diff.out;
    EXPECT_EQ(diff.out.find("Service"), std::string::npos) << mode << diff.out;
  }

  ProcessResult established = sandbox_->Run({"wait", "--for=condition=Established",
                                             "crd/widgets.example.com", "--timeout=30s"});
  EXPECT_EQ(established.exit_code, 0) << established.out << established.err;

  // The widget goes with its CRD, so kubectl's delete of it afterwards
  // fails and kubectl skips its wait, as against a real cluster; the
  // namespace finishes terminating on its own.
  ProcessResult deleted = sandbox_->Run({"delete", "-f", manifest, "--timeout=60s"});
  EXPECT_NE(deleted.out.find("namespace \"shop\" deleted"), std::string::npos) << deleted.out << deleted.err;
  // The namespace's own cleanup may take the deployment before kubectl's
  // delete of it arrives (a busy machine, or a fast namespace controller on
  // a real cluster); then kubectl reports it not found.
  EXPECT_TRUE(deleted.out.find("deployment.apps \"web\" deleted") != std::string::npos ||
              deleted.err.find("deployments.apps \"web\" not found") != std::string::npos)
      << deleted.out << deleted.err;
  ProcessResult waited = sandbox_->Run({"wait", "--for=delete", "namespace/shop", "--timeout=30s"});
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  ProcessResult gone = sandbox_->Run({"get", "namespace", "shop"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("NotFound"), std::string::npos) << gone.err;
  ProcessResult crd_gone = sandbox_->Run({"get", "crd", "widgets.example.com"});
  EXPECT_NE(crd_gone.err.find("not found"), std::string::npos) << crd_gone.err;
}

TEST_F(KubectlTest, ConflictingManagersGet409UntilForced) {
  TempDir files;
  std::string ns = files.Write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: conflicts\n");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", ns}).exit_code, 0);
  std::string one = files.Write("one.yaml",
                                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: conflicts\n"
                                "data:\n  key: one\n");
  std::string two = files.Write("two.yaml",
                                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: conflicts\n"
                                "data:\n  key: two\n");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "--field-manager=alice", "-f", one}).exit_code, 0);
  ProcessResult conflict = sandbox_->Run({"apply", "--server-side", "--field-manager=bob", "-f", two});
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.err.find("conflict with \"alice\""), std::string::npos) << conflict.err;
  EXPECT_NE(conflict.err.find(".data.key"), std::string::npos) << conflict.err;
  ProcessResult forced =
      sandbox_->Run({"apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", two});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  ProcessResult value = sandbox_->Run({"get", "configmap", "c", "-n", "conflicts", "-o", "jsonpath={.data.key}"});
  EXPECT_EQ(value.out, "two");
}

TEST_F(KubectlTest, WatchSeesAnUpdate) {
  TempDir files;
  std::string ns = files.Write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: watched\n");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", ns}).exit_code, 0);
  std::string v1 = files.Write("v1.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n  namespace: watched\n"
                               "data:\n  step: first\n");
  std::string v2 = files.Write("v2.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n  namespace: watched\n"
                               "data:\n  step: second\n");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", v1}).exit_code, 0);
  BackgroundProcess watch(sandbox_->Kubectl({"get", "configmap", "w", "-n", "watched", "--watch", "-o",
                                             "jsonpath={.data.step}{\"\\n\"}"}),
                          files.path() + "/watch.err");
  ASSERT_TRUE(watch.WaitForOutput("first\n", 30s)) << watch.output();
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", v2}).exit_code, 0);
  EXPECT_TRUE(watch.WaitForOutput("second\n", 30s)) << watch.output();
}

TEST_F(KubectlTest, BrokenImageNeverBecomesAvailable) {
  TempDir files;
  std::string manifest = files.Write("broken.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: rehearsal
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: rehearsal
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: broken-registry/api:2
)");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", manifest}).exit_code, 0);
  ProcessResult rollout = sandbox_->Run({"rollout", "status", "deployment/api", "-n", "rehearsal", "--timeout=30s"});
  EXPECT_NE(rollout.exit_code, 0);
  EXPECT_NE(rollout.err.find("exceeded its progress deadline"), std::string::npos) << rollout.out << rollout.err;
  ProcessResult reason = sandbox_->Run(
      {"get", "deployment", "api", "-n", "rehearsal", "-o",
       "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"});
  EXPECT_EQ(reason.out, "ProgressDeadlineExceeded");
}

TEST_F(KubectlTest, JobsComplete) {
  TempDir files;
  std::string manifest = files.Write("job.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: batch
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: batch
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: tools/migrate:1
)");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", manifest}).exit_code, 0);
  ProcessResult wait = sandbox_->Run({"wait", "--for=condition=Complete", "job/migrate", "-n", "batch",
                                      "--timeout=30s"});
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
}

TEST_F(KubectlTest, RequestLogShowsApplyOrder) {
  TempDir files;
  std::string ns = files.Write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: waves\n");
  std::string cm = files.Write("cm.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n  namespace: waves\n");
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", ns}).exit_code, 0);
  ASSERT_EQ(sandbox_->Run({"apply", "--server-side", "-f", cm}).exit_code, 0);
  ProcessResult log = sandbox_->Run({"get", "--raw", "/sandbox/requests"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::size_t ns_patch = log.out.find(R"("method":"PATCH","path":"/api/v1/namespaces/waves")");
  std::size_t cm_patch = log.out.find(R"("method":"PATCH","path":"/api/v1/namespaces/waves/configmaps/first")");
  ASSERT_NE(ns_patch, std::string::npos) << log.out.substr(0, 2000);
  ASSERT_NE(cm_patch, std::string::npos);
  EXPECT_LT(ns_patch, cm_patch);
}

TEST(SandboxRestartTest, StateSurvivesARestart) {
  if (!HaveProgram("kubectl")) GTEST_SKIP() << "kubectl is not installed";
  TempDir state;
  TempDir files;
  std::string cm = files.Write("cm.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\n"
                               "data:\n  k: v\n");
  std::string rv_before;
  {
    Sandbox sandbox(state.path() + "/state");
    ASSERT_FALSE(sandbox.address().empty()) << sandbox.stderr_text();
    ASSERT_EQ(sandbox.Run({"apply", "--server-side", "-f", cm}).exit_code, 0);
    rv_before = sandbox.Run({"get", "configmap", "kept", "-o", "jsonpath={.metadata.resourceVersion}"}).out;
    EXPECT_EQ(sandbox.Stop(), 0);
  }
  Sandbox again(state.path() + "/state");
  ASSERT_FALSE(again.address().empty()) << again.stderr_text();
  ProcessResult got = again.Run({"get", "configmap", "kept", "-o", "jsonpath={.data.k} {.metadata.resourceVersion}"});
  EXPECT_EQ(got.out, "v " + rv_before) << got.err;
  std::string changed = files.Write("cm2.yaml",
                                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\n"
                                    "data:\n  k: w\n");
  ASSERT_EQ(again.Run({"apply", "--server-side", "-f", changed}).exit_code, 0);
  std::string rv_after = again.Run({"get", "configmap", "kept", "-o", "jsonpath={.metadata.resourceVersion}"}).out;
  EXPECT_GT(std::stoull(rv_after), std::stoull(rv_before));
}

TEST(SandboxTlsTest, KubectlTalksTlsWithAToken) {
  if (!HaveProgram("kubectl") || !HaveProgram("openssl")) GTEST_SKIP() << "kubectl or openssl missing";
  TempDir dir;
  ProcessResult cert = RunProgram({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=sandbox",
                                   "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.path() + "/key.pem",
                                   "-out", dir.path() + "/cert.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  Sandbox sandbox(dir.path() + "/state", {"--tls-cert", dir.path() + "/cert.pem", "--tls-key",
                                          dir.path() + "/key.pem", "--token", "s3cret-token"});
  ASSERT_FALSE(sandbox.address().empty()) << sandbox.stderr_text();
  std::string kubeconfig = ReadFileOrDie(sandbox.kubeconfig());
  EXPECT_NE(kubeconfig.find("server: https://127.0.0.1:"), std::string::npos) << kubeconfig;
  ProcessResult ok = sandbox.Run({"get", "namespaces", "-o", "name"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("namespace/default"), std::string::npos);
  {
    BackgroundProcess watch(sandbox.Kubectl({"get", "namespaces", "--watch", "-o", "name"}), dir.path() + "/watch.err");
    ASSERT_TRUE(watch.WaitForOutput("namespace/default", 30s)) << watch.output();
    std::string ns = dir.Write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: over-tls\n");
    ASSERT_EQ(sandbox.Run({"create", "-f", ns}).exit_code, 0);
    EXPECT_TRUE(watch.WaitForOutput("namespace/over-tls", 30s)) << watch.output();
  }
  ProcessResult still = sandbox.Run({"get", "namespace", "over-tls", "-o", "name"});
  EXPECT_EQ(still.out, "namespace/over-tls\n") << still.err;
  ProcessResult wrong = sandbox.Run({"--token", "wrong", "get", "namespaces"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("Unauthorized"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace keelson::testing

namespace keelson::testing {
namespace {

TEST(SandboxCommandTest, UsageErrorsExitTwoWithAMessage) {
  TempDir dir;
  ProcessResult no_state = RunProgram({KEELSON_BINARY, "sandbox"});
  EXPECT_EQ(no_state.exit_code, 2);
  EXPECT_NE(no_state.err.find("--state-dir is required"), std::string::npos) << no_state.err;
  ProcessResult bad_listen = RunProgram({KEELSON_BINARY, "sandbox", "--state-dir", dir.path(), "--listen", "nope"});
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.err.find("--listen"), std::string::npos) << bad_listen.err;
  ProcessResult bad_rate =
      RunProgram({KEELSON_BINARY, "sandbox", "--state-dir", dir.path(), "--fault-error-rate", "2"});
  EXPECT_EQ(bad_rate.exit_code, 2);
  EXPECT_NE(bad_rate.err.find("--fault-error-rate"), std::string::npos) << bad_rate.err;
  ProcessResult half_tls =
      RunProgram({KEELSON_BINARY, "sandbox", "--state-dir", dir.path(), "--tls-cert", dir.path() + "/none.pem"});
  EXPECT_EQ(half_tls.exit_code, 2);
  EXPECT_NE(half_tls.err.find("--tls-cert and --tls-key go together"), std::string::npos) << half_tls.err;
  dir.Write("state/state.json", "not json");
  ProcessResult corrupt = RunProgram({KEELSON_BINARY, "sandbox", "--state-dir", dir.path() + "/state"});
  EXPECT_EQ(corrupt.exit_code, 2);
  EXPECT_NE(corrupt.err.find("state.json: not a sandbox state file"), std::string::npos) << corrupt.err;
}

}  // namespace
}  // namespace keelson::testing
