#include "agent/trust/git_object.h"

#include <gtest/gtest.h>

namespace keelson::trust {
namespace {

constexpr std::string_view kSignedCommit =
    "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    "parent 1111111111111111111111111111111111111111\n"
    "author A U Thor <a@example.com> 1700000000 +0100\n"
    "committer C O Mitter <c@example.com> 1700000100 -0230\n"
    "gpgsig -----BEGIN SSH SIGNATURE-----\n"
    " U1NIU0lH\n"
    " -----END SSH SIGNATURE-----\n"
    "gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n"
    " other\n"
    " -----END PGP SIGNATURE-----\n"
    "\n"
    "subject\n"
    "\n"
    "gpgsig in the body stays\n";

TEST(SplitCommitSignature, TakesOutTheSignatureHeaderAndItsContinuations) {
  Result<SignedObject> s = SplitCommitSignature(kSignedCommit);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->format, SignatureFormat::kSsh);
  EXPECT_EQ(s->signature, "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n");
  EXPECT_EQ(s->payload,
            "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
            "parent 1111111111111111111111111111111111111111\n"
            "author A U Thor <a@example.com> 1700000000 +0100\n"
            "committer C O Mitter <c@example.com> 1700000100 -0230\n"
            "\n"
            "subject\n"
            "\n"
            "gpgsig in the body stays\n");
}

TEST(SplitCommitSignature, Sha256RepositoriesUseTheirOwnHeader) {
  Result<SignedObject> s = SplitCommitSignature(kSignedCommit, ObjectHash::kSha256);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->format, SignatureFormat::kOpenPgp);
  EXPECT_EQ(s->signature, "-----BEGIN PGP SIGNATURE-----\nother\n-----END PGP SIGNATURE-----\n");
  EXPECT_EQ(s->payload.substr(0, s->payload.find("\n\n")).find("gpgsig"), std::string::npos);
}

TEST(SplitCommitSignature, UnsignedCommitIsItsOwnPayload) {
  std::string raw =
      "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
      "author A <a@example.com> 1 +0000\ncommitter A <a@example.com> 1 +0000\n\nmsg\n";
  Result<SignedObject> s = SplitCommitSignature(raw);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->payload, raw);
  EXPECT_TRUE(s->signature.empty());
  EXPECT_EQ(s->format, SignatureFormat::kNone);
}

TEST(SplitCommitSignature, TwoSignatureHeadersAreRefused) {
  std::string raw =
      "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
      "gpgsig a\ngpgsig b\n\nmsg\n";
  EXPECT_FALSE(SplitCommitSignature(raw).ok());
}

TEST(SplitTagSignature, SignatureIsTheLastArmoredBlock) {
  std::string raw =
      "object 1111111111111111111111111111111111111111\ntype commit\ntag v1\n"
      "tagger T <t@example.com> 1700000000 +0000\n\n"
      "release notes quoting\n-----BEGIN PGP SIGNATURE-----\nnot this one\n"
      "-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n";
  Result<SignedObject> s = SplitTagSignature(raw);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->format, SignatureFormat::kSsh);
  EXPECT_EQ(s->signature, "-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n");
  EXPECT_TRUE(s->payload.ends_with("not this one\n"));
}

TEST(ParseCommitHeader, ReadsParentsAndIdentities) {
  Result<CommitHeader> h = ParseCommitHeader(kSignedCommit);
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_EQ(h->tree, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
  ASSERT_EQ(h->parents.size(), 1u);
  EXPECT_EQ(h->author.email, "a@example.com");
  EXPECT_EQ(h->author.offset_minutes, 60);
  EXPECT_EQ(h->committer.name, "C O Mitter");
  EXPECT_EQ(h->committer.time, 1700000100);
  EXPECT_EQ(h->committer.offset_minutes, -150);
}

TEST(ParseCommitHeader, MalformedHeadersNameTheLine) {
  Result<CommitHeader> h = ParseCommitHeader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent xyz\n\n");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().where.line, 2);
  EXPECT_FALSE(ParseCommitHeader(" continuation first\n\n").ok());
  EXPECT_FALSE(ParseCommitHeader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\n").ok());
}

TEST(ParseTagHeader, ReadsTheTarget) {
  Result<TagHeader> h = ParseTagHeader(
      "object 1111111111111111111111111111111111111111\ntype commit\ntag v1\n"
      "tagger T <t@example.com> 1700000000 +0000\n\nmsg\n");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, "commit");
  EXPECT_EQ(h->name, "v1");
  ASSERT_TRUE(h->tagger.has_value());
  EXPECT_EQ(h->tagger->email, "t@example.com");
}

}  // namespace
}  // namespace keelson::trust
