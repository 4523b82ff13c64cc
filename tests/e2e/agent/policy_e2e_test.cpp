// Policies and change gates enforced by the agent end to end: a revision a
// policy denies never reaches the cluster and the reason is reported; a
// revision a change freeze holds back goes through when the freeze ends,
// without a new commit.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "tests/e2e/agent/agent_harness.h"

namespace keelson {
namespace {

using testing::AgentHarness;
using testing::Eventually;
using namespace std::chrono_literals;

const char* kUnits = R"(  units:
  - name: infra
    path: infra
  - name: web
    path: web
    namespace: app
    dependsOn: [infra]
    healthTimeout: 8s
)";

std::string Environment(const std::string& extra_spec) {
  return "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n" + extra_spec + kUnits;
}

const char* kNoLatestPolicy = R"(name: no-latest
description: Images name a fixed tag.
match: {kinds: [Deployment]}
check: containers.all(c, imageTag(c.image) != 'latest' && imageTag(c.image) != '')
message: "{{ object.metadata.name }} uses {{ containers.map(c, c.image).join(', ') }}"
)";

std::string WebDeployment(const std::string& image) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
         "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
         "    spec:\n      containers: [{name: main, image: \"" + image + "\"}]\n";
}

std::string Image(const manifest::Node& deployment) {
  const manifest::Node* containers = deployment.FindPath({"spec", "template", "spec", "containers"});
  return containers != nullptr && !containers->empty() ? containers->items()[0].GetString("image") : "";
}

std::string Status(const AgentHarness& h) { return h.Keelson({"status", "--config", h.config_path()}).out; }

TEST(AgentPolicies, ADeniedRevisionLeavesTheClusterUntouchedAndSaysWhy) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit({{"clusters/dev/keelson.yaml", Environment("  policies: {builtin: false, directories: [policies]}\n")},
            {"policies/no-latest.yaml", kNoLatestPolicy},
            {"infra/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"},
            {"web/deployment.yaml", WebDeployment("nginx:1.25")}},
           "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.25"; }, 60s))
      << h.AgentLog();
  auto web_patches = [&] {
    std::size_t n = 0;
    for (const std::string& r : h.SandboxRequests()) n += r == "PATCH /apis/apps/v1/namespaces/app/deployments/web";
    return n;
  };
  std::size_t patches_before = web_patches();
  h.Commit({{"web/deployment.yaml", WebDeployment("nginx:latest")}}, "use latest");
  ASSERT_TRUE(Eventually([&] { return Status(h).find("denied by policy") != std::string::npos; }, 60s))
      << h.AgentLog();
  std::string status = Status(h);
  EXPECT_NE(status.find("policy/no-latest"), std::string::npos) << status;
  EXPECT_NE(status.find("web uses nginx:latest"), std::string::npos) << status;
  EXPECT_NE(h.AgentLog().find("unit web: policy deny policy/no-latest"), std::string::npos) << h.AgentLog();
  // Nothing of the denied revision reached the cluster.
  EXPECT_EQ(Image(h.Get("deployment", "app", "web")), "nginx:1.25");
  EXPECT_EQ(web_patches(), patches_before);
  EXPECT_EQ(h.AgentLog().find(" error audit:"), std::string::npos) << h.AgentLog();
  // The decision is in the signed audit trail.
  EXPECT_TRUE(Eventually(
      [&] {
        testing::ProcessResult trail = testing::RunProgram(
            {"git", "--git-dir=" + h.dir() + "/state/audit.git", "log", "-p", "keelson/audit/dev"});
        return trail.out.find("policy/no-latest") != std::string::npos &&
               trail.out.find("web uses nginx:latest") != std::string::npos;
      },
      10s));
  // A policy violation needs a new commit: fixing it lets the unit through.
  h.Commit({{"web/deployment.yaml", WebDeployment("nginx:1.27")}}, "pin the image");
  EXPECT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.27"; }, 60s))
      << h.AgentLog();
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Approvals judge every commit since the last revision the gates let
// through: an unrelated commit on top of an unapproved change does not carry
// it in, and neither does a restart (kill -9); an approval does.
TEST(AgentPolicies, AnUnapprovedChangeStaysDeniedUnderNewCommitsAndRestarts) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  const std::string gates =
      "  gates:\n    approvals:\n    - name: web-review\n      paths: [\"web/**\"]\n      required: 1\n"
      "      units: [web]\n      approvers: [bob@example.com]\n      attesters: [alice@example.com]\n";
  h.Commit({{"clusters/dev/keelson.yaml", Environment(gates)},
            {"infra/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"},
            {"web/deployment.yaml", WebDeployment("nginx:1.25")}},
           "initial\n\nApproved-by: bob@example.com");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.25"; }, 60s))
      << h.AgentLog();
  const std::string denial = "unit web: policy deny approval/web-review";
  h.Commit({{"web/deployment.yaml", WebDeployment("nginx:1.26")}}, "bump web without review");
  ASSERT_TRUE(Eventually([&] { return Count(h.AgentLog(), denial) >= 1; }, 60s)) << h.AgentLog();
  // An unrelated change on top: the range still holds the unreviewed one.
  std::string docs = h.Commit({{"README.md", "notes\n"}}, "docs only");
  ASSERT_TRUE(Eventually([&] { return h.AgentLog().find("reconciling " + docs.substr(0, 12)) != std::string::npos; },
                         60s))
      << h.AgentLog();
  ASSERT_TRUE(Eventually([&] { return Count(h.AgentLog(), denial) >= 2; }, 30s)) << h.AgentLog();
  EXPECT_EQ(Image(h.Get("deployment", "app", "web")), "nginx:1.25");
  // A crash and a restart: still denied.
  std::size_t before = Count(h.AgentLog(), denial);
  h.KillAgent();
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Count(h.AgentLog(), denial) > before; }, 60s)) << h.AgentLog();
  EXPECT_EQ(Image(h.Get("deployment", "app", "web")), "nginx:1.25");
  // The review arrives: the whole range goes through.
  h.Commit({{"NOTES.md", "reviewed\n"}}, "record the review\n\nApproved-by: bob@example.com");
  EXPECT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.26"; }, 60s))
      << h.AgentLog();
  EXPECT_EQ(h.AgentLog().find("error audit:"), std::string::npos) << h.AgentLog();
}

