#include <gtest/gtest.h>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/temp_dir.h"

namespace keelson::manifest {
namespace {

// Parse, apply Kustomize's JSON number round trip, emit.
std::string RoundTrip(std::string_view text) {
  ParseOptions options;
  Result<Node> r = ParseYaml(text, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  if (!r.ok()) return "";
  NormalizeJsonNumbers(*r);
  return EmitYaml(*r);
}

TEST(YamlEmitter, MatchesKubectlKustomizeScalarStyles) {
  // Expected text is what `kubectl kustomize` (v5.5.0) printed for this input.
  const char* input = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: x
data:
  b: "1"
  a10: "x"
  a9: y
  _x: 'z'
  A: "0755"
  Z-: yes
  "-a": on
  ok: "true"
  e: ""
  t: "a\tb"
  emoji: "😀 é"
  colon: "a: b"
  hash: "a #b"
  lead: " x"
  ml: "line1\nline2\n"
  ml2: "line1 \nline2"
  ml3: "  indented\nx\n\n"
  f: 1.0
  g: 1e3
  n: null
  long: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"
  longq: "Lorem: ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"
spec:
  list: [1, 2.50, "3", {a: b, c: [x]}, [y, z]]
  em: {}
  el: []
  o: 0o17
  h: 0x1F
  oct: 0755
  y: yes
  base60: 1:20
)";
  const char* expected = R"(apiVersion: v1
data:
  -a: "on"
  _x: z
  A: "0755"
  Z-: "yes"
  a9: "y"
  a10: x
  b: "1"
  colon: 'a: b'
  e: ""
  emoji: "\U0001F600 é"
  f: 1
  g: 1000
  hash: 'a #b'
  lead: ' x'
  long: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor
    incididunt ut labore et dolore magna aliqua
  longq: 'Lorem: ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod
    tempor incididunt ut labore et dolore magna aliqua'
  ml: |
    line1
    line2
  ml2: "line1 \nline2"
  ml3: |2+
      indented
    x

  "n": null
  ok: "true"
  t: "a\tb"
kind: ConfigMap
metadata:
  name: x
spec:
  base60: "1:20"
  el: []
  em: {}
  h: 31
  list:
  - 1
  - 2.5
  - "3"
  - a: b
    c:
    - x
  - - "y"
    - z
  o: 15
  oct: 493
  "y": "yes"
)";
  EXPECT_EQ(RoundTrip(input), expected);
}

TEST(YamlEmitter, QuotesDatesAndKeepsSourceOrderWhenAsked) {
  Node n = Node::Mapping();
  n.Set("z", Node::String("2024-01-02"));
  n.Set("a", Node::String("plain"));
  EmitOptions keep;
  keep.sort_keys = false;
  EXPECT_EQ(EmitYaml(n, keep), "z: \"2024-01-02\"\na: plain\n");
  EXPECT_EQ(EmitYaml(n), "a: plain\nz: \"2024-01-02\"\n");
}

TEST(YamlEmitter, FoldsLongDoubleQuotedStrings) {
  Node n = Node::Mapping();
  n.Set("k", Node::String(std::string(50, 'a') + " \t " + std::string(40, 'b') + " " + std::string(10, 'c')));
  EXPECT_EQ(EmitYaml(n), "k: \"" + std::string(50, 'a') + " \\t " + std::string(40, 'b') + "\n  " +
                             std::string(10, 'c') + "\"\n");
}

TEST(YamlEmitter, SortsKeysTheGoYamlWay) {
  EXPECT_TRUE(GoYamlKeyLess("a9", "a10"));
  EXPECT_TRUE(GoYamlKeyLess("-a", "A"));
  EXPECT_TRUE(GoYamlKeyLess("Z", "a"));
  EXPECT_TRUE(GoYamlKeyLess("a", "ab"));
  EXPECT_FALSE(GoYamlKeyLess("b", "a"));
}

// Found by fuzz_yaml: go-yaml reads a run of digits in a key as an int64,
// and a 95-digit key overflowed it. Go defines that overflow (the value
// wraps around); in C++ it was undefined behaviour, which the sanitizer
// build aborts on. The order stays go-yaml's, wraparound included, and the
// document still emits and reads back the same.
TEST(YamlEmitter, SortsDigitRunsTooLongForInt64AsGoYamlDoes) {
  // 2^64 wraps to 0, so it sorts before 2; 2^63 wraps to the minimum.
  EXPECT_TRUE(GoYamlKeyLess("18446744073709551616", "2"));
  EXPECT_FALSE(GoYamlKeyLess("2", "18446744073709551616"));
  EXPECT_TRUE(GoYamlKeyLess("9223372036854775808", "1"));
  EXPECT_FALSE(GoYamlKeyLess("9223372036854775807", "1"));
  EXPECT_TRUE(GoYamlKeyLess("x" + std::string(95, '4') + "b", "x5"));

  std::string finding =
      keelson::testing::ReadFileOrDie(std::string(KEELSON_SOURCE_DIR) +
                                      "/tests/fuzz/findings/fuzz_yaml/crash-57505e0aafa057d875f0334197a8980e51418b54");
  ParseOptions options;
  options.file = "finding.yaml";
  Result<std::vector<Node>> docs = ParseYamlStream(finding, options);
  ASSERT_TRUE(docs.ok()) << docs.error().ToString();
  for (Node& doc : *docs) {
    NormalizeJsonNumbers(doc);
    std::string emitted = EmitYaml(doc);
    Result<Node> again = ParseYaml(emitted, options);
    ASSERT_TRUE(again.ok()) << again.error().ToString() << "\n" << emitted;
    NormalizeJsonNumbers(*again);
    EXPECT_EQ(*again, doc) << emitted;
  }
}

TEST(YamlEmitter, EmitsStreamsWithSeparators) {
  std::vector<Node> docs(2, Node::Mapping());
  docs[0].Set("a", Node::Int(1));
  docs[1].Set("b", Node::Bool(false));
  EXPECT_EQ(EmitYamlStream(docs), "a: 1\n---\nb: false\n");
}

TEST(YamlEmitter, InvalidUtf8BecomesBinary) {
  Node n = Node::Mapping();
  n.Set("k", Node::String("\xff\xfe"));
  EXPECT_EQ(EmitYaml(n), "k: !!binary //4=\n");
}

}  // namespace
}  // namespace keelson::manifest

namespace keelson::manifest {
namespace {

TEST(YamlEmitter, LongKeysBecomeComplexKeys) {
  Node n = Node::Mapping();
  std::string key(130, 'k');
  n.Set(key, Node::String("v"));
  std::string out = EmitYaml(n);
  EXPECT_EQ(out, "? " + key + "\n: v\n");
  Result<Node> back = ParseYaml(out, ParseOptions{});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, n);
}

}  // namespace
}  // namespace keelson::manifest
