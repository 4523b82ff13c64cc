// Promotion through Git alone: a prod agent takes a revision only after the
// dev agent recorded it healthy on its audit branch in the shared audit
// repository; a revision dev rolled back never reaches prod. Along the way,
// the records dev's reconcile wrote are read back with plain git and
// checked field by field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "renderers/manifest/json.h"
#include "tests/e2e/agent/agent_harness.h"

namespace keelson {
namespace {

using testing::AgentHarness;
using testing::Eventually;
using namespace std::chrono_literals;

std::string Declaration(const std::string& env, const std::string& extra_spec) {
  return "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: " + env + "}\nspec:\n" + extra_spec +
         "  units:\n"
         "  - name: " + env + "-ns\n    path: ns/" + env + "\n"
         "  - name: " + env + "-web\n    path: web\n    namespace: " + env + "\n    dependsOn: [" + env + "-ns]\n"
         "    healthTimeout: 6s\n";
}

std::map<std::string, std::string> Repo(const std::string& image) {
  return {{"clusters/dev/keelson.yaml", Declaration("dev", "")},
          {"clusters/prod/keelson.yaml", Declaration("prod", "  promotion: {after: dev}\n")},
          {"ns/dev/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n"},
          {"ns/prod/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"},
          {"web/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {image: \"" + image + "\"}\n"},
          {"web/deployment.yaml",
           "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
           "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
           "    spec: {containers: [{name: web, image: \"" + image + "\"}]}\n"}};
}

std::string Git(const AgentHarness& h, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "--git-dir", h.dir() + "/audit.git"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ProcessResult r = testing::RunProgram(argv, "", h.dir(), 60);
  return r.exit_code == 0 ? r.out : "";
}

// Every record on `branch` of the shared audit repository, oldest first.
std::vector<manifest::Node> Records(const AgentHarness& h, const std::string& branch) {
  std::vector<manifest::Node> out;
  std::string files = Git(h, {"ls-tree", "-r", "--name-only", branch});
  std::size_t start = 0;
  for (std::size_t nl; (nl = files.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string path = files.substr(start, nl - start);
    if (!path.starts_with("records/")) continue;
    Result<manifest::Node> record = manifest::ParseJson(Git(h, {"show", branch + ":" + path}), path);
    if (record.ok()) out.push_back(*record);
  }
  return out;  // paths sort by sequence number
}

const manifest::Node* Finished(const std::vector<manifest::Node>& records, const std::string& revision,
                               const std::string& outcome) {
  for (const manifest::Node& r : records) {
    if (r.GetString("kind") != "reconcile.finished") continue;
    const manifest::Node* data = r.Find("data");
    if (data != nullptr && data->GetString("revision") == revision && data->GetString("outcome") == outcome) {
      return &r;
    }
  }
  return nullptr;
}

bool Contains(const manifest::Node* list, const std::string& value) {
  if (list == nullptr || !list->IsSequence()) return false;
  for (const manifest::Node& item : list->items()) {
    if (item.IsString() && item.AsString() == value) return true;
  }
  return false;
}

TEST(Promotion, ProdTakesOnlyRevisionsDevRecordedHealthy) {
  testing::AgentHarnessOptions options;
  options.fail_images = "broken*";
  AgentHarness h(options);
  ASSERT_TRUE(h.ok()) << h.error();
  const std::string& d = h.dir();
  ASSERT_EQ(testing::RunProgram({"git", "init", "-q", "--bare", d + "/audit.git"}, "", d, 60).exit_code, 0);
  ASSERT_EQ(testing::RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "prod", "-f", d + "/prod-agent"},
                                "", d, 60)
                .exit_code,
            0);
  // Both agents trust both agent keys; the dev key is the harness's.
  std::string allowed = "dev-agent@keelson.dev namespaces=\"git\" " + testing::ReadFileOrDie(d + "/agent.pub") +
                        "prod-agent@keelson.dev namespaces=\"git\" " + testing::ReadFileOrDie(d + "/prod-agent.pub");
  std::filesystem::path allowed_path = std::filesystem::path(d) / "allowed_agents";
  {
    std::ofstream(allowed_path) << allowed;
  }
  std::string audit = "audit: {signingKey: " + d + "/agent, repository: file://" + d +
                      "/audit.git, allowedAgents: " + allowed_path.string() + "}\n";
  std::string dev_config = testing::ReadFileOrDie(h.config_path());
  std::size_t at = dev_config.find("audit: {");
  ASSERT_NE(at, std::string::npos);
  dev_config = dev_config.substr(0, at) + audit;
  {
    std::ofstream(h.config_path()) << dev_config;
  }
  std::string prod_config = dev_config;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::size_t p = prod_config.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    prod_config.replace(p, from.size(), to);
  };
  replace("environment: dev", "environment: prod");
  replace("stateDir: " + d + "/state\n", "stateDir: " + d + "/state-prod\n");
  replace("clusters/dev/keelson.yaml", "clusters/prod/keelson.yaml");
  replace("signingKey: " + d + "/agent,", "signingKey: " + d + "/prod-agent,");