// A freeze that started at the top of the current minute (UTC) and ends
// `seconds_left` from now.
std::string FreezeEndingIn(int seconds_left) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  int duration = utc.tm_sec + seconds_left;
  return "  gates:\n    windows:\n    - name: release-freeze\n      kind: deny\n      units: [web]\n"
         "      schedule: \"" + std::to_string(utc.tm_min) + " " + std::to_string(utc.tm_hour) + " " +
         std::to_string(utc.tm_mday) + " " + std::to_string(utc.tm_mon + 1) + " *\"\n" +
         "      duration: " + std::to_string(duration) + "s\n      timeZone: UTC\n";
}

// The source is polled only every 10 minutes here, so the only thing that
// can run the second pass in time is the agent's retry at the freeze's end.
TEST(AgentPolicies, AFrozenRevisionGoesThroughWhenTheFreezeEndsWithoutANewCommit) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  {
    std::ifstream in(h.config_path());
    std::stringstream text;
    text << in.rdbuf();
    std::string config = text.str();
    std::size_t at = config.find("interval: 1s");
    ASSERT_NE(at, std::string::npos) << config;
    config.replace(at, 12, "interval: 10m");
    std::ofstream(h.config_path()) << config;
  }
  constexpr int kFreezeSeconds = 20;
  auto freeze_ends = std::chrono::system_clock::now() + std::chrono::seconds(kFreezeSeconds);
  std::string head = h.Commit({{"clusters/dev/keelson.yaml", Environment(FreezeEndingIn(kFreezeSeconds))},
                               {"infra/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"},
                               {"web/deployment.yaml", WebDeployment("nginx:1.26")}},
                              "web during the freeze");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Status(h).find("change freeze release-freeze") != std::string::npos; }, 30s))
      << h.AgentLog();
  // The unfrozen unit went ahead; the frozen one is not in the cluster.
  EXPECT_FALSE(h.Get("namespace", "", "app").IsNull());
  if (std::chrono::system_clock::now() < freeze_ends - 1s) {
    EXPECT_TRUE(h.Get("deployment", "app", "web").IsNull()) << "applied during the freeze";
  }
  ASSERT_TRUE(Eventually([&] { return Image(h.Get("deployment", "app", "web")) == "nginx:1.26"; },
                         std::chrono::seconds(kFreezeSeconds + 30)))
      << h.AgentLog();
  EXPECT_GE(std::chrono::system_clock::now(), freeze_ends - 1s);
  EXPECT_NE(h.AgentLog().find("a denied revision may pass now"), std::string::npos) << h.AgentLog();
  EXPECT_EQ(h.AgentLog().find(" error audit:"), std::string::npos) << h.AgentLog();
  // The same commit went through: no new one was made.
  EXPECT_TRUE(Eventually(
      [&] { return h.AgentLog().find("unit web: applied " + head.substr(0, 12)) != std::string::npos; }, 30s))
      << h.AgentLog();
}

}  // namespace
}  // namespace keelson
