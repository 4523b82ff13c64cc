// The client against the real `keelson sandbox` API server (a subprocess on
// a loopback port), and the same operations through kubectl for comparison.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/cluster/health.h"
#include "agent/cluster/http_transport.h"
#include "agent/cluster/kube_client.h"
#include "agent/cluster/object_cache.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/background_process.h"
#include "tests/testing/loopback.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::cluster {
namespace {

using namespace std::chrono_literals;
using manifest::Node;
using manifest::ResourceId;

Node Yaml(const std::string& text) {
  Result<Node> n = manifest::ParseYaml(text, {});
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().ToString());
  return n.ok() ? *n : Node();
}

std::string NameOf(const Node& object) {
  const Node* name = object.FindPath({"metadata", "name"});
  return name != nullptr && name->IsString() ? name->AsString() : "";
}

// Polls `condition` until it holds or the deadline passes.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 20s) {
  return keelson::testing::WaitFor(condition, limit, 50ms);
}

// The sandbox serves HTTPS with a self-signed certificate for 127.0.0.1 and
// requires a bearer token, so every test also exercises TLS verification
// and authentication (kubectl sends tokens only over TLS).
class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    keelson::testing::ProcessResult cert = keelson::testing::RunProgram(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         "tls.key", "-out", "tls.crt", "-days", "2", "-subj", "/CN=keelson-sandbox", "-addext",
         "subjectAltName=IP:127.0.0.1"},
        "", dir_.path(), 60);
    ASSERT_EQ(cert.exit_code, 0) << cert.err;
    port_ = testing::FreeLoopbackPort();
    kubeconfig_ = dir_.path() + "/kubeconfig";
    std::vector<std::string> argv = {KEELSON_BINARY, "sandbox", "--listen", "127.0.0.1:" + std::to_string(port_),
                                     "--state-dir", dir_.path() + "/state", "--token", "test-token", "--kubeconfig-out",
                                     kubeconfig_, "--tls-cert", dir_.path() + "/tls.crt", "--tls-key",
                                     dir_.path() + "/tls.key"};
    for (const std::string& extra : ExtraArgs()) argv.push_back(extra);
    process_ = std::make_unique<testing::BackgroundProcess>(argv, testing::OutputToLog{dir_.path() + "/sandbox.log"});
    struct stat st;
    bool up = Eventually([&] { return stat(kubeconfig_.c_str(), &st) == 0 && testing::WaitForPort(port_, 100ms); }, 15s);
    ASSERT_TRUE(up) << "sandbox did not start: " << keelson::testing::ReadFileOrDie(dir_.path() + "/sandbox.log");
    Result<ConnectionConfig> config = LoadKubeconfig(kubeconfig_);
    ASSERT_TRUE(config.ok()) << config.error().ToString();
    config_ = *config;
    ASSERT_EQ(config_.server.rfind("https://", 0), 0u) << config_.server;
    ASSERT_FALSE(config_.ca_pem.empty());
    ASSERT_EQ(config_.bearer_token, "test-token");
    ClientOptions options;
    options.retry.initial_backoff = 20ms;
    options.retry.max_backoff = 200ms;
    options.request_timeout = 10s;
    Result<std::unique_ptr<KubeClient>> client = KubeClient::Connect(config_, options);
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    client_ = std::move(*client);
  }

  virtual std::vector<std::string> ExtraArgs() const { return {}; }

  // PUT /sandbox/faults: replaces the fault configuration.
  void SetFaults(const std::string& json) {
    Result<std::unique_ptr<HttpTransport>> admin = MakeHttpTransport(config_);
    ASSERT_TRUE(admin.ok());
    HttpRequest r;
    r.method = "PUT";
    r.target = "/sandbox/faults";
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = json;
    Result<HttpResponse> response = (*admin)->Send(r, nullptr);
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  keelson::testing::ProcessResult Kubectl(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", kubeconfig_});
    return keelson::testing::RunProgram(args, stdin_text, "", 60);
  }

  Node MustApply(const std::string& yaml, ApplyOptions options = {}) {
    Result<Node> r = client_->Apply(Yaml(yaml), options);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Node();
  }

  keelson::testing::TempDir dir_;
  int port_ = 0;
  std::string kubeconfig_;
  std::unique_ptr<testing::BackgroundProcess> process_;
  ConnectionConfig config_;
  std::unique_ptr<KubeClient> client_;
};

const char* kNamespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

