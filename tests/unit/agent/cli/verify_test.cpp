// `keelson verify` run as users run it, over repositories signed by the
// real tools.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/testing/subprocess.h"
#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson {
namespace {

using trust::testing::SigningLab;

testing::ProcessResult Keelson(std::vector<std::string> args) {
  args.insert(args.begin(), KEELSON_BINARY);
  return testing::RunProgram(args);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class VerifyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!trust::testing::HaveSigningTools()) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
    key_ = lab_.MakeSshKey("alice", "ed25519");
    allowed_ = lab_.Write("allowed_signers", "dev@example.com " + lab_.SshPublicKey("alice") + "\n");
    signed_ = {"ssh", key_, ""};
    base_ = lab_.Commit(signed_, "README", "base", "base");
  }

  testing::ProcessResult Verify(std::vector<std::string> extra) {
    std::vector<std::string> args{"verify", "--repo", lab_.repo(), "--allowed-signers", allowed_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Keelson(args);
  }

  SigningLab lab_;
  std::string key_, allowed_, base_;
  trust::testing::Signing signed_;
};

TEST_F(VerifyCommandTest, EverySignedCommitPasses) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(lab_.Commit(signed_, "f" + std::to_string(i), "x", "c"));
  testing::ProcessResult r = Verify({"--range", base_ + "..HEAD"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(lines[i].starts_with(ids[i] + " pass ssh dev@example.com SHA256:")) << lines[i];
  }
}

TEST_F(VerifyCommandTest, AnUnsignedCommitHiddenInTheMiddleFailsTheRange) {
  lab_.Commit(signed_, "a", "x", "signed 1");
  std::string hidden = lab_.Commit({}, "b", "x", "sneaky unsigned change");
  lab_.Commit(signed_, "c", "x", "signed 2");
  // The head alone is fine...
  EXPECT_EQ(Verify({"--rev", "HEAD"}).exit_code, 0);
  // ...but the range is not.
  testing::ProcessResult r = Verify({"--range", base_ + "..HEAD"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[1], hidden + " fail none - - commit is not signed");
  EXPECT_NE(lines[0].find(" pass "), std::string::npos);
  EXPECT_NE(lines[2].find(" pass "), std::string::npos);
}

TEST_F(VerifyCommandTest, PolicyChoosesHeadOnlyOrFirstParents) {
  lab_.Git({"checkout", "-q", "-b", "side"});
  lab_.Commit({}, "side", "x", "unsigned on a side branch");
  lab_.Git({"checkout", "-q", "main"});
  lab_.Commit(signed_, "main", "x", "main");
  lab_.Git({"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "gpg.format=ssh", "-c",
            "user.signingkey=" + key_, "merge", "-q", "--no-ff", "-S", "-m", "merge side", "side"});
  std::string range = base_ + "..HEAD";
  EXPECT_EQ(Verify({"--range", range}).exit_code, 1);
  std::string first_parent = lab_.Write("first-parent.yaml", "parents: first-parent\n");
  testing::ProcessResult fp = Verify({"--range", range, "--policy", first_parent});
  EXPECT_EQ(fp.exit_code, 0) << fp.out << fp.err;
  EXPECT_EQ(Lines(fp.out).size(), 2u) << fp.out;
  std::string head = lab_.Write("head.yaml", "mode: head\n");
  testing::ProcessResult h = Verify({"--range", range, "--policy", head});
  EXPECT_EQ(h.exit_code, 0) << h.out << h.err;
  EXPECT_EQ(Lines(h.out).size(), 1u);
}

TEST_F(VerifyCommandTest, SignedTagsAreCheckedWithTheirCommit) {
  std::string tag = lab_.Tag(signed_, "v1.0.0", "HEAD");
  testing::ProcessResult r = Verify({"--rev", "v1.0.0"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines[0].starts_with(tag + " pass ssh")) << lines[0];
  EXPECT_TRUE(lines[1].starts_with(base_ + " pass ssh")) << lines[1];
  std::string policy = lab_.Write("tags.yaml", "signedTags: true\n");
  lab_.Tag({}, "v1.0.1", "HEAD");
  testing::ProcessResult unsigned_tag = Verify({"--rev", "v1.0.1", "--policy", policy});
  EXPECT_EQ(unsigned_tag.exit_code, 1);
  EXPECT_NE(unsigned_tag.out.find("fail none - - tag is not signed"), std::string::npos) << unsigned_tag.out;
  testing::ProcessResult no_tag = Verify({"--rev", "HEAD", "--policy", policy});
  EXPECT_EQ(no_tag.exit_code, 1);
  EXPECT_NE(no_tag.out.find("requires a signed tag"), std::string::npos) << no_tag.out;
}

TEST_F(VerifyCommandTest, UsageAndInputErrorsExitTwo) {
  EXPECT_EQ(Keelson({"verify", "--rev", "HEAD", "--allowed-signers", allowed_}).exit_code, 2);
  EXPECT_EQ(Verify({}).exit_code, 2);
  EXPECT_EQ(Verify({"--rev", "HEAD", "--range", "a..b"}).exit_code, 2);
  EXPECT_EQ(Verify({"--range", "HEAD"}).exit_code, 2);
  EXPECT_EQ(Keelson({"verify", "--repo", lab_.repo(), "--rev", "HEAD"}).exit_code, 2);
  EXPECT_EQ(Verify({"--rev", "no-such-ref"}).exit_code, 2);
  EXPECT_EQ(Verify({"--rev", "HEAD", "--frobnicate"}).exit_code, 2);
  std::string bad = lab_.Write("bad_signers", "dev@example.com cert-authority " + lab_.SshPublicKey("alice") + "\n");
  testing::ProcessResult r = Keelson({"verify", "--repo", lab_.repo(), "--rev", "HEAD", "--allowed-signers", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bad + ":1:17: cert-authority is not supported"), std::string::npos) << r.err;
  std::string policy = lab_.Write("p.yaml", "mode: sometimes\n");
  testing::ProcessResult p = Verify({"--rev", "HEAD", "--policy", policy});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find(policy + ":1:7: mode: must be head or every-commit"), std::string::npos) << p.err;
}

}  // namespace
}  // namespace keelson
