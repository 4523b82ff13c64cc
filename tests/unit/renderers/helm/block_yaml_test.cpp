// The fast block-YAML reader against the full parser: whenever the fast
// reader accepts a text, the full parser must accept it and produce the
// same first document.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "renderers/helm/block_yaml.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {
namespace {

manifest::ParseOptions ValuesOptions() {
  manifest::ParseOptions o;
  o.schema = manifest::Schema::kYaml11;
  o.resolve_plain_keys = true;
  return o;
}

manifest::ParseOptions ManifestOptions() {
  manifest::ParseOptions o;
  o.schema = manifest::Schema::kYaml11;
  return o;
}

// What the head-only reading keeps of a full tree.
manifest::Node Head(const manifest::Node& full) {
  if (!full.IsMapping()) return full;
  manifest::Node head = manifest::Node::Mapping();
  for (const char* key : {"kind", "metadata"}) {
    if (const manifest::Node* v = full.Find(key)) head.Set(key, *v);
  }
  return head;
}

// "" when both agree (or the fast reader declined); otherwise what differs.
std::string Disagreement(std::string_view text, const manifest::ParseOptions& options, bool* accepted = nullptr) {
  auto fast = TryParseBlockYaml(text, options);
  if (accepted) *accepted = fast.has_value();
  auto head = TryParseBlockYamlHead(text, options);
  if (head.has_value() != fast.has_value()) return "the head-only reading decided differently";
  if (head && !(Head(*head) == Head(*fast))) {
    return "different heads:\nfull: " + manifest::EmitYaml(Head(*fast)) + "head: " + manifest::EmitYaml(Head(*head));
  }
  if (!fast) return "";
  auto full = manifest::ParseYamlStream(text, options);
  if (!full.ok()) return "fast reader accepted what the full parser rejects: " + full.error().ToString();
  manifest::Node first = full->empty() ? manifest::Node() : (*full)[0];
  if (!(first == *fast)) {
    return "different trees:\nfull: " + manifest::EmitYaml(first) + "fast: " + manifest::EmitYaml(*fast);
  }
  return "";
}

void ExpectSame(std::string_view text) {
  bool accepted = false;
  EXPECT_EQ(Disagreement(text, ValuesOptions(), &accepted), "") << text;
  EXPECT_TRUE(accepted) << "declined:\n" << text;
  EXPECT_EQ(Disagreement(text, ManifestOptions()), "") << text;
}

void ExpectDeclined(std::string_view text) {
  EXPECT_FALSE(TryParseBlockYaml(text, ValuesOptions()).has_value()) << text;
}

TEST(BlockYaml, ReadsTheCommonSubsetAsTheFullParserDoes) {
  ExpectSame("");
  ExpectSame("# only a comment\n\n");
  ExpectSame("---\na: 1\n");
  ExpectSame("--- # start\na: 1\n");
  ExpectSame("a: 1\nb: two\nc: 3.5\nd: yes\ne: off\nf: ~\ng: null\nh:\ni: \"x\"\nj: 'y'\n");
  ExpectSame("n: 0\n\"y\": 1\non: 2\n0x10: 3\n1.50: 4\n'quoted key': 5\n");
  ExpectSame("a:\n  b:\n    c: 1\n  d: 2\ne: 3\n");
  ExpectSame("list:\n- a\n- b\nother:\n  - 1\n  - 2\n");
  ExpectSame("- a: 1\n  b: 2\n- c: 3\n-\n  d: 4\n- - x\n  - y\n-\n");
  ExpectSame("a: [1, two, \"three\", 'four', [nested], {k: v}]\nb: {}\nc: []\nd: {x: 1, 'y': [2], z: }\n");
  ExpectSame("e: [a, b, ]\n");
  ExpectSame("a: \"esc \\\" \\\\ \\n \\t \\x41 \\u00e9 \\U0001F600 \\/ \\N \\_\"\nb: 'it''s'\n");
  ExpectSame("a: |\n  line 1\n  line 2\nb: |-\n  strip\n\nc: |+\n  keep\n\n\nd: x\n");
  ExpectSame("a: |\n  first\n\n    indented\n  last\n\n# trailing comment\nb: 1\n");
  ExpectSame("a: >\n  folded\n  text\n\n  new para\nb: >-\n  x\n  y\n");
  ExpectSame("a: |\n\n  leading empty line\n");
  ExpectSame("a: |\n  # not a comment\n  text\n");
  ExpectSame("a: |\nb: 1\n");
  ExpectSame("a: |\n  no final newline");
  ExpectSame("a: |-\n  no final newline");
  ExpectSame("a: |+\n  kept\n  ");  // found by fuzzing: spaces without a line break end the scalar
  ExpectSame("a: |\n  x\n    ");
  ExpectSame("- |\n  in a sequence\n- >\n  folded\n  here\n");
  ExpectSame("url: http://example.com:8080/path#frag\nneg: -1\ndash: -x\ncolon: a:b\nhash: a#b\nport: :9121\n");
  ExpectSame("a: 1 # comment\nb: 'x' # comment\nc: [1] # comment\n");
  ExpectSame("key with spaces: v\n\"a:b\": c\napp.kubernetes.io/name: n\n");
  ExpectSame("a:\n  value on next line\n");
  ExpectSame("description: a long text that\n  continues here\n\n  and after an empty line\nnext: 1\n");
  ExpectSame("- item that\n  wraps\n- k: v that\n    wraps too\n  j: 2\n");
  ExpectSame("a: b # comment ends it\nc: d\n");
  ExpectSame("  indented: root\n  second: 2\n");
  ExpectSame("plain scalar document\n");
  ExpectSame("\"quoted document\"\n");
  ExpectSame("a: 0755\nb: 0o17\nc: 1e3\nd: .5\ne: +12\nf: 1_000\ng: .inf\nh: .NaN\ni: 9223372036854775808\n");
  ExpectSame("a: é ü 日本\nb: \"ünïcode\"\n");
  ExpectSame("tabs: \"a\tb\"\nlit: |\n  col\tumn\n");
}

TEST(BlockYaml, DeclinesWhatItDoesNotHandle) {
  ExpectDeclined("a: &x 1\nb: *x\n");
  ExpectDeclined("a: !!str 1\n");
  ExpectDeclined("? a\n: b\n");
  ExpectDeclined("<<: {a: 1}\n");
  ExpectDeclined("a: b\n  - continued\n");
  ExpectDeclined("a: b\n  continued # comment\n");
  ExpectDeclined("a: \"multi\n  line\"\n");
  ExpectDeclined("a: [1,\n  2]\n");
  ExpectDeclined("a: |2\n   x\n");
  ExpectDeclined("a: >\n  x\n    more indented\n");
  ExpectDeclined("a: >-\n  folded\n  ");  // found by fuzzing: yaml-cpp reads a trailing space
  ExpectDeclined("a: 1\n---\nb: 2\n");
  ExpectDeclined("a: 1\na: 2\n");
  ExpectDeclined("null: 1\n");
  ExpectDeclined("a:\tb\n");
  ExpectDeclined("a: 1\r\n");
  ExpectDeclined("%YAML 1.1\n---\na: 1\n");
  ExpectDeclined("a: b: c\n");
  ExpectDeclined("a:\n  b: 1\n c: 2\n");
  ExpectDeclined("\xEF\xBB\xBF" "a: 1\n");
  ExpectDeclined("a: \"\xC3\"\n");
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += std::string(static_cast<std::size_t>(i) * 2, ' ') + "k:\n";
  ExpectDeclined(deep);
}

TEST(BlockYaml, FirstDocumentEndsAtTheNextMarker) {
  EXPECT_EQ(FirstYamlDocument("a: 1\n---\nb: 2\n"), "a: 1\n");
  EXPECT_EQ(FirstYamlDocument("# c\n---\na: 1\n--- # next\n"), "# c\n---\na: 1\n");
  EXPECT_EQ(FirstYamlDocument("---\n---\n"), "---\n");
  EXPECT_EQ(FirstYamlDocument("a: |\n  ---\n  x\n...\nb"), "a: |\n  ---\n  x\n");
  EXPECT_EQ(FirstYamlDocument("a: ---x\n---x: 1\n"), "a: ---x\n---x: 1\n");
  EXPECT_EQ(FirstYamlDocument("%YAML 1.1\n---\na: 1\n"), "%YAML 1.1\n---\na: 1\n");
}

std::vector<std::string> CorpusTexts() {
  std::vector<std::string> texts;
  std::filesystem::path root = std::filesystem::path(KEELSON_SHARED_DIR) / "conformance" / "helm";
  if (!std::filesystem::exists(root)) return texts;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    bool yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if (!yaml || entry.path().string().find("/templates/") != std::string::npos) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    if (name != "expected.yaml") {
      texts.push_back(text);
      continue;
    }
    // Rendered output: one text per document, as the renderer sorts them.
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t next = text.find("\n---\n", start);
      std::size_t end = next == std::string::npos ? text.size() : next + 1;
      texts.push_back(text.substr(start, end - start));
      start = next == std::string::npos ? text.size() : next + 5;
    }
  }
  return texts;
}

