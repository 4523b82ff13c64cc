// SIGHUP end to end: the running agent re-reads its config file without
// exiting; a config that does not parse, or parses but cannot start, is
// refused with a log line naming the problem and the running one goes on.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/e2e/agent/agent_harness.h"

namespace keelson {
namespace {

using manifest::Node;
using testing::AgentHarness;
using testing::Eventually;
using namespace std::chrono_literals;

std::string Environment(bool with_tools) {
  std::string units =
      "  - name: app\n"
      "    path: app\n"
      "    namespace: default\n";
  if (with_tools) {
    units +=
        "  - name: tools\n"
        "    source: tools\n"
        "    path: tools\n"
        "    namespace: default\n";
  }
  return "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: dev}\nspec:\n  units:\n" + units;
}

std::string ConfigMap(const std::string& name, const std::string& color) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: {color: " + color + "}\n";
}

std::string Color(const AgentHarness& h, const std::string& name) {
  Node cm = h.Get("configmap", "default", name);
  const Node* color = cm.FindPath({"data", "color"});
  return color != nullptr ? color->AsString() : "";
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The source names /api/v1/status reports, in order.
std::string StatusSources(const AgentHarness& h) {
  int port = h.AgentPort();
  if (port == 0) return "";
  testing::ProcessResult r = testing::RunProgram(
      {"curl", "-sf", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/api/v1/status"});
  Result<Node> status = manifest::ParseJson(r.out, "status");
  if (r.exit_code != 0 || !status.ok() || status->Find("sources") == nullptr) return "";
  std::string names;
  for (const Node& s : status->Find("sources")->items()) names += (names.empty() ? "" : ",") + s.GetString("name");
  return names;
}

TEST(AgentReload, SighupAppliesANewConfigAndRefusesBrokenOnesWithoutExiting) {
  AgentHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  h.Commit({{"clusters/dev/keelson.yaml", Environment(false)},
            {"clusters/dev/with-tools.yaml", Environment(true)},
            {"app/config.yaml", ConfigMap("app-config", "blue")},
            {"tools/config.yaml", ConfigMap("tools-config", "blue")}},
           "initial");
  h.StartAgent();
  ASSERT_TRUE(Eventually([&] { return Color(h, "app-config") == "blue"; }, 60s)) << h.AgentLog();
  ASSERT_TRUE(Eventually([&] { return StatusSources(h) == "repo"; }, 20s)) << h.AgentLog();
  EXPECT_TRUE(h.Get("configmap", "default", "tools-config").IsNull());
  const pid_t pid = h.AgentPid();
  ASSERT_GT(pid, 0);
  const std::string original = testing::ReadFileOrDie(h.config_path());

  // A second source, and a declaration that uses it.
  Result<Node> parsed = manifest::ParseYaml(original, {});
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  Node config = std::move(parsed).value();
  Node tools = config.Find("sources")->items()[0];
  tools.Set("name", Node::String("tools"));
  config.Find("sources")->Append(tools);
  config.FindPath({"declaration", "path"})->operator=(Node::String("clusters/dev/with-tools.yaml"));
  const std::string with_tools = manifest::EmitYaml(config);
  // The config file is rewritten in place, as an operator edits it.
  testing::TempDir scratch;
  std::filesystem::copy_file(scratch.Write("agent.yaml", with_tools), h.config_path(),
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return Color(h, "tools-config") == "blue"; }, 60s)) << h.AgentLog();
  EXPECT_TRUE(Eventually([&] { return StatusSources(h) == "repo,tools"; }, 20s)) << h.AgentLog();
  EXPECT_NE(h.AgentLog().find("reloaded " + h.config_path()), std::string::npos) << h.AgentLog();
  EXPECT_TRUE(h.AgentRunning());
  EXPECT_EQ(h.AgentPid(), pid);

  // A config that does not parse: refused, naming file, line and field.
  std::string bad_interval = with_tools;
  std::size_t at = bad_interval.find("interval: 1s");
  ASSERT_NE(at, std::string::npos) << with_tools;
  bad_interval.replace(at, 12, "interval: soon");
  std::filesystem::copy_file(scratch.Write("bad.yaml", bad_interval), h.config_path(),
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] { return Count(h.AgentLog(), "reload refused") == 1; }, 30s)) << h.AgentLog();
  {
    std::string log = h.AgentLog();
    std::string line = log.substr(log.find("reload refused"));
    line = line.substr(0, line.find('\n'));
    EXPECT_NE(line.find("keeping the running configuration"), std::string::npos) << line;
    EXPECT_NE(line.find(h.config_path() + ":"), std::string::npos) << line;
    EXPECT_NE(line.find("interval"), std::string::npos) << line;
  }
  // The running config (with tools) goes on: a new commit to the second
  // source's unit is applied.
  h.Commit({{"tools/config.yaml", ConfigMap("tools-config", "green")}}, "tools: green");
  EXPECT_TRUE(Eventually([&] { return Color(h, "tools-config") == "green"; }, 60s)) << h.AgentLog();
  EXPECT_EQ(StatusSources(h), "repo,tools");

  // A config that parses but cannot start (its trust file is missing):
  // refused too, and the running config is started again in-process.
  std::string missing_signers = with_tools;
  std::size_t signers = missing_signers.find("allowed_signers");
  ASSERT_NE(signers, std::string::npos);
  missing_signers.replace(signers, 15, "no-such-allowed_signers");
  std::filesystem::copy_file(scratch.Write("missing.yaml", missing_signers), h.config_path(),
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] { return Count(h.AgentLog(), "reload refused") == 2; }, 30s)) << h.AgentLog();
  {
    std::string log = h.AgentLog();
    std::string line = log.substr(log.rfind("reload refused"));
    line = line.substr(0, line.find('\n'));
    EXPECT_NE(line.find("no-such-allowed_signers"), std::string::npos) << line;
  }
  h.Commit({{"tools/config.yaml", ConfigMap("tools-config", "red")}}, "tools: red");
  EXPECT_TRUE(Eventually([&] { return Color(h, "tools-config") == "red"; }, 60s)) << h.AgentLog();
  EXPECT_TRUE(Eventually([&] { return StatusSources(h) == "repo,tools"; }, 20s)) << h.AgentLog();
  EXPECT_TRUE(h.AgentRunning());
  EXPECT_EQ(h.AgentPid(), pid);
  EXPECT_EQ(Count(h.AgentLog(), "reloaded "), 1u) << h.AgentLog();
}

}  // namespace
}  // namespace keelson
