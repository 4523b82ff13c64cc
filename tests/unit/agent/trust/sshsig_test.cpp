// SSH signatures made by git + ssh-keygen with throwaway keys.
#include "agent/trust/sshsig.h"

#include <gtest/gtest.h>

#include "agent/trust/policy.h"
#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson::trust {
namespace {

using testing::SigningLab;

std::int64_t Now() { return static_cast<std::int64_t>(time(nullptr)); }

class SshSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveSigningTools()) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
  }

  Result<AllowedSigners> Signers(const std::string& text) { return AllowedSigners::Parse(text, "allowed_signers"); }

  SignatureCheck Check(const std::string& allowed, const std::string& commit) {
    Result<AllowedSigners> signers = Signers(allowed);
    EXPECT_TRUE(signers.ok()) << signers.error().ToString();
    material_.ssh = std::move(signers).value();
    SignatureVerifier verifier(material_, Now);
    return verifier.VerifyCommit(lab_.Raw("commit", commit));
  }

  SigningLab lab_;
  TrustMaterial material_;
};

TEST_F(SshSignatureTest, AcceptsEveryKeyTypeGitSignsWith) {
  for (const std::string type : {"ed25519", "ecdsa-256", "ecdsa-384", "rsa"}) {
    SCOPED_TRACE(type);
    std::string key = lab_.MakeSshKey(type, type);
    std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", type, "signed by " + type, "dev@example.com");
    std::string allowed = "dev@example.com " + lab_.SshPublicKey(type) + "\n";
    SignatureCheck check = Check(allowed, commit);
    EXPECT_TRUE(check.valid) << check.reason;
    EXPECT_EQ(check.format, SignatureFormat::kSsh);
    EXPECT_EQ(check.signer, "dev@example.com");
    EXPECT_TRUE(check.fingerprint.starts_with("SHA256:"));
    // The same verdict as git's.
    std::string file = lab_.Write("allowed_" + type, allowed);
    EXPECT_TRUE(lab_.GitVerifyCommit(commit, file));
  }
}

TEST_F(SshSignatureTest, RejectsACommitChangedAfterSigning) {
  std::string key = lab_.MakeSshKey("k", "ed25519");
  std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", "x", "original message");
  std::string raw = lab_.Raw("commit", commit);
  std::size_t at = raw.find("original message");
  ASSERT_NE(at, std::string::npos);
  raw.replace(at, 8, "tampered");
  std::string tampered = lab_.WriteCommitObject(raw);
  SignatureCheck check = Check("dev@example.com " + lab_.SshPublicKey("k") + "\n", tampered);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("does not match"), std::string::npos) << check.reason;
}

TEST_F(SshSignatureTest, RejectsASignerNotAllowed) {
  std::string key = lab_.MakeSshKey("mallory", "ed25519");
  lab_.MakeSshKey("alice", "ed25519");
  std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", "x", "m");
  SignatureCheck check = Check("dev@example.com " + lab_.SshPublicKey("alice") + "\n", commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("is not in the allowed signers"), std::string::npos) << check.reason;
}

TEST_F(SshSignatureTest, RejectsAKeyOutsideItsValidityWindow) {
  std::string key = lab_.MakeSshKey("k", "ed25519");
  std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", "x", "m", "dev@example.com", "2024-06-01T12:00:00Z");
  std::string expired = "dev@example.com valid-before=20240101Z " + lab_.SshPublicKey("k") + "\n";
  SignatureCheck check = Check(expired, commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("expired"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, lab_.Write("expired", expired)));
  std::string window = "dev@example.com valid-after=20240101Z,valid-before=20250101Z " + lab_.SshPublicKey("k") + "\n";
  EXPECT_TRUE(Check(window, commit).valid);
}

TEST_F(SshSignatureTest, RejectsAWrongNamespace) {
  std::string key = lab_.MakeSshKey("k", "ed25519");
  // An unsigned commit, then a signature over it in the "file" namespace
  // spliced in where git puts its own.
  std::string unsigned_commit = lab_.Commit({}, "f.txt", "x", "m");
  std::string raw = lab_.Raw("commit", unsigned_commit);
  std::string sig = lab_.Run({"ssh-keygen", "-q", "-Y", "sign", "-n", "file", "-f", key}, "", true, raw).out;
  ASSERT_TRUE(sig.starts_with("-----BEGIN SSH SIGNATURE-----")) << sig;
  std::string header = "gpgsig ";
  for (std::size_t i = 0; i < sig.size(); ++i) {
    header += sig[i];
    if (sig[i] == '\n' && i + 1 < sig.size()) header += ' ';
  }
  std::size_t body = raw.find("\n\n");
  std::string forged = raw.substr(0, body + 1) + header + raw.substr(body + 1);
  std::string commit = lab_.WriteCommitObject(forged);
  std::string allowed = "dev@example.com " + lab_.SshPublicKey("k") + "\n";
  SignatureCheck check = Check(allowed, commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("namespace \"file\""), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, lab_.Write("allowed", allowed)));
}

TEST_F(SshSignatureTest, NamespacesOptionLimitsTheKey) {
  std::string key = lab_.MakeSshKey("k", "ecdsa-256");
  std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", "x", "m");
  SignatureCheck check = Check("dev@example.com namespaces=\"file\" " + lab_.SshPublicKey("k") + "\n", commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("does not allow namespace \"git\""), std::string::npos) << check.reason;
}

TEST_F(SshSignatureTest, VerifiesSignedTags) {
  std::string key = lab_.MakeSshKey("k", "ed25519");
  std::string commit = lab_.Commit({"ssh", key, ""}, "f.txt", "x", "m");
  std::string tag = lab_.Tag({"ssh", key, ""}, "v1.0.0", commit);
  Result<AllowedSigners> signers = Signers("dev@example.com " + lab_.SshPublicKey("k") + "\n");
  ASSERT_TRUE(signers.ok());
  material_.ssh = std::move(signers).value();
  SignatureVerifier verifier(material_, Now);
  SignatureCheck good = verifier.VerifyTag(lab_.Raw("tag", tag));
  EXPECT_TRUE(good.valid) << good.reason;
  std::string raw = lab_.Raw("tag", tag);
  raw.replace(raw.find("v1.0.0"), 6, "v9.9.9");
  EXPECT_FALSE(verifier.VerifyTag(raw).valid);
}

TEST(SshSignatureParse, RefusesMalformedArmor) {
  EXPECT_FALSE(ParseSshSignature("").ok());
  EXPECT_FALSE(ParseSshSignature("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n").ok());
  EXPECT_FALSE(ParseSshSignature("-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----\n").ok());
  EXPECT_FALSE(ParseSshSignature("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n").ok());
}

}  // namespace
}  // namespace keelson::trust
