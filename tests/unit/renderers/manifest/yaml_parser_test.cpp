#include <gtest/gtest.h>

#include "renderers/manifest/yaml.h"

namespace keelson::manifest {
namespace {

Node Parse(std::string_view text, Schema schema = Schema::kKubernetes) {
  ParseOptions options;
  options.file = "test.yaml";
  options.schema = schema;
  Result<Node> r = ParseYaml(text, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : Node();
}

Error ParseError(std::string_view text, ParseOptions options = {}) {
  if (options.file.empty()) options.file = "bad.yaml";
  Result<std::vector<Node>> r = ParseYamlStream(text, options);
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : std::move(r).error();
}

TEST(YamlParser, KeepsFieldOrder) {
  Node n = Parse("zeta: 1\nalpha: 2\nmid: 3\n");
  ASSERT_EQ(n.entries().size(), 3u);
  EXPECT_EQ(n.entries()[0].key, "zeta");
  EXPECT_EQ(n.entries()[1].key, "alpha");
  EXPECT_EQ(n.entries()[2].key, "mid");
}

TEST(YamlParser, TypesPlainScalarsLikeKubernetes) {
  Node n = Parse("a: 0755\nb: \"0755\"\nc: yes\nd: true\ne: 1.5\nf: ~\ng: 0x1F\nh: 1_000\ni: .inf\nj: 12abc\nk: ''\n");
  EXPECT_TRUE(n.Find("a")->IsInt());
  EXPECT_EQ(n.Find("a")->AsInt(), 493);
  EXPECT_EQ(n.Find("b")->AsString(), "0755");
  EXPECT_EQ(n.Find("c")->AsString(), "yes");
  EXPECT_TRUE(n.Find("d")->AsBool());
  EXPECT_DOUBLE_EQ(n.Find("e")->AsFloat(), 1.5);
  EXPECT_TRUE(n.Find("f")->IsNull());
  EXPECT_EQ(n.Find("g")->AsInt(), 31);
  EXPECT_EQ(n.Find("h")->AsInt(), 1000);
  EXPECT_TRUE(n.Find("i")->IsFloat());
  EXPECT_EQ(n.Find("j")->AsString(), "12abc");
  EXPECT_EQ(n.Find("k")->AsString(), "");
}

TEST(YamlParser, Yaml11SchemaReadsYesNoAsBooleans) {
  Node n = Parse("a: yes\nb: Off\nc: y\nd: \"yes\"\n", Schema::kYaml11);
  EXPECT_TRUE(n.Find("a")->AsBool());
  EXPECT_FALSE(n.Find("b")->AsBool());
  EXPECT_TRUE(n.Find("c")->AsBool());
  EXPECT_EQ(n.Find("d")->AsString(), "yes");
}

TEST(YamlParser, ExpandsAliasesAndMergeKeys) {
  Node n = Parse("base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\ncopy: *b\n");
  const Node* use = n.Find("use");
  EXPECT_EQ(use->Find("x")->AsInt(), 1);
  EXPECT_EQ(use->Find("y")->AsInt(), 3);
  EXPECT_EQ(n.Find("copy")->Find("y")->AsInt(), 2);
}

TEST(YamlParser, RejectsBillionLaughsQuickly) {
  std::string bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string name(1, c);
    bomb += name + ": &" + name + " [";
    for (int k = 0; k < 9; ++k) bomb += (k ? ",*" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  Error e = ParseError(bomb);
  EXPECT_EQ(e.code, ErrorCode::kLimitExceeded);
  EXPECT_NE(e.message.find("alias"), std::string::npos);
  EXPECT_EQ(e.where.file, "bad.yaml");
  EXPECT_GT(e.where.line, 1);
}

TEST(YamlParser, ReportsSyntaxErrorPosition) {
  Error e = ParseError("a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_EQ(e.where.file, "bad.yaml");
  EXPECT_GE(e.where.line, 2);
  EXPECT_NE(e.ToString().find("bad.yaml:"), std::string::npos);
}

TEST(YamlParser, RejectsDuplicateKeysWithPosition) {
  Error e = ParseError("metadata:\n  name: a\n  name: b\n");
  EXPECT_EQ(e.where.line, 3);
  EXPECT_EQ(e.where.column, 3);
  EXPECT_NE(e.message.find("\"name\" already defined"), std::string::npos);
}

TEST(YamlParser, DuplicateKeysLastWinsWhenAsked) {
  ParseOptions options;
  options.file = "kustomization.yaml";
  options.duplicate_keys_last_wins = true;
  Result<Node> r = ParseYaml("a: 1\nb: 2\na: [3]\n", options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->entries().size(), 2u);
  EXPECT_EQ(r->entries()[0].key, "b");
  ASSERT_TRUE(r->Find("a")->IsSequence());
  EXPECT_EQ(r->Find("a")->items()[0].AsInt(), 3);
}

// Found by fuzz_kustomize: yaml-cpp kept yielding empty documents forever.
TEST(YamlParser, StreamThatDoesNotAdvanceFails) {
  // Refused before yaml-cpp sees it (the byte after \xcf is not a UTF-8
  // continuation), which is what kept yaml-cpp from advancing.
  Error e = ParseError("    , op\xcf add\n      path: /spec/x\n");
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput);
  EXPECT_NE(e.message.find("invalid"), std::string::npos) << e.message;
}

TEST(YamlParser, RecordsNodePositions) {
  Node n = Parse("a:\n  b:\n    - x\n    - y\n");
  const Node* seq = n.FindPath({"a", "b"});
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->items()[1].mark().line, 4);
  EXPECT_EQ(seq->items()[1].mark().column, 7);
}

TEST(YamlParser, SplitsMultipleDocumentsAndKeepsEmptyOnes) {
  ParseOptions options;
  Result<std::vector<Node>> r = ParseYamlStream("a: 1\n---\n# only a comment\n---\nb: 2\n", options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[1].IsNull());
  EXPECT_EQ((*r)[2].Find("b")->AsInt(), 2);
}

TEST(YamlParser, RefusesOversizedInput) {
  ParseOptions options;
  options.max_input_bytes = 10;
  Error e = ParseError("a: 12345678901234567890\n", options);
  EXPECT_EQ(e.code, ErrorCode::kLimitExceeded);
}

// Found by fuzz_yaml: yaml-cpp kept reporting empty documents for this input
// forever; the parser must give up with an error instead of hanging.
TEST(YamlParser, RegressionEndlessDocumentsEndInAnError) {
  const std::string input("\x2c\x61\x3a\x20\x26\x61\x20\x5b\x31\x2c\x20\x32\x3a\x20\x2a\x61\x0a\x3a\x3a\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x4b\x0a\x20\x20\x3c\x3c\x3a\x20\x7b\x78\xd5\x1f\x3a\x20\x31\x7d\x0a\x20\x20\xc7\x3a\x79\x3a\x20\x22\x79\x2b\x73\x22\x0a", 69);
  ParseOptions options;
  Result<std::vector<Node>> r = ParseYamlStream(input, options);
  EXPECT_FALSE(r.ok());
}

TEST(YamlParser, RefusesControlCharactersAndInvalidUtf8) {
  Error nul = ParseError(std::string("a: 1\nb: x\0y\n", 12));
  EXPECT_EQ(nul.where.line, 2);
  EXPECT_EQ(nul.where.column, 5);
  Error bad = ParseError("a: \xff\n");
  EXPECT_NE(bad.message.find("UTF-8"), std::string::npos);
}

TEST(YamlParser, DecodesNextLineAndNbspEscapesAsUtf8) {
  Node n = Parse("a: \"x\\Ny\\_z\"\n");
  EXPECT_EQ(n.Find("a")->AsString(), "x\xC2\x85y\xC2\xA0z");
}

TEST(YamlParser, KeepsUnicode) {
  Node n = Parse("name: \"héllo 世界 😀\"\n");
  EXPECT_EQ(n.Find("name")->AsString(), "héllo 世界 😀");
}

// Folded block scalars that keep their final breaks (">+"), with the value
// go-yaml gives for each (checked with Helm's reader, which uses it):
// yaml-cpp alone drops one break where blank lines follow a last line that
// is not more indented.
TEST(YamlParser, FoldedKeepScalarsKeepEveryTrailingBreak) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"a: >+\n  x\n\n", "x\n\n"},
           {"a: >+\n  x\n\n\n", "x\n\n\n"},
           {"a: >+\n  x\n\nb: 1\n", "x\n\n"},
           {"a: >+\n  x\n  \n  \nb: 1\n", "x\n\n\n"},
           {"a: >+\n  x\n   \n\nb: 1\n", "x\n \n\n"},
           {"a: >+\n  x\n\n  y\n\n# c\nb: 1\n", "x\ny\n\n"},
           {"a: >2+\n  x\n\nb: 1\n", "x\n\n"},
           {"a: >+2\n   x\n\n", " x\n\n"},
           {"a: >+\r\n  x\r\n\r\nb: 1\r\n", "x\n\n"},
           {"a: !!str >+\n  x\n\n", "x\n\n"},
           {"a: >+ # comment\n  x\n\n", "x\n\n"},
           {"a: >+\n  x\n  \ty\n\n", "x\n\ty\n\n"},
           {"a: >+\n  x\n     z\n\n", "x\n   z\n\n"},
           {"a: >+\n  x\n", "x\n"},
           {"a: >\n  x\n\n", "x\n"},
           {"a: |+\n  x\n\n", "x\n\n"},
       }) {
    Node n = Parse(c.yaml);
    ASSERT_TRUE(n.Find("a") != nullptr) << c.yaml;
    EXPECT_EQ(n.Find("a")->AsString(), c.want) << c.yaml;
  }
  Node n = Parse("l:\n- >+\n  x\n\n- >+\n   y\n\n\n- z\n");
  EXPECT_EQ(n.Find("l")->items()[0].AsString(), "x\n\n");
  EXPECT_EQ(n.Find("l")->items()[1].AsString(), "y\n\n\n");
  n = Parse("a: &q >+\n  x\n\nb: *q\n");
  EXPECT_EQ(n.Find("b")->AsString(), "x\n\n");
}

}  // namespace
}  // namespace keelson::manifest
