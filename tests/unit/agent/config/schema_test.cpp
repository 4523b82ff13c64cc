// The shipped JSON Schemas: they compile, they accept every configuration
// the project ships or documents, and the readers enforce them on top of
// their own per-field checks.
#include "agent/config/schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/config/agent_config.h"
#include "agent/config/environment.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/json_schema.h"
#include "renderers/manifest/yaml.h"

namespace keelson::config {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(Schemas, CompiledTextIsTheShippedFile) {
  EXPECT_EQ(SchemaText(SchemaKind::kAgentConfig), Read(KEELSON_SOURCE_DIR "/schemas/agent-config.schema.json"));
  EXPECT_EQ(SchemaText(SchemaKind::kEnvironment), Read(KEELSON_SOURCE_DIR "/schemas/environment.schema.json"));
  for (SchemaKind kind : {SchemaKind::kAgentConfig, SchemaKind::kEnvironment}) {
    Result<manifest::Node> node = manifest::ParseJson(SchemaText(kind), "schema.json");
    ASSERT_TRUE(node.ok()) << node.error().ToString();
    Result<manifest::JsonSchema> schema = manifest::JsonSchema::Compile(*node, "schema.json");
    EXPECT_TRUE(schema.ok()) << schema.error().ToString();
  }
}

// What the project ships and documents is valid under both the readers and
// the schemas.
TEST(Schemas, ShippedConfigurationsAreValid) {
  Result<AgentConfig> packaged = LoadAgentConfig(KEELSON_SOURCE_DIR "/packaging/agent.yaml");
  EXPECT_TRUE(packaged.ok()) << packaged.error().ToString();
  int declarations = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(KEELSON_SOURCE_DIR "/examples/clusters")) {
    if (entry.path().filename() != "keelson.yaml") continue;
    ++declarations;
    Result<EnvironmentSpec> env = ParseEnvironment(Read(entry.path()), entry.path().string(), "examples");
    EXPECT_TRUE(env.ok()) << env.error().ToString();
  }
  EXPECT_GE(declarations, 1);
  // The examples in docs/configuration.md.
  std::string doc = Read(KEELSON_SOURCE_DIR "/docs/configuration.md");
  std::size_t at = doc.find("```yaml\napiVersion: keelson.dev/v1alpha1\nkind: Environment");
  ASSERT_NE(at, std::string::npos);
  std::size_t start = at + 8;
  std::string example = doc.substr(start, doc.find("```", start) - start);
  Result<EnvironmentSpec> documented = ParseEnvironment(example, "docs/configuration.md", "repo");
  EXPECT_TRUE(documented.ok()) << documented.error().ToString();
}

// The schema check runs after the readers' own: it catches what they let
// through, naming the file, line and field.
TEST(Schemas, ReadersEnforceTheSchema) {
  const std::string env = "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: prod\n"
                          "  labels: {tier: 1}\nspec:\n  units:\n  - name: web\n    path: web\n";
  Result<EnvironmentSpec> parsed = ParseEnvironment(env, "keelson.yaml", "repo");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().ToString(),
            "keelson.yaml:5:18: metadata.labels.tier: must be a string (schema environment.schema.json)");
  const std::string agent = "apiVersion: keelson.dev/v1alpha1\nkind: AgentConfig\nenvironment: prod\n"
                            "sources:\n- name: repo\n  url: file:///srv/repo.git\n  trust: {mode: none}\n"
                            "declaration: {source: repo, path: clusters/prod/keelson.yaml}\n"
                            "notifications: {routes: [{name: chat, kind: slack, secretFile: /s, units: [1]}]}\n";
  Result<AgentConfig> config = ParseAgentConfig(agent, "agent.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().ToString().find("notifications.routes[0].units"), std::string::npos)
      << config.error().ToString();
}

}  // namespace
}  // namespace keelson::config
