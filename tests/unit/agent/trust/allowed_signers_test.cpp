#include "agent/trust/allowed_signers.h"

#include <gtest/gtest.h>

namespace keelson::trust {
namespace {

// A fixed Ed25519 public key (any 32 bytes on the curve encoding work for
// parsing; this one is RFC 8032's test vector 1).
const std::string kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";

TEST(AllowedSigners, ParsesPrincipalsOptionsAndComments) {
  std::string text = "# team\n\n" "\"alice@example.com,bob@example.com\" " + kKey + " alice laptop\n" +
                     "*@ops.example.com namespaces=\"git,file\",valid-after=20200101,valid-before=\"20300101Z\" " +
                     kKey + "\n";
  Result<AllowedSigners> s = AllowedSigners::Parse(text, "allowed_signers");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(s->signers().size(), 2u);
  const AllowedSigner& a = s->signers()[0];
  EXPECT_EQ(a.line, 3);
  EXPECT_EQ(a.principal_patterns, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_FALSE(a.namespaces.has_value());
  const AllowedSigner& b = s->signers()[1];
  ASSERT_TRUE(b.namespaces.has_value());
  EXPECT_EQ(*b.namespaces, (std::vector<std::string>{"git", "file"}));
  ASSERT_TRUE(b.valid_before.has_value());
  EXPECT_EQ(*b.valid_before, 1893456000);
  EXPECT_EQ(b.key.algorithm, "ssh-ed25519");
}

TEST(AllowedSigners, CertAuthorityIsRefusedWithAClearMessage) {
  Result<AllowedSigners> s = AllowedSigners::Parse("*@example.com cert-authority " + kKey + "\n", "signers");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().where.file, "signers");
  EXPECT_EQ(s.error().where.line, 1);
  EXPECT_NE(s.error().message.find("cert-authority is not supported"), std::string::npos);
}

TEST(AllowedSigners, BadLinesNameLineAndColumn) {
  Result<AllowedSigners> s = AllowedSigners::Parse("a@b " + kKey + "\nb@c valid-after=yesterday " + kKey, "f");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().where.line, 2);
  EXPECT_EQ(s.error().where.column, 5);
  EXPECT_FALSE(AllowedSigners::Parse("a@b ssh-ed25519 AAAA!!\n", "f").ok());
  EXPECT_FALSE(AllowedSigners::Parse("a@b ssh-rsa " + kKey.substr(12) + "\n", "f").ok());  // type mismatch
  EXPECT_FALSE(AllowedSigners::Parse("a@b\n", "f").ok());
  EXPECT_FALSE(AllowedSigners::Parse("a@b unknown=1 " + kKey + "\n", "f").ok());
}

TEST(AllowedSigners, FindChecksNamespaceAndValidityWindow) {
  std::string text = "a@example.com namespaces=\"file\" " + kKey + "\n" +
                     "b@example.com valid-after=20200101Z,valid-before=20210101Z " + kKey + "\n";
  Result<AllowedSigners> s = AllowedSigners::Parse(text, "f");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  const SshPublicKey& key = s->signers()[0].key;
  Result<const AllowedSigner*> in_window = s->Find(key, "git", 1600000000);  // 2020-09
  ASSERT_TRUE(in_window.ok()) << in_window.error().message;
  EXPECT_EQ((*in_window)->line, 2);
  Result<const AllowedSigner*> late = s->Find(key, "git", 1700000000);  // 2023
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  Result<const AllowedSigner*> file_ns = s->Find(key, "file", 1700000000);
  ASSERT_TRUE(file_ns.ok());
  EXPECT_EQ((*file_ns)->line, 1);
}

TEST(MatchPattern, WildcardsAndNegation) {
  EXPECT_TRUE(MatchPattern("alice@example.com", "*@example.com"));
  EXPECT_TRUE(MatchPattern("ab", "a?"));
  EXPECT_FALSE(MatchPattern("abc", "a?"));
  EXPECT_TRUE(MatchPattern("", "*"));
  EXPECT_FALSE(MatchPattern("x@evil.com", "*@example.com"));
  EXPECT_TRUE(MatchPatternList("a@example.com", {"*@example.com", "!b@example.com"}));
  EXPECT_FALSE(MatchPatternList("b@example.com", {"*@example.com", "!b@example.com"}));
}

TEST(ParseSshTime, FormatsOpenSshAccepts) {
  EXPECT_EQ(ParseSshTime("20200101Z"), 1577836800);
  EXPECT_EQ(ParseSshTime("202001010102Z"), 1577836800 + 3720);
  EXPECT_EQ(ParseSshTime("20200101010203Z"), 1577836800 + 3723);
  EXPECT_FALSE(ParseSshTime("2020").has_value());
  EXPECT_FALSE(ParseSshTime("20201301Z").has_value());
}

}  // namespace
}  // namespace keelson::trust
