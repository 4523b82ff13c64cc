// The RE2-subset matcher behind matches(): syntax, semantics and errors.
#include "policies/engine/regex.h"

#include <gtest/gtest.h>

namespace keelson::policy {
namespace {

bool Search(std::string_view pattern, std::string_view text) {
  Result<std::shared_ptr<const Regex>> re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << pattern << ": " << (re.ok() ? "" : re.error().ToString());
  return re.ok() && (*re)->Search(text);
}

std::string ErrorOf(std::string_view pattern) {
  Result<std::shared_ptr<const Regex>> re = Regex::Compile(pattern);
  if (re.ok()) return "compiled";
  return std::to_string(re.error().where.column) + ": " + re.error().message;
}

TEST(Regex, LiteralsAndAnchors) {
  EXPECT_TRUE(Search("abc", "xxabcxx"));
  EXPECT_FALSE(Search("abd", "xxabcxx"));
  EXPECT_TRUE(Search("^abc$", "abc"));
  EXPECT_FALSE(Search("^abc$", "abcd"));
  EXPECT_FALSE(Search("^b", "ab"));
  EXPECT_TRUE(Search("\\Aab\\z", "ab"));
  EXPECT_TRUE(Search("", "anything"));
  EXPECT_TRUE(Search("a\\.b", "a.b"));
  EXPECT_FALSE(Search("a\\.b", "axb"));
}

TEST(Regex, ClassesAndEscapes) {
  EXPECT_TRUE(Search("^[a-z0-9-]+$", "my-app-1"));
  EXPECT_FALSE(Search("^[a-z0-9-]+$", "My-App"));
  EXPECT_TRUE(Search("^[^:]+$", "nginx"));
  EXPECT_FALSE(Search("^[^:]+$", "nginx:1"));
  EXPECT_TRUE(Search("^\\d+\\.\\d+$", "1.25"));
  EXPECT_TRUE(Search("^\\w+\\s\\S$", "ab_9 x"));
  EXPECT_TRUE(Search("^[[:alpha:]]+$", "Abc"));
  EXPECT_FALSE(Search("^[[:digit:]]+$", "12a"));
  EXPECT_TRUE(Search("^[\\d.]+$", "1.2.3"));
  EXPECT_TRUE(Search("^[]a]+$", "]a]"));
  EXPECT_TRUE(Search("\\x41\\x{42}", "AB"));
  EXPECT_TRUE(Search("^.$", "é"));  // one code point
  EXPECT_FALSE(Search("^.$", "\n"));
  EXPECT_TRUE(Search("(?s)^.$", "\n"));
  EXPECT_TRUE(Search("\\bword\\b", "a word here"));
  EXPECT_FALSE(Search("\\bword\\b", "swordfish"));
  EXPECT_TRUE(Search("\\Bor\\B", "sword"));
}

TEST(Regex, GroupsAlternationRepetition) {
  EXPECT_TRUE(Search("^(ab|cd)+$", "abcdab"));
  EXPECT_FALSE(Search("^(ab|cd)+$", "abc"));
  EXPECT_TRUE(Search("^(?:x|y)?z$", "z"));
  EXPECT_TRUE(Search("^(?P<name>a)b$", "ab"));
  EXPECT_TRUE(Search("^a{3}$", "aaa"));
  EXPECT_FALSE(Search("^a{3}$", "aa"));
  EXPECT_TRUE(Search("^a{2,}$", "aaaaa"));
  EXPECT_TRUE(Search("^a{1,2}b$", "aab"));
  EXPECT_FALSE(Search("^a{1,2}b$", "aaab"));
  EXPECT_TRUE(Search("^a*?b$", "aaab"));
  EXPECT_TRUE(Search("^a{,2}$", "a{,2}"));  // not a repetition: literal braces
  EXPECT_TRUE(Search("(?i)^NGINX$", "nginx"));
  EXPECT_TRUE(Search("^(a*)*$", "aaaa"));  // empty loops terminate
}

TEST(Regex, LinearTimeOnPathologicalPatterns) {
  // (a+)+b on many a's takes exponential time with backtracking.
  std::string text(50'000, 'a');
  EXPECT_FALSE(Search("(a+)+b", text));
  EXPECT_TRUE(Search("(a|aa)*$", text));
}

TEST(Regex, FullMatch) {
  Result<std::shared_ptr<const Regex>> re = Regex::Compile("a+");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE((*re)->FullMatch("aaa"));
  EXPECT_FALSE((*re)->FullMatch("aab"));
}

TEST(Regex, Errors) {
  EXPECT_EQ(ErrorOf("a(b"), "2: invalid regular expression: missing ')'");
  EXPECT_EQ(ErrorOf("ab)"), "3: invalid regular expression: unmatched ')'");
  EXPECT_EQ(ErrorOf("[ab"), "1: invalid regular expression: missing closing ]");
  EXPECT_EQ(ErrorOf("[z-a]"), "2: invalid regular expression: invalid character class range");
  EXPECT_EQ(ErrorOf("*a"), "1: invalid regular expression: missing argument to repetition operator");
  EXPECT_EQ(ErrorOf("a**"), "3: invalid regular expression: bad repetition operator: a quantifier cannot follow another");
  EXPECT_EQ(ErrorOf("a{1001}"), "2: invalid regular expression: repetition count above 1000");
  EXPECT_EQ(ErrorOf("a{3,2}"), "2: invalid regular expression: invalid repetition range: maximum below minimum");
  EXPECT_EQ(ErrorOf("(a)\\1"), "4: invalid regular expression: backreferences are not supported");
  EXPECT_EQ(ErrorOf("a(?=b)"), "2: invalid regular expression: unsupported group syntax (lookaround and inline flags are not supported)");
  EXPECT_EQ(ErrorOf("\\pL"), "1: invalid regular expression: Unicode classes \\p{...} are not supported");
  EXPECT_EQ(ErrorOf("\\q"), "1: invalid regular expression: invalid escape \\q");
  EXPECT_EQ(ErrorOf("a\\"), "2: invalid regular expression: trailing backslash at end of pattern");
  EXPECT_EQ(ErrorOf("[[:nope:]]"), "2: invalid regular expression: unknown character class [:nope:]");
  EXPECT_EQ(ErrorOf("(((((a{1000}){1000}){1000})))"), "1: invalid regular expression: pattern too large (more than 20000 instructions)");
}

}  // namespace
}  // namespace keelson::policy