TEST_F(Sandbox, ApplyGetListDeleteRoundTrip) {
  MustApply(kNamespace);
  for (const char* name : {"a", "b", "c"}) {
    MustApply(std::string("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ") + name +
              ", namespace: shop, labels: {app: " + (name[0] == 'c' ? "db" : "web") + "}}\ndata: {k: v}\n");
  }
  Result<Node> got = client_->Get({"", "v1", "ConfigMap", "shop", "a"});
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->FindPath({"data", "k"})->AsString(), "v");
  EXPECT_FALSE(got->FindPath({"metadata", "uid"})->AsString().empty());
  const Node* managers = got->FindPath({"metadata", "managedFields"});
  ASSERT_NE(managers, nullptr);
  EXPECT_EQ(managers->items()[0].GetString("manager"), "keelson");

  ListOptions list;
  list.namespace_ = "shop";
  list.page_size = 1;  // forces continue tokens
  Result<ListResult> all = client_->List({"", "v1", "ConfigMap"}, list);
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  std::set<std::string> names;
  for (const Node& item : all->items) {
    if (NameOf(item) != "kube-root-ca.crt") names.insert(NameOf(item));
  }
  EXPECT_EQ(names, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_GE(client_->metrics().Count("list", "200"), 3u);
  list.label_selector = "app=web";
  list.page_size = 500;
  Result<ListResult> web = client_->List({"", "v1", "ConfigMap"}, list);
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->items.size(), 2u);

  ApplyOptions dry;
  dry.dry_run = true;
  Node preview = MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\ndata: {k: changed}\n", dry);
  EXPECT_EQ(preview.FindPath({"data", "k"})->AsString(), "changed");
  EXPECT_EQ(client_->Get({"", "v1", "ConfigMap", "shop", "a"})->FindPath({"data", "k"})->AsString(), "v");

  Result<bool> deleted = client_->Delete({"", "v1", "ConfigMap", "shop", "a"}, DeletePropagation::kBackground);
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(*deleted);
  Result<Node> gone = client_->Get({"", "v1", "ConfigMap", "shop", "a"});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(*client_->Delete({"", "v1", "ConfigMap", "shop", "a"}, DeletePropagation::kBackground));
}

TEST_F(Sandbox, ConflictsNameTheOtherManagerAndForceTakesOver) {
  MustApply(kNamespace);
  ApplyOptions other;
  other.field_manager = "someone-else";
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\ndata: {k: theirs}\n", other);
  Result<Node> conflict =
      client_->Apply(Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\ndata: {k: ours}\n"), {});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kCheckFailed);
  EXPECT_NE(conflict.error().message.find("someone-else"), std::string::npos) << conflict.error().message;
  ApplyOptions force;
  force.force = true;
  Node taken = MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\ndata: {k: ours}\n", force);
  EXPECT_EQ(taken.FindPath({"data", "k"})->AsString(), "ours");
}

TEST_F(Sandbox, CustomKindsAfterTheirCrd) {
  Result<ResourceMapping> before = client_->Mapping({"example.com", "v1", "Widget"});
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, ErrorCode::kNotFound);
  MustApply(R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
)");
  ASSERT_TRUE(Eventually([&] {
    Result<Node> crd = client_->GetStatus({"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "", "widgets.example.com"});
    return crd.ok() && AssessHealth(*crd).state == HealthState::kHealthy;
  }));
  MustApply(kNamespace);
  Node widget = MustApply("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: shop}\nspec: {size: 3}\n");
  EXPECT_EQ(widget.FindPath({"spec", "size"})->AsInt(), 3);
}

TEST_F(Sandbox, WatchSeesChangesAndResumes) {
  MustApply(kNamespace);
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w, namespace: shop}\ndata: {n: '0'}\n");
  std::atomic<bool> stop{false};
  std::atomic<int> resets{0};
  std::atomic<int> modified{0};
  std::atomic<bool> saw_last{false};
  Status watch_status;
  std::thread watcher([&] {
    WatchOptions options;
    options.namespace_ = "shop";
    options.stop = &stop;
    options.timeout_seconds = 2;  // forces reconnections from the last version
    watch_status = client_->Watch({"", "v1", "ConfigMap"}, options, [&](const WatchEvent& e) {
      if (e.type == WatchEventType::kReset) ++resets;
      if (e.type == WatchEventType::kModified && NameOf(e.object) == "w") {
        ++modified;
        if (e.object.FindPath({"data", "n"})->AsString() == "3") saw_last = true;
      }
      return !saw_last;
    });
  });
  if (!Eventually([&] { return resets.load() == 1; })) {
    stop = true;
    watcher.join();
    FAIL() << "the watch never delivered its initial list";
  }
  for (int i = 1; i <= 3; ++i) {
    MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w, namespace: shop}\ndata: {n: '" + std::to_string(i) +
              "'}\n");
    if (i == 2) {
      // Let the server end one watch request (timeoutSeconds) so the rest
      // arrives on a resumed watch.
      EXPECT_TRUE(Eventually([&] { return client_->metrics().Count("watch", "200") >= 1; }));
    }
  }
  bool done = Eventually([&] { return saw_last.load(); });
  stop = true;
  watcher.join();
  ASSERT_TRUE(done);
  EXPECT_TRUE(watch_status.ok()) << watch_status.error().ToString();
  EXPECT_EQ(modified.load(), 3);
  EXPECT_EQ(resets.load(), 1);
  EXPECT_GE(client_->metrics().Count("watch", "200"), 2u);
}

