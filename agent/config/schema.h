// Validation against the shipped JSON Schemas (schemas/ in the source tree,
// /usr/share/keelson/schemas when installed). The readers in
// agent_config.cpp and environment.cpp check every field with their own,
// more specific messages first; the schema check runs after them on every
// document, so whatever the agent accepts also satisfies the published
// schema, and a disagreement shows up as an error naming the field.
#pragma once

#include <string>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::config {

enum class SchemaKind { kAgentConfig, kEnvironment };

// The schema's text as shipped.
const char* SchemaText(SchemaKind kind);

// Ok, or the first violation as an error naming `file`, line and field.
Status ValidateAgainstSchema(const manifest::Node& document, SchemaKind kind, const std::string& file);

}  // namespace keelson::config
