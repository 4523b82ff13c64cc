#include "agent/config/schema.h"

#include <cstdlib>

#include "keelson/config_schemas.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/json_schema.h"

namespace keelson::config {

const char* SchemaText(SchemaKind kind) {
  return kind == SchemaKind::kAgentConfig ? generated::kAgentConfigSchema : generated::kEnvironmentSchema;
}

namespace {

// Compiled once; the texts are part of the build, so a failure here is a
// broken build, caught by the schema unit test.
const manifest::JsonSchema& Compiled(SchemaKind kind) {
  auto compile = [](SchemaKind k, const char* name) {
    Result<manifest::Node> node = manifest::ParseJson(SchemaText(k), name);
    if (!node.ok()) std::abort();
    Result<manifest::JsonSchema> schema = manifest::JsonSchema::Compile(*node, name);
    if (!schema.ok()) std::abort();
    return std::move(schema).value();
  };
  static const manifest::JsonSchema agent = compile(SchemaKind::kAgentConfig, "agent-config.schema.json");
  static const manifest::JsonSchema environment = compile(SchemaKind::kEnvironment, "environment.schema.json");
  return kind == SchemaKind::kAgentConfig ? agent : environment;
}

}  // namespace

Status ValidateAgainstSchema(const manifest::Node& document, SchemaKind kind, const std::string& file) {
  std::optional<Error> e = manifest::FirstViolation(Compiled(kind).Validate(document, 1), file);
  if (e) {
    e->message += " (schema " + std::string(kind == SchemaKind::kAgentConfig ? "agent-config" : "environment") +
                  ".schema.json)";
    return *e;
  }
  return Status::Ok();
}

}  // namespace keelson::config
