// README "Install in a cluster", step by step against the sandbox: the
// install manifests rendered with `keelson render` and applied with the
// real kubectl (`--server-side`, as the README says), then read back with
// `kubectl get` to check what a cluster would run.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "renderers/manifest/json.h"
#include "tests/testing/background_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

using manifest::Node;
using namespace std::chrono_literals;

class InstallManifestsInSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveProgram("kubectl")) GTEST_SKIP() << "kubectl not installed";
    sandbox_ = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{KEELSON_BINARY, "sandbox", "--state-dir", dir_.path() + "/sandbox"},
        dir_.path() + "/sandbox.log");
    std::string address = sandbox_->FirstLine(20s);
    ASSERT_FALSE(address.empty()) << "sandbox did not start";
    server_ = "http://" + address;
    // An empty kubeconfig, so nothing from the machine's ~/.kube is sent.
    empty_kubeconfig_ = dir_.Write("kubeconfig", "");
  }

  testing::ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig=" + empty_kubeconfig_, "--server=" + server_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProgram(argv, stdin_text, "", 60);
  }

  Node Get(const std::string& kind, const std::string& name, const std::string& ns = "") {
    std::vector<std::string> args = {"get", kind, name, "-o", "json"};
    if (!ns.empty()) args.insert(args.end(), {"-n", ns});
    testing::ProcessResult r = Kubectl(args);
    EXPECT_EQ(r.exit_code, 0) << kind << "/" << name << ": " << r.err;
    Result<Node> n = manifest::ParseJson(r.out, kind + "/" + name);
    return n.ok() ? std::move(n).value() : Node();
  }

  static std::vector<std::string> Strings(const Node* list) {
    std::vector<std::string> out;
    if (list == nullptr || !list->IsSequence()) return out;
    for (const Node& n : list->items()) out.push_back(n.ScalarText());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::BackgroundProcess> sandbox_;
  std::string server_;
  std::string empty_kubeconfig_;
};

