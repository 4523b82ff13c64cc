// values.schema.json validation: Helm's messages keyword by keyword, the
// chart/subchart report, and verdicts checked against Python's jsonschema
// (a second, independent implementation) when it is installed.
#include <gtest/gtest.h>

#include "renderers/helm/chart.h"
#include "renderers/helm/renderer.h"
#include "renderers/helm/schema.h"
#include "renderers/helm/values.h"
#include "renderers/manifest/filesystem.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::helm {
namespace {

Value Yaml(const std::string& text) {
  auto v = ParseValuesFile(text, "values.yaml");
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().ToString());
  return v.ok() ? *v : Value::NewMap();
}

std::vector<std::string> Check(const std::string& schema, const std::string& values) {
  auto lines = CheckValuesAgainstSchema(schema, Yaml(values));
  EXPECT_TRUE(lines.ok()) << (lines.ok() ? "" : lines.error().ToString());
  return lines.ok() ? *lines : std::vector<std::string>{"<error>"};
}

using Lines = std::vector<std::string>;

TEST(HelmSchema, TypesRequiredAndProperties) {
  const std::string schema = R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["image", "replicas"],
    "properties": {
      "replicas": {"type": "integer"},
      "ratio": {"type": "number"},
      "name": {"type": ["string", "null"]},
      "image": {"type": "object", "required": ["tag"], "properties": {"tag": {"type": "string"}}}
    }
  })";
  EXPECT_EQ(Check(schema, "replicas: 3\nratio: 1\nname: ~\nimage:\n  tag: v1\n"), Lines{});
  EXPECT_EQ(Check(schema, "replicas: 1.5\nratio: x\nname: 3\nimage:\n  tag: 1.0\n"),
            (Lines{"image.tag: Invalid type. Expected: string, given: integer",
                   "name: Invalid type. Expected: [string,null], given: integer",
                   "ratio: Invalid type. Expected: number, given: string",
                   "replicas: Invalid type. Expected: integer, given: number"}));
  EXPECT_EQ(Check(schema, "image: {}\n"), (Lines{"(root): replicas is required", "image: tag is required"}));
  EXPECT_EQ(Check(schema, "replicas: 1\nimage: v1\n"), Lines{"image: Invalid type. Expected: object, given: string"});
}

TEST(HelmSchema, EnumConstAndAdditionalProperties) {
  const std::string schema = R"({
    "properties": {
      "pullPolicy": {"enum": ["Always", "IfNotPresent", 3]},
      "kind": {"const": "web"},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
      "strict": {"type": "object", "properties": {"a": {}}, "additionalProperties": false}
    }
  })";
  EXPECT_EQ(Check(schema, "pullPolicy: 3\nkind: web\n"), Lines{});
  EXPECT_EQ(Check(schema, "pullPolicy: Never\nkind: db\nlabels:\n  app: 1\nstrict:\n  a: 1\n  c: 2\n  b: 3\n"),
            (Lines{"kind: kind does not match: \"web\"",
                   "labels.app: Invalid type. Expected: string, given: integer",
                   "pullPolicy: pullPolicy must be one of the following: \"Always\", \"IfNotPresent\", 3",
                   "strict: Additional property b is not allowed", "strict: Additional property c is not allowed"}));
}

TEST(HelmSchema, NumbersStringsAndArrays) {
  const std::string schema = R"({
    "properties": {
      "port": {"type": "integer", "minimum": 1, "maximum": 65535},
      "cpu": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 4, "multipleOf": 0.1},
      "old": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
      "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
      "hosts": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": true},
      "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}
    }
  })";
  EXPECT_EQ(Check(schema, "port: 80\ncpu: 0.3\nold: 1\nname: web\nhosts: [a]\npair: [a, 1]\n"), Lines{});
  EXPECT_EQ(Check(schema, "port: 70000\ncpu: 4\nold: 0\nname: Webserver\nhosts: [a, a, 3]\npair: [a, 1, x]\n"),
            (Lines{"cpu: Must be less than 4", "hosts.2: Invalid type. Expected: string, given: integer",
                   "hosts: Array must have at most 2 items", "hosts: array items[0,1] must be unique",
                   "name: String length must be less than or equal to 5", "name: Does not match pattern '^[a-z]+$'",
                   "old: Must be greater than 0", "pair: No additional items allowed on array",
                   "port: Must be less than or equal to 65535"}));
  EXPECT_EQ(Check(schema, "port: 0\ncpu: 0.25\nname: x\nhosts: []\n"),
            (Lines{"cpu: Must be a multiple of 0.1", "hosts: Array must have at least 1 items",
                   "name: String length must be greater than or equal to 2", "port: Must be greater than or equal to 1"}));
}