// The watch-fed cache: only labelled objects, kept current from the watch,
// a listener told of each change after the first list, deletions seen.
TEST_F(Sandbox, ObjectCacheFollowsLabelledObjects) {
  MustApply(kNamespace);
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before, namespace: shop, labels: {owner: a}}\n");
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: shop}\n");
  ObjectCacheOptions options;
  options.label_selector = "owner";
  ObjectCache cache(*client_, options);
  std::mutex mu;
  std::vector<std::string> heard;
  cache.SetListener([&](const ResourceId& id, const Node& object, bool deleted) {
    std::lock_guard lock(mu);
    const Node* labels = object.FindPath({"metadata", "labels", "owner"});
    heard.push_back((deleted ? "-" : "+") + id.name + "=" + (labels != nullptr ? labels->AsString() : "?"));
  });
  GroupVersionKind kind{"", "v1", "ConfigMap"};
  ResourceId before{"", "v1", "ConfigMap", "shop", "before"};
  ResourceId other{"", "v1", "ConfigMap", "shop", "other"};
  ResourceId later{"", "v1", "ConfigMap", "shop", "later"};
  EXPECT_EQ(cache.Find(before).lookup, ObjectCache::Lookup::kUntracked);
  ASSERT_TRUE(cache.Track(kind).ok());
  EXPECT_TRUE(cache.Tracked(kind));
  ObjectCache::Found found = cache.Find(before);
  ASSERT_EQ(found.lookup, ObjectCache::Lookup::kPresent);
  EXPECT_EQ(found.object->FindPath({"metadata", "managedFields"}), nullptr);
  EXPECT_EQ(cache.Find(other).lookup, ObjectCache::Lookup::kAbsent);  // no label
  // A namespaced object named without its namespace: only the server knows.
  EXPECT_EQ(cache.Find(ResourceId{"", "v1", "ConfigMap", "", "before"}).lookup, ObjectCache::Lookup::kUntracked);

  std::uint64_t seen = cache.Generation();
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later, namespace: shop, labels: {owner: b}}\n"
            "data: {k: v}\n");
  EXPECT_TRUE(cache.WaitForChange(seen, std::chrono::steady_clock::now() + 10s));
  ASSERT_TRUE(Eventually([&] { return cache.Find(later).lookup == ObjectCache::Lookup::kPresent; }));
  EXPECT_EQ(cache.Find(later).object->FindPath({"data", "k"})->AsString(), "v");
  ASSERT_TRUE(client_->Delete(before, DeletePropagation::kBackground).ok());
  ASSERT_TRUE(Eventually([&] { return cache.Find(before).lookup == ObjectCache::Lookup::kAbsent; }));
  std::lock_guard lock(mu);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0], "+later=b");
  EXPECT_EQ(heard[1], "-before=a");
  EXPECT_EQ(cache.Size(), 1u);
}

// Stop() ends a quiet watch at once instead of at its next chunk, and a
// waiter wakes; a kind the server does not serve stays untracked.
TEST_F(Sandbox, ObjectCacheStopsPromptlyAndRefusesUnknownKinds) {
  ObjectCacheOptions options;
  options.label_selector = "owner";
  ObjectCache cache(*client_, options);
  ASSERT_TRUE(cache.Track({"", "v1", "ConfigMap"}).ok());
  Status unknown = cache.Track({"example.com", "v1", "Widget"});
  EXPECT_FALSE(unknown.ok());
  // Asked again at once, the refusal is remembered: no new discovery.
  std::uint64_t requests = client_->metrics().Total();
  EXPECT_FALSE(cache.Track({"example.com", "v1", "Widget"}).ok());
  EXPECT_EQ(client_->metrics().Total(), requests);
  EXPECT_FALSE(cache.Tracked({"example.com", "v1", "Widget"}));
  EXPECT_EQ(cache.Find(ResourceId{"example.com", "v1", "Widget", "shop", "w"}).lookup,
            ObjectCache::Lookup::kUntracked);
  std::uint64_t seen = cache.Generation();
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    cache.WaitForChange(seen, std::chrono::steady_clock::now() + 60s);
    woke = true;
  });
  std::this_thread::sleep_for(200ms);
  auto start = std::chrono::steady_clock::now();
  cache.Stop();
  waiter.join();
  EXPECT_TRUE(woke.load());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(cache.Track({"", "v1", "ConfigMap"}).ok());  // stopped for good
}