TEST_F(InstallManifestsInSandbox, RenderApplyAndReadBack) {
  testing::ProcessResult rendered =
      testing::RunProgram({KEELSON_BINARY, "render", std::string(KEELSON_SOURCE_DIR) + "/packaging/kubernetes"});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  testing::ProcessResult applied = Kubectl({"apply", "--server-side", "-f", "-"}, rendered.out);
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  for (const char* line :
       {"namespace/keelson-system serverside-applied", "serviceaccount/keelson serverside-applied",
        "deployment.apps/keelson serverside-applied", "service/keelson-metrics serverside-applied"}) {
    EXPECT_NE(applied.out.find(line), std::string::npos) << line << " in\n" << applied.out;
  }
  // Applying the same manifests again is a no-op the server accepts.
  testing::ProcessResult again = Kubectl({"apply", "--server-side", "-f", "-"}, rendered.out);
  EXPECT_EQ(again.exit_code, 0) << again.err;

  // The namespace enforces the restricted Pod Security Standard.
  Node ns = Get("namespace", "keelson-system");
  EXPECT_EQ(ns.FindPath({"metadata", "labels"})->GetString("pod-security.kubernetes.io/enforce"), "restricted");
  EXPECT_FALSE(Get("serviceaccount", "keelson", "keelson-system").IsNull());

  // Every binding grants an existing role to that service account, and
  // every rule names resources the API serves, without wildcards.
  testing::ProcessResult served = Kubectl({"api-resources", "-o", "name"});
  ASSERT_EQ(served.exit_code, 0) << served.err;
  std::set<std::string> resources;
  {
    std::string line;
    for (char c : served.out + "\n") {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (!line.empty()) resources.insert(line);
      line.clear();
    }
  }
  struct Binding {
    const char* kind;
    const char* name;
    const char* ns;
    const char* role_kind;
  };
  for (const Binding& b : {Binding{"clusterrolebinding", "keelson-agent", "", "ClusterRole"},
                           Binding{"clusterrolebinding", "keelson-deployer", "", "ClusterRole"},
                           Binding{"rolebinding", "keelson-agent", "keelson-system", "Role"}}) {
    SCOPED_TRACE(std::string(b.kind) + "/" + b.name);
    Node binding = Get(b.kind, b.name, b.ns);
    ASSERT_FALSE(binding.IsNull());
    EXPECT_EQ(binding.FindPath({"roleRef", "kind"})->AsString(), b.role_kind);
    const Node* subjects = binding.Find("subjects");
    ASSERT_TRUE(subjects != nullptr && subjects->size() == 1);
    EXPECT_EQ(subjects->items()[0].GetString("kind"), "ServiceAccount");
    EXPECT_EQ(subjects->items()[0].GetString("name"), "keelson");
    EXPECT_EQ(subjects->items()[0].GetString("namespace"), "keelson-system");
    Node role = Get(b.role_kind == std::string("Role") ? "role" : "clusterrole",
                    binding.FindPath({"roleRef", "name"})->AsString(), b.ns);
    ASSERT_FALSE(role.IsNull());
    const Node* rules = role.Find("rules");
    ASSERT_TRUE(rules != nullptr && !rules->empty());
    for (const Node& rule : rules->items()) {
      std::vector<std::string> verbs = Strings(rule.Find("verbs"));
      EXPECT_FALSE(verbs.empty());
      for (const std::string& v : verbs) EXPECT_NE(v, "*");
      for (const std::string& group : Strings(rule.Find("apiGroups"))) {
        EXPECT_NE(group, "*");
        for (const std::string& resource : Strings(rule.Find("resources"))) {
          std::string name = group.empty() ? resource : resource + "." + group;
          EXPECT_TRUE(resources.count(name)) << name << " is not a resource the API serves";
        }
      }
    }
  }
  // The agent's own needs in its namespace: inventory ConfigMaps, the Lease.
  Node agent_role = Get("role", "keelson-agent", "keelson-system");
  std::string role_rules = agent_role.Find("rules") != nullptr ? manifest::EmitJson(*agent_role.Find("rules")) : "";
  EXPECT_NE(role_rules.find("leases"), std::string::npos) << role_rules;
  EXPECT_NE(role_rules.find("configmaps"), std::string::npos) << role_rules;

  // The Deployment: the service account, probes on the agent's health
  // endpoints, resources and a locked-down security context; the sandbox's
  // controller rolls it out.
  Node deployment = Get("deployment", "keelson", "keelson-system");
  ASSERT_FALSE(deployment.IsNull());
  const Node* pod = deployment.FindPath({"spec", "template", "spec"});
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->GetString("serviceAccountName"), "keelson");
  EXPECT_TRUE(pod->FindPath({"securityContext", "runAsNonRoot"})->AsBool());
  EXPECT_EQ(pod->FindPath({"securityContext", "seccompProfile", "type"})->AsString(), "RuntimeDefault");
  const Node& container = pod->Find("containers")->items()[0];
  EXPECT_EQ(container.FindPath({"livenessProbe", "httpGet", "path"})->AsString(), "/healthz");
  EXPECT_EQ(container.FindPath({"readinessProbe", "httpGet", "path"})->AsString(), "/readyz");
  EXPECT_EQ(container.FindPath({"ports"})->items()[0].GetString("name"), "http");
  EXPECT_EQ(container.FindPath({"ports"})->items()[0].Find("containerPort")->AsInt(), 9440);
  EXPECT_NE(container.FindPath({"resources", "limits", "memory"}), nullptr);
  EXPECT_NE(container.FindPath({"resources", "requests", "cpu"}), nullptr);
  EXPECT_FALSE(container.FindPath({"securityContext", "allowPrivilegeEscalation"})->AsBool());
  EXPECT_TRUE(container.FindPath({"securityContext", "readOnlyRootFilesystem"})->AsBool());
  EXPECT_EQ(Strings(container.FindPath({"securityContext", "capabilities", "drop"})), std::vector<std::string>{"ALL"});
  std::vector<std::string> args = Strings(container.Find("args"));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], "agent");
  testing::ProcessResult rollout =
      Kubectl({"rollout", "status", "deployment/keelson", "-n", "keelson-system", "--timeout=60s"});
  EXPECT_EQ(rollout.exit_code, 0) << rollout.out << rollout.err;

  // The config the Deployment mounts is one the agent accepts, at the path
  // its args name, listening where the probes and the Service look.
  Node config_map = Get("configmap", "keelson-config", "keelson-system");
  std::string agent_yaml = config_map.FindPath({"data", "agent.yaml"})->AsString();
  Result<config::AgentConfig> agent_config = config::ParseAgentConfig(agent_yaml, "keelson-config/agent.yaml");
  ASSERT_TRUE(agent_config.ok()) << agent_config.error().ToString();
  EXPECT_TRUE(agent_config->cluster.in_cluster);
  EXPECT_TRUE(agent_config->listen.ends_with(":9440")) << agent_config->listen;
  bool mounted = false;
  for (const Node& mount : container.Find("volumeMounts")->items()) {
    mounted = mounted || (mount.GetString("mountPath") == args[2] && mount.GetString("subPath") == "agent.yaml");
  }
  EXPECT_TRUE(mounted) << args[2] << " is not where the ConfigMap is mounted";

  // The metrics Service selects the Deployment's pods on the agent's port.
  Node svc = Get("service", "keelson-metrics", "keelson-system");
  ASSERT_FALSE(svc.IsNull());
  const Node* selector = svc.FindPath({"spec", "selector"});
  const Node* pod_labels = deployment.FindPath({"spec", "template", "metadata", "labels"});
  ASSERT_TRUE(selector != nullptr && pod_labels != nullptr);
  for (const auto& entry : selector->entries()) {
    EXPECT_EQ(pod_labels->GetString(entry.key), entry.value.ScalarText()) << entry.key;
  }
  const Node& port = svc.FindPath({"spec", "ports"})->items()[0];
  EXPECT_EQ(port.Find("port")->AsInt(), 9440);
  EXPECT_EQ(port.Find("targetPort")->ScalarText(), "http");
}

}  // namespace
}  // namespace keelson