  // 1. Prod alone: the revision waits for dev.
  std::string good = h.Commit(Repo("nginx:1.27"), "web on nginx 1.27");
  h.StartNamedAgentWithConfig("prod", prod_config);
  ASSERT_TRUE(Eventually([&] { return h.NamedAgentLog("prod").find("has not been recorded healthy in dev") !=
                                      std::string::npos; },
                         60s))
      << h.NamedAgentLog("prod");
  EXPECT_TRUE(h.Get("configmap", "prod", "web").IsNull());

  // 2. Dev applies it and records it healthy; prod follows on its next try.
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return !h.Get("configmap", "dev", "web").IsNull(); }, 60s)) << h.AgentLog();
  ASSERT_TRUE(Eventually([&] { return Finished(Records(h, "keelson/audit/dev"), good, "applied") != nullptr; }, 60s))
      << h.AgentLog();
  ASSERT_TRUE(Eventually([&] { return !h.Get("configmap", "prod", "web").IsNull(); }, 60s)) << h.NamedAgentLog("prod");
  EXPECT_NE(h.NamedAgentLog("prod").find("was healthy in dev"), std::string::npos);

  // The records of dev's reconcile, as an auditor reads them with git.
  std::vector<manifest::Node> records = Records(h, "keelson/audit/dev");
  const manifest::Node* finished = Finished(records, good, "applied");
  ASSERT_NE(finished, nullptr);
  const manifest::Node& data = *finished->Find("data");
  EXPECT_EQ(finished->GetString("environment"), "dev");
  EXPECT_EQ(data.GetString("author"), "alice@example.com");
  EXPECT_EQ(data.FindPath({"health", "status"})->AsString(), "healthy");
  const manifest::Node* commits = data.Find("commits");
  ASSERT_TRUE(commits != nullptr && commits->IsSequence() && !commits->empty());
  const manifest::Node& last = commits->items().back();
  EXPECT_EQ(last.GetString("id"), good);
  EXPECT_EQ(last.GetString("verdict"), "trusted");
  EXPECT_NE(last.GetString("signer").find("alice@example.com"), std::string::npos);
  bool digest_seen = false;
  for (const manifest::Node& o : data.Find("objects")->items()) {
    if (o.GetString("object") == "v1/ConfigMap/dev/web") digest_seen = o.GetString("sha256").size() == 64;
  }
  EXPECT_TRUE(digest_seen);
  EXPECT_TRUE(Contains(data.FindPath({"plan", "created"}), "v1/ConfigMap/dev/web"));
  EXPECT_TRUE(Contains(data.FindPath({"plan", "created"}), "apps/v1/Deployment/dev/web"));
  bool started_before = false;
  for (const manifest::Node& r : records) {
    if (&r == finished) break;
    const manifest::Node* rd = r.Find("data");
    started_before = started_before ||
                     (r.GetString("kind") == "reconcile.started" && rd != nullptr && rd->GetString("revision") == good);
  }
  EXPECT_TRUE(started_before);
  std::string subjects = Git(h, {"log", "--format=%s", "keelson/audit/dev"});
  EXPECT_NE(subjects.find("dev: applied " + good.substr(0, 7) + " by alice@example.com"), std::string::npos)
      << subjects;

  // 3. A revision dev rolls back never reaches prod, even after its retry.
  std::string bad = h.Commit(Repo("broken:2"), "web on a broken image");
  ASSERT_TRUE(Eventually([&] { return Finished(Records(h, "keelson/audit/dev"), bad, "rolled_back") != nullptr; }, 90s))
      << h.AgentLog();
  std::this_thread::sleep_for(35s);  // past prod's 30 s promotion retry
  manifest::Node prod_web = h.Get("configmap", "prod", "web");
  ASSERT_FALSE(prod_web.IsNull());
  EXPECT_EQ(prod_web.FindPath({"data", "image"})->AsString(), "nginx:1.27") << h.NamedAgentLog("prod");
  EXPECT_NE(h.NamedAgentLog("prod").find(bad.substr(0, 12) + " has not been recorded healthy in dev"),
            std::string::npos)
      << h.NamedAgentLog("prod");
}

// The agent keys promotion trusts are read at start: a broken file stops
// the agent there, naming the setting, instead of failing every pass.
TEST(Promotion, ABrokenAllowedAgentsFileStopsTheStart) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  const std::string& d = h.dir();
  std::string allowed_path = d + "/allowed_agents";
  {
    std::ofstream(allowed_path) << "dev-agent@keelson.dev ssh-ed25519 not-base64!\n";
  }
  std::string config = testing::ReadFileOrDie(h.config_path());
  std::size_t at = config.find("audit: {");
  ASSERT_NE(at, std::string::npos);
  config = config.substr(0, at) + "audit: {signingKey: " + d + "/agent, repository: file://" + d +
           "/audit.git, allowedAgents: " + allowed_path + "}\n";
  {
    std::ofstream(h.config_path()) << config;
  }
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return !h.AgentRunning(); }, 30s)) << h.AgentLog();
  EXPECT_NE(h.AgentLog().find("allowed_agents:1:23: audit.allowedAgents: SSH signature: public key is not valid base64"),
            std::string::npos)
      << h.AgentLog();
}

}  // namespace
}  // namespace keelson
