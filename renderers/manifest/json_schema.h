// JSON Schema (draft 7) validation of a Node tree, for the keywords
// configuration schemas use: type (a name or a list), enum, const,
// properties, required, additionalProperties (a boolean or a schema),
// patternProperties, items (one schema), minItems, maxItems, uniqueItems,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
// minLength, maxLength, pattern (POSIX extended syntax), allOf, anyOf,
// oneOf, not, if/then/else, and $ref to "#", "#/definitions/..." or
// "#/$defs/...". Annotations (title, description, default, examples,
// $schema, $id, $comment) and format are accepted and not checked; any
// other keyword is refused when the schema is compiled, so a schema never
// silently checks less than it says.
//
// Violations carry the instance path ("spec.units[2].drift") and the
// position of the offending node when it was parsed from text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::manifest {

struct SchemaViolation {
  std::string path;     // "" for the document itself
  std::string message;  // "must be one of \"detect\", \"correct\", \"off\""
  Mark mark;            // of the offending node (line 0 when unknown)
};

class JsonSchema {
 public:
  // Compiles `schema`; `name` names it in errors. Fails on unknown
  // keywords, malformed values, unresolvable $ref and invalid patterns.
  static Result<JsonSchema> Compile(const Node& schema, const std::string& name);

  // Every violation, in document order (empty: valid). Stops after
  // `limit` violations.
  std::vector<SchemaViolation> Validate(const Node& instance, std::size_t limit = 50) const;

  JsonSchema(JsonSchema&&) noexcept;
  JsonSchema& operator=(JsonSchema&&) noexcept;
  ~JsonSchema();

 private:
  struct Impl;
  explicit JsonSchema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The first violation as an Error in `file` (kInvalidInput), with the
// path as the field and the node's position; nullopt when there is none.
std::optional<Error> FirstViolation(const std::vector<SchemaViolation>& violations, const std::string& file);

}  // namespace keelson::manifest