TEST(BlockYaml, AgreesOnTheConformanceCorpus) {
  auto texts = CorpusTexts();
  if (texts.empty()) GTEST_SKIP() << "no corpus under " << KEELSON_SHARED_DIR;
  std::size_t accepted_count = 0;
  for (const auto& t : texts) {
    bool accepted = false;
    EXPECT_EQ(Disagreement(t, ValuesOptions(), &accepted), "") << t.substr(0, 2000);
    EXPECT_EQ(Disagreement(t, ManifestOptions()), "") << t.substr(0, 2000);
    if (accepted) ++accepted_count;
  }
  // The fast path is only worth having if it covers nearly all real input.
  EXPECT_GE(accepted_count * 100, texts.size() * 95) << accepted_count << " of " << texts.size();
}

TEST(BlockYaml, AgreesOnMutatedInput) {
  const std::vector<std::string> seeds = {
      "a: 1\nb:\n  - x\n  - y: [1, 2]\n    z: |\n      lit\n      text\nc: 'q''s'\nd: \"e\\n\"\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-install\n"
      "data:\n  k: >-\n    folded\n    lines\n  j: {a: b}\n",
      "- - a\n  - b\n- c: d\n  e: ~\n-\n  f: yes\n# comment\n",
  };
  const std::string alphabet = " \n-:#'\"[]{},|>a1.\\\t&*!?%";
  std::mt19937 rng(1234);
  for (int round = 0; round < 4000; ++round) {
    std::string t = seeds[static_cast<std::size_t>(round) % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !t.empty(); ++k) {
      std::size_t at = rng() % t.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 1: t.erase(at, 1); break;
        default: t[at] = c;
      }
    }
    ASSERT_EQ(Disagreement(t, ValuesOptions()), "") << "input:\n" << t;
    ASSERT_EQ(Disagreement(t, ManifestOptions()), "") << "input:\n" << t;
  }
}

}  // namespace
}  // namespace keelson::helm
