#include <gtest/gtest.h>

#include <limits>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/temp_dir.h"

namespace keelson::manifest {
namespace {

TEST(Json, RoundTripsKeepingOrderAndTypes) {
  Result<Node> n = ParseJson(R"({"kind":"Pod","apiVersion":"v1","spec":{"n":3,"f":1.5,"ok":true,"none":null,"l":[]}})",
                             "pod.json");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->entries()[0].key, "kind");
  EXPECT_TRUE(n->FindPath({"spec", "n"})->IsInt());
  EXPECT_EQ(EmitJson(*n), R"({"kind":"Pod","apiVersion":"v1","spec":{"n":3,"f":1.5,"ok":true,"none":null,"l":[]}})");
}

TEST(Json, ErrorsCarryLineAndColumn) {
  Result<Node> n = ParseJson("{\n  \"a\": 1,\n  \"b\": ]\n}", "x.json");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().where.file, "x.json");
  EXPECT_EQ(n.error().where.line, 3);
}

// Found by fuzz_kubeconfig: nlohmann reports a number too large for a
// double ("5555555555555E5555") as out_of_range, not parse_error; ParseJson
// let it escape and the agent would have died on such an API response.
TEST(Json, NumberTooLargeForADoubleIsAnErrorNotAnException) {
  std::string finding = keelson::testing::ReadFileOrDie(
      std::string(KEELSON_SOURCE_DIR) +
      "/tests/fuzz/findings/fuzz_kubeconfig/crash-df2040ada8069350c5a058de246e321feb0a9c1d");
  Result<Node> n = ParseJson(finding, "x.json");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(n.error().where.file, "x.json");
  EXPECT_EQ(n.error().where.line, 1);
  EXPECT_EQ(n.error().where.column, 1);
  EXPECT_NE(n.error().message.find("5555555555555E5555"), std::string::npos) << n.error().ToString();

  n = ParseJson("{\n  \"a\": [1, -1e999]\n}", "x.json");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().where.line, 2);
  EXPECT_EQ(n.error().where.column, 12) << n.error().ToString();
}

// Nesting is capped like the YAML parser's, so a hostile body cannot
// exhaust the stack while the tree is built or destroyed.
TEST(Json, DeepNestingIsALimitNotAStackOverflow) {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  Result<Node> ok = ParseJson(nested(1000), "x.json");
  EXPECT_TRUE(ok.ok()) << ok.error().ToString();
  Result<Node> deep = ParseJson(nested(1001), "x.json");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, ErrorCode::kLimitExceeded);
  EXPECT_EQ(deep.error().where.column, 1001);
  Result<Node> hostile = ParseJson(std::string(1'000'000, '['), "x.json");
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.error().code, ErrorCode::kLimitExceeded);
}

// Duplicate keys keep the first position and the last value, as before.
TEST(Json, DuplicateKeyKeepsItsPlaceAndTheLastValue) {
  Result<Node> n = ParseJson(R"({"a":1,"b":2,"a":{"c":3}})", "x.json");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(EmitJson(*n), R"({"a":{"c":3},"b":2})");
}

TEST(Json, YamlAndJsonAgree) {
  Result<Node> y = ParseYaml("a: [1, {b: x}]\n", ParseOptions{});
  Result<Node> j = ParseJson(R"({"a":[1,{"b":"x"}]})", "");
  ASSERT_TRUE(y.ok() && j.ok());
  EXPECT_EQ(*y, *j);
}

TEST(Json, NormalizesIntegralFloats) {
  Node n = Node::Sequence();
  n.Append(Node::Float(3.0));
  n.Append(Node::Float(2.5));
  n.Append(Node::Float(1e22));
  n.Append(Node::Float(9223372036854775808.0));
  n.Append(Node::Float(-9223372036854775808.0));
  n.Append(Node::Float(1152921504606846976.0));
  NormalizeJsonNumbers(n);
  EXPECT_TRUE(n.items()[0].IsInt());
  EXPECT_TRUE(n.items()[1].IsFloat());
  EXPECT_TRUE(n.items()[2].IsFloat());
  // Go's text for +-2^63 is +-9223372036854776000, past int64 both ways.
  EXPECT_TRUE(n.items()[3].IsFloat());
  EXPECT_TRUE(n.items()[4].IsFloat());
  // 2^60 reads back from its shortest digits, not its exact value.
  ASSERT_TRUE(n.items()[5].IsInt());
  EXPECT_EQ(n.items()[5].AsInt(), 1152921504606847000);
}

}  // namespace
}  // namespace keelson::manifest