// Counts past int64 (found by fuzz_helm_schema: converting 6.4e61 to an
// integer was undefined behaviour) act as the bound nothing reaches.
TEST(HelmSchema, HugeCountsAreBoundsNothingReaches) {
  const std::string schema = R"({"properties": {"name": {"type": "string", "maxLength": 6.4e61, "minLength": -1e30},
    "hosts": {"type": "array", "minItems": -1e300, "maxItems": 1e300}}})";
  EXPECT_EQ(Check(schema, "name: web\nhosts: [a, b]\n"), Lines{});
}

TEST(HelmSchema, MultipleOfIsExactOnDecimals) {
  // Go's library divides exact rationals of the decimal texts, so 0.07 is a
  // multiple of 0.01 (floating point says 7.000000000000001).
  const std::string schema = R"({"properties": {"a": {"multipleOf": 0.01}, "b": {"multipleOf": 2.5}}})";
  EXPECT_EQ(Check(schema, "a: 0.07\nb: 12.5\n"), Lines{});
  EXPECT_EQ(Check(schema, "a: -0.07\nb: -0\n"), Lines{});  // signs play no part
  EXPECT_EQ(Check(schema, "a: 0.075\nb: 1e3\n"), Lines{"a: Must be a multiple of 0.01"});
}

TEST(HelmSchema, CombinatorsRefsAndConditions) {
  const std::string schema = R"({
    "definitions": {
      "port": {"type": "integer", "maximum": 100},
      "a~b": {"type": "string"}
    },
    "properties": {
      "port": {"$ref": "#/definitions/port"},
      "tilde": {"$ref": "#/definitions/a~0b"},
      "size": {"anyOf": [{"type": "string", "pattern": "Gi$"}, {"type": "integer", "minimum": 1}]},
      "mode": {"oneOf": [{"type": "string"}, {"type": "string", "enum": ["a"]}]},
      "both": {"allOf": [{"type": "integer"}, {"minimum": 5}]},
      "never": {"not": {"type": "string"}},
      "tls": {
        "type": "object",
        "if": {"properties": {"enabled": {"const": true}}},
        "then": {"required": ["secret"]}
      }
    }
  })";
  EXPECT_EQ(Check(schema, "port: 80\ntilde: x\nsize: 10Gi\nmode: 1\nboth: 6\nnever: 1\ntls:\n  enabled: false\n"),
            (Lines{"mode: Must validate one and only one schema (oneOf)",
                   "mode: Invalid type. Expected: string, given: integer"}));
  EXPECT_EQ(Check(schema, "port: 800\ntilde: 1\nsize: 0\nmode: a\nboth: 1\nnever: s\ntls:\n  enabled: true\n"),
            (Lines{"both: Must be greater than or equal to 5", "both: Must validate all the schemas (allOf)",
                   "mode: Must validate one and only one schema (oneOf)", "never: Must not validate the schema (not)",
                   "port: Must be less than or equal to 100", "size: Must validate at least one schema (anyOf)",
                   "size: Must be greater than or equal to 1", "tilde: Invalid type. Expected: string, given: integer",
                   "tls: Must validate \"then\" as \"if\" was valid", "tls: secret is required"}));
}

TEST(HelmSchema, SchemaJsonIsReadAsJson) {
  // Escapes (a surrogate pair among them), a repeated key (the last wins),
  // numbers with and without fractions.
  const std::string schema = R"({"properties": {"e": {"const": "\u00e9\ud83d\ude00\n"}, "n": {"maximum": 1e1},
    "i": {"type": "integer", "type": "string"}, "f": {"multipleOf": 0.5}}})";
  Value ok = Value::NewMap({{"e", Value::String("\xC3\xA9\xF0\x9F\x98\x80\n")}, {"n", Value::Float(10)},
                            {"i", Value::String("s")}, {"f", Value::Float(1.5)}});
  auto lines = CheckValuesAgainstSchema(schema, ok);
  ASSERT_TRUE(lines.ok()) << lines.error().ToString();
  EXPECT_EQ(*lines, Lines{});
  for (const char* bad : {"{\"a\": }", "[1,]", "{\"a\" 1}", "\"unterminated", "01", "{} x", "\"\\x\""}) {
    auto r = CheckValuesAgainstSchema(bad, Value::NewMap());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("unable to compile schema: invalid JSON"), std::string::npos) << r.error().message;
  }
}