// A sandbox that keeps only a few past events, so old versions are Gone.
class SandboxShortHistory : public Sandbox {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--watch-history", "3"}; }
};

TEST_F(SandboxShortHistory, WatchFromAVersionTooOldRelists) {
  MustApply(kNamespace);
  Node first = MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: h, namespace: shop}\ndata: {n: '0'}\n");
  std::string old_version = first.FindPath({"metadata", "resourceVersion"})->AsString();
  for (int i = 1; i <= 8; ++i) {
    MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: h, namespace: shop}\ndata: {n: '" + std::to_string(i) +
              "'}\n");
  }
  WatchOptions options;
  options.namespace_ = "shop";
  options.resource_version = old_version;
  std::string seen;
  Status s = client_->Watch({"", "v1", "ConfigMap"}, options, [&seen](const WatchEvent& e) {
    if (e.type != WatchEventType::kReset) return true;
    for (const Node& item : e.items) {
      if (NameOf(item) == "h") seen = item.FindPath({"data", "n"})->AsString();
    }
    return false;
  });
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(seen, "8");  // the relist shows the current state
}

// Images matching --fail-images never become ready: the rollout is
// reported Failed with the controller's reason.
class SandboxFailingImages : public Sandbox {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--fail-images", "*:broken", "--rollout-delay", "300ms"};
  }
};

TEST_F(SandboxFailingImages, StuckRolloutIsFailed) {
  MustApply(kNamespace);
  MustApply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: app, image: "registry.example/app:broken"}]}
)");
  Health last;
  bool failed = Eventually([&] {
    Result<Node> live = client_->GetStatus({"apps", "v1", "Deployment", "shop", "bad"});
    if (!live.ok()) return false;
    last = AssessHealth(*live);
    return last.state == HealthState::kFailed;
  });
  EXPECT_TRUE(failed) << HealthStateName(last.state) << ": " << last.reason;
  EXPECT_NE(last.reason.find("ProgressDeadlineExceeded"), std::string::npos) << last.reason;
}

TEST_F(Sandbox, DeploymentRollsOutToHealthy) {
  MustApply(kNamespace);
  MustApply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
)");
  ResourceId id{"apps", "v1", "Deployment", "shop", "web"};
  std::string last_reason;
  bool healthy = Eventually([&] {
    Result<Node> live = client_->GetStatus(id);
    if (!live.ok()) return false;
    Health h = AssessHealth(*live);
    last_reason = h.reason;
    return h.state == HealthState::kHealthy;
  });
  EXPECT_TRUE(healthy) << last_reason;
}

// Deterministic faults: the next N requests fail; each operation still
// succeeds through retries, and the metrics show what happened.
TEST_F(Sandbox, RetriesThroughCountedFaults) {
  MustApply(kNamespace);
  SetFaults(R"({"errorCount": 2})");
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e, namespace: shop}\n");
  EXPECT_EQ(client_->metrics().Count("apply", "500"), 2u);

  SetFaults(R"({"dropCount": 2})");
  EXPECT_TRUE(client_->Get({"", "v1", "ConfigMap", "shop", "e"}).ok());
  // A drop on a pooled keep-alive connection is retried once inside the
  // transport (the server may simply have closed it), so 1 or 2 surface.
  EXPECT_GE(client_->metrics().Count("get", "error"), 1u);

  SetFaults(R"({"throttleCount": 1, "retryAfterSeconds": 1})");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client_->Get({"", "v1", "ConfigMap", "shop", "e"}).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);  // Retry-After honoured
  EXPECT_EQ(client_->metrics().Count("get", "429"), 1u);
}

