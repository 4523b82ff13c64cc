#include "renderers/manifest/json_schema.h"

#include <gtest/gtest.h>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

namespace keelson::manifest {
namespace {

Node Yaml(const std::string& text) {
  ParseOptions options;
  options.file = "doc.yaml";
  Result<Node> n = ParseYaml(text, options);
  EXPECT_TRUE(n.ok()) << n.error().ToString();
  return n.ok() ? *n : Node();
}

JsonSchema Compile(const std::string& json) {
  Result<Node> n = ParseJson(json, "schema.json");
  EXPECT_TRUE(n.ok()) << n.error().ToString();
  Result<JsonSchema> s = JsonSchema::Compile(*n, "schema.json");
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

std::vector<std::string> Violations(const JsonSchema& schema, const std::string& yaml) {
  std::vector<std::string> out;
  for (const SchemaViolation& v : schema.Validate(Yaml(yaml))) {
    out.push_back(v.path + ": " + v.message + " @" + std::to_string(v.mark.line) + ":" + std::to_string(v.mark.column));
  }
  return out;
}

const char* kUnitSchema = R"json({
  "type": "object",
  "additionalProperties": false,
  "required": ["name"],
  "properties": {
    "name": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", "maxLength": 63},
    "drift": {"enum": ["detect", "correct", "off"]},
    "replicas": {"type": "integer", "minimum": 0, "exclusiveMaximum": 100},
    "ratio": {"type": "number", "multipleOf": 0.5},
    "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true, "maxItems": 3},
    "kind": {"const": "Unit"},
    "child": {"$ref": "#/definitions/child"},
    "gates": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["windows"]}]},
    "either": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
    "path": {"type": "string", "not": {"pattern": "(^|/)\\.\\.(/|$)"}},
    "mode": {"type": "string"},
    "extra": {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": {"type": "string"}}
  },
  "if": {"properties": {"mode": {"const": "helm"}}, "required": ["mode"]},
  "then": {"required": ["chart"]},
  "definitions": {"child": {"type": ["object", "null"], "properties": {"child": {"$ref": "#/definitions/child"}}}}
})json";

TEST(JsonSchema, ValidDocumentsPass) {
  JsonSchema s = Compile(kUnitSchema);
  EXPECT_TRUE(Violations(s, "name: web\ndrift: correct\nreplicas: 3\nratio: 1.5\ntags: [a, b]\nkind: Unit\n"
                            "child: {child: {child: null}}\ngates: g.yaml\neither: true\npath: apps/web\n"
                            "extra: {x-count: 2, note: hi}\n")
                  .empty());
  EXPECT_TRUE(Violations(s, "name: web\ngates: {windows: []}\neither: 4\n").empty());
}

TEST(JsonSchema, EachKeywordReportsItsPathAndPosition) {
  JsonSchema s = Compile(kUnitSchema);
  EXPECT_EQ(Violations(s, "drift: sometimes\n"),
            (std::vector<std::string>{": required field \"name\" is missing @1:1",
                                      "drift: must be one of \"detect\", \"correct\", \"off\" (got \"sometimes\") @1:8"}));
  EXPECT_EQ(Violations(s, "name: web\nreplicas: 100\n"),
            (std::vector<std::string>{"replicas: must be less than 100 @2:11"}));
  EXPECT_EQ(Violations(s, "name: web\nreplicas: -1\n"), (std::vector<std::string>{"replicas: must be at least 0 @2:11"}));
  EXPECT_EQ(Violations(s, "name: web\nreplicas: two\n"),
            (std::vector<std::string>{"replicas: must be an integer @2:11"}));
  EXPECT_EQ(Violations(s, "name: Web_1\n"),
            (std::vector<std::string>{"name: must match ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ (got \"Web_1\") @1:7"}));
  EXPECT_EQ(Violations(s, "name: web\nspeed: 3\n"),
            (std::vector<std::string>{"speed: unknown field (known fields: name, drift, replicas, ratio, tags, kind, "
                                      "child, gates, either, path, mode, extra) @2:1"}));
  EXPECT_EQ(Violations(s, "name: web\ntags: [a, a, '', d]\n"),
            (std::vector<std::string>{"tags: must have at most 3 item(s) @2:7", "tags[1]: repeats item 0 @2:11",
                                      "tags[2]: must not be empty @2:14"}));
  EXPECT_EQ(Violations(s, "name: web\nratio: 0.7\n"), (std::vector<std::string>{"ratio: must be a multiple of 0.5 @2:8"}));
  EXPECT_EQ(Violations(s, "name: web\nkind: Other\n"), (std::vector<std::string>{"kind: must be \"Unit\" @2:7"}));
  EXPECT_EQ(Violations(s, "name: web\nchild: {child: {child: 5}}\n"),
            (std::vector<std::string>{"child.child.child: must be object or null @2:24"}));
  EXPECT_EQ(Violations(s, "name: web\ngates: {}\n"),
            (std::vector<std::string>{
                "gates: must match one of the allowed forms: required field \"windows\" is missing @2:8"}));
  EXPECT_EQ(Violations(s, "name: web\neither: x\n"),
            (std::vector<std::string>{"either: must match at least one of the allowed forms: must be an integer @2:9"}));
  EXPECT_EQ(Violations(s, "name: web\npath: ../etc\n"),
            (std::vector<std::string>{"path: is not allowed (it matches a forbidden form) @2:7"}));
  EXPECT_EQ(Violations(s, "name: web\nmode: helm\n"), (std::vector<std::string>{": required field \"chart\" is missing @1:1"}));
  EXPECT_EQ(Violations(s, "name: web\nextra: {x-n: a, other: 1}\n"),
            (std::vector<std::string>{"extra.x-n: must be an integer @2:14", "extra.other: must be a string @2:24"}));
}

TEST(JsonSchema, BadSchemasAreRefusedWhenCompiled) {
  for (const char* bad : {R"({"type": "text"})", R"({"pattern": "("})", R"({"$ref": "#/definitions/none"})",
                          R"({"$ref": "https://example.com/s.json"})", R"({"minLength": -1})",
                          R"({"propertyNames": {}})", R"({"items": [{}]})", R"({"$ref": "#", "type": "object"})", "3"}) {
    Result<Node> n = ParseJson(bad, "schema.json");
    ASSERT_TRUE(n.ok()) << bad;
    EXPECT_FALSE(JsonSchema::Compile(*n, "schema.json").ok()) << bad;
  }
}

TEST(JsonSchema, FirstViolationIsAnErrorNamingFileLineAndField) {
  JsonSchema s = Compile(kUnitSchema);
  std::optional<Error> e = FirstViolation(s.Validate(Yaml("name: web\ndrift: never\n")), "keelson.yaml");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->ToString(), "keelson.yaml:2:8: drift: must be one of \"detect\", \"correct\", \"off\" (got \"never\")");
  EXPECT_FALSE(FirstViolation(s.Validate(Yaml("name: web\n")), "keelson.yaml").has_value());
}

}  // namespace
}  // namespace keelson::manifest