TEST(HelmSchema, BadSchemasFailWithoutCrashing) {
  EXPECT_FALSE(CheckValuesAgainstSchema("{", Value::NewMap()).ok());
  EXPECT_FALSE(CheckValuesAgainstSchema(R"({"properties": {"a": {"$ref": "#/nowhere"}}})", Yaml("a: 1\n")).ok());
  EXPECT_FALSE(CheckValuesAgainstSchema(R"({"$ref": "#"})", Value::NewMap()).ok());  // refers to itself forever
  EXPECT_FALSE(CheckValuesAgainstSchema(R"({"pattern": "("})", Value::String("x")).ok());
  // Only exclusiveMaximum and exclusiveMinimum take draft 4's boolean form.
  for (const char* bound : {"maximum", "minimum", "multipleOf"}) {
    auto r = CheckValuesAgainstSchema(std::string(R"({"properties": {"a": {")") + bound + R"(": false}}})",
                                      Yaml("a: 1\n"));
    ASSERT_FALSE(r.ok()) << bound;
    EXPECT_NE(r.error().message.find(std::string(bound) + " must be a number"), std::string::npos)
        << r.error().message;
  }
  EXPECT_TRUE(CheckValuesAgainstSchema(R"({"properties": {"a": {"$ref": "http://example.com/s.json"}}})",
                                       Value::NewMap())
                  .ok());  // never reached: no value at "a"
}

manifest::MemoryFileSystem UmbrellaWithSchemas() {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml",
             "apiVersion: v2\nname: shop\nversion: 1.0.0\ndependencies:\n- name: db\n  version: 1.0.0\n"
             "- name: cache\n  version: 1.0.0\n  alias: redis\n");
  fs.AddFile("values.yaml", "replicas: 2\n");
  fs.AddFile("values.schema.json", R"({"properties": {"replicas": {"type": "integer", "minimum": 1}}})");
  fs.AddFile("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
  fs.AddFile("charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n");
  fs.AddFile("charts/db/values.yaml", "port: 5432\n");
  fs.AddFile("charts/db/values.schema.json", R"({"required": ["port"], "properties": {"port": {"type": "integer"}}})");
  fs.AddFile("charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 1.0.0\n");
  fs.AddFile("charts/cache/values.schema.json", R"({"properties": {"size": {"enum": ["s", "m"]}}})");
  return fs;
}

Result<std::string> RenderWith(const std::string& set) {
  auto fs = UmbrellaWithSchemas();
  auto chart = LoadChart(fs, "");
  if (!chart.ok()) return std::move(chart).error();
  Value user = Value::NewMap();
  if (!set.empty()) {
    Status st = ApplySet(user, set, SetKind::kTyped);
    if (!st.ok()) return std::move(st).error();
  }
  return RenderChart(**chart, user, {});
}

TEST(HelmSchema, ChartAndSubchartsAreCheckedWithTheirOwnValues) {
  EXPECT_TRUE(RenderWith("").ok());
  EXPECT_TRUE(RenderWith("redis.size=m").ok());
  auto bad = RenderWith("replicas=0,db.port=x,redis.size=xl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "values don't meet the specifications of the schema(s) in the following chart(s):\n"
            "shop:\n- replicas: Must be greater than or equal to 1\n"
            "db:\n- port: Invalid type. Expected: integer, given: string\n"
            "redis:\n- size: size must be one of the following: \"s\", \"m\"\n");
  // null deletes db.port; the subchart's schema requires it.
  auto deleted = RenderWith("db.port=null");
  ASSERT_FALSE(deleted.ok());
  EXPECT_NE(deleted.error().message.find("db:\n- (root): port is required\n"), std::string::npos)
      << deleted.error().message;
}

// The verdicts (valid or not) of Python's jsonschema, Draft 7, for the same
// documents.
TEST(HelmSchema, VerdictsAgreeWithAnotherImplementation) {
  if (!testing::HaveProgram("python3") ||
      testing::RunProgram({"python3", "-c", "import jsonschema"}).exit_code != 0) {
    GTEST_SKIP() << "python3 with jsonschema is not installed";
  }
  struct Case {
    const char* schema;
    const char* values;
  };
  const Case cases[] = {
      {R"({"properties": {"a": {"type": "integer"}}})", "a: 1.0\n"},
      {R"({"properties": {"a": {"type": "integer"}}})", "a: 1.5\n"},
      {R"({"properties": {"a": {"multipleOf": 0.01}}})", "a: 0.075\n"},
      {R"({"properties": {"a": {"multipleOf": 3}}})", "a: 1e20\n"},
      {R"({"properties": {"a": {"exclusiveMaximum": 10}}})", "a: 10\n"},
      {R"({"properties": {"a": {"minLength": 3}}})", "a: \"äöü\"\n"},
      {R"({"properties": {"a": {"pattern": "^v[0-9]"}}})", "a: x-v1\n"},
      {R"({"properties": {"a": {"pattern": "v[0-9]"}}})", "a: x-v1\n"},
      {R"({"properties": {"a": {"uniqueItems": true}}})", "a: [1, 1.0]\n"},
      {R"({"properties": {"a": {"uniqueItems": true}}})", "a: [{x: 1, y: 2}, {y: 2, x: 1}]\n"},
      {R"({"properties": {"a": {"enum": [[1, 2], {"k": "v"}]}}})", "a: {k: v}\n"},
      {R"({"properties": {"a": {"const": {"k": [1, "2"]}}}})", "a: {k: [1, \"2\"]}\n"},
      {R"({"properties": {"a": {"oneOf": [{"minimum": 1}, {"maximum": 5}]}}})", "a: 3\n"},
      {R"({"properties": {"a": {"oneOf": [{"minimum": 1}, {"maximum": 5}]}}})", "a: 7\n"},
      {R"({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false})", "x-a: s\ny: 1\n"},
      {R"({"propertyNames": {"maxLength": 3}})", "abcd: 1\n"},
      {R"({"dependencies": {"a": ["b"]}})", "a: 1\n"},
      {R"({"properties": {"l": {"contains": {"type": "string"}}}})", "l: [1, 2]\n"},
      {R"({"properties": {"l": {"items": false}}})", "l: [1]\n"},
      {R"({"properties": {"n": {"type": "null"}}})", "n: ~\n"},
      {R"({"if": {"required": ["a"]}, "else": {"required": ["b"]}})", "c: 1\n"},
      {R"({"definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s"}}})", "a: 1\n"},
  };
  // One Python run judges every case: one JSON array of [schema, values].
  std::string batch = "[";
  std::vector<std::string> ours;
  for (const Case& c : cases) {
    auto lines = CheckValuesAgainstSchema(c.schema, Yaml(c.values));
    ASSERT_TRUE(lines.ok()) << c.schema << ": " << lines.error().ToString();
    ours.push_back(lines->empty() ? "valid" : "invalid");
    batch += (batch.size() > 1 ? "," : "") + std::string("[") + c.schema + "," + ToJsonText(Yaml(c.values)) + "]";
  }
  batch += "]";
  testing::TempDir dir;
  dir.Write("cases.json", batch);
  auto peer = testing::RunProgram(
      {"python3", "-c",
       "import json, sys, jsonschema\n"
       "for s, v in json.load(open(sys.argv[1])):\n"
       "    print('invalid' if list(jsonschema.Draft7Validator(s).iter_errors(v)) else 'valid')\n",
       dir.path() + "/cases.json"});
  ASSERT_EQ(peer.exit_code, 0) << peer.err;
  std::size_t start = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    std::size_t nl = peer.out.find('\n', start);
    ASSERT_NE(nl, std::string::npos) << peer.out;
    EXPECT_EQ(ours[i], peer.out.substr(start, nl - start)) << cases[i].schema << " with " << cases[i].values;
    start = nl + 1;
  }
}

}  // namespace
}  // namespace keelson::helm