// Random faults on every request: each operation ends, either done or with
// a clear error, within a bounded time.
TEST_F(Sandbox, EveryOperationEndsUnderRandomFaults) {
  MustApply(kNamespace);
  SetFaults(R"({"errorRate": 0.2, "throttleRate": 0.1, "retryAfterSeconds": 0, "dropRate": 0.15})");
  int succeeded = 0;
  int failed = 0;
  auto check = [&](bool ok, const Error* error) {
    if (ok) {
      ++succeeded;
      return;
    }
    ++failed;
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->code, ErrorCode::kUnavailable) << error->ToString();
    EXPECT_FALSE(error->message.empty());
  };
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 15; ++i) {
    std::string name = "f" + std::to_string(i);
    Result<Node> a = client_->Apply(
        Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: shop}\ndata: {i: '1'}\n"), {});
    check(a.ok(), a.ok() ? nullptr : &a.error());
    Result<Node> g = client_->Get({"", "v1", "ConfigMap", "shop", name});
    if (!g.ok() && g.error().code == ErrorCode::kNotFound && !a.ok()) {
      ++succeeded;  // the apply failed, so not found is the right answer
    } else {
      check(g.ok(), g.ok() ? nullptr : &g.error());
    }
    ListOptions list;
    list.namespace_ = "shop";
    list.page_size = 5;
    Result<ListResult> l = client_->List({"", "v1", "ConfigMap"}, list);
    check(l.ok(), l.ok() ? nullptr : &l.error());
    Result<bool> d = client_->Delete({"", "v1", "ConfigMap", "shop", name}, DeletePropagation::kBackground);
    check(d.ok(), d.ok() ? nullptr : &d.error());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  EXPECT_GT(succeeded, 50);
  auto snapshot = client_->metrics().Snapshot();
  std::uint64_t faults = 0;
  for (const auto& [key, n] : snapshot) {
    if (key.second == "500" || key.second == "429" || key.second == "error") faults += n;
  }
  EXPECT_GT(faults, 0u);
  SetFaults("{}");
}

TEST_F(Sandbox, KubectlAndTheClientSeeTheSameObjects) {
  if (!keelson::testing::HaveProgram("kubectl")) GTEST_SKIP() << "kubectl not installed";
  const std::string manifests = std::string(kNamespace) + R"(---
apiVersion: v1
kind: ConfigMap
metadata: {name: from-kubectl, namespace: shop, labels: {via: kubectl}}
data: {a: "1"}
)";
  keelson::testing::ProcessResult applied = Kubectl({"apply", "--server-side", "-f", "-"}, manifests);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  MustApply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-keelson, namespace: shop, labels: {via: keelson}}\n"
            "data: {b: '2'}\n");

  for (const char* name : {"from-kubectl", "from-keelson"}) {
    SCOPED_TRACE(name);
    keelson::testing::ProcessResult shown = Kubectl({"get", "configmap", name, "-n", "shop", "-o", "json", "--show-managed-fields"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    Result<Node> via_kubectl = manifest::ParseJson(shown.out, "kubectl");
    ASSERT_TRUE(via_kubectl.ok());
    Result<Node> via_client = client_->Get({"", "v1", "ConfigMap", "shop", name});
    ASSERT_TRUE(via_client.ok()) << via_client.error().ToString();
    // Same values; key order differs (kubectl sorts keys when printing).
    EXPECT_TRUE(*via_kubectl == *via_client)
        << "kubectl: " << manifest::EmitJson(*via_kubectl) << "\nclient:  " << manifest::EmitJson(*via_client);
  }

  keelson::testing::ProcessResult listed =
      Kubectl({"get", "configmaps", "-n", "shop", "-l", "via", "-o", "jsonpath={.items[*].metadata.name}"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ListOptions list;
  list.namespace_ = "shop";
  list.label_selector = "via";
  Result<ListResult> mine = client_->List({"", "v1", "ConfigMap"}, list);
  ASSERT_TRUE(mine.ok());
  std::string names;
  for (const Node& item : mine->items) names += (names.empty() ? "" : " ") + NameOf(item);
  EXPECT_EQ(names, listed.out);

  keelson::testing::ProcessResult deleted = Kubectl({"delete", "configmap", "from-keelson", "-n", "shop"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(client_->Get({"", "v1", "ConfigMap", "shop", "from-keelson"}).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(*client_->Delete({"", "v1", "ConfigMap", "shop", "from-kubectl"}, DeletePropagation::kBackground));
  keelson::testing::ProcessResult after = Kubectl({"get", "configmap", "from-kubectl", "-n", "shop"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("NotFound"), std::string::npos) << after.err;
}

}  // namespace
}  // namespace keelson::cluster
