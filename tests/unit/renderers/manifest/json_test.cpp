#include <gtest/gtest.h>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

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
  NormalizeJsonNumbers(n);
  EXPECT_TRUE(n.items()[0].IsInt());
  EXPECT_TRUE(n.items()[1].IsFloat());
  EXPECT_TRUE(n.items()[2].IsFloat());
}

}  // namespace
}  // namespace keelson::manifest
