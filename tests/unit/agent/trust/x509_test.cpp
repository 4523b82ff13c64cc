// X.509 signatures made by git + gpgsm with a throwaway CA made by openssl.
#include "agent/trust/x509.h"

#include <gtest/gtest.h>

#include "agent/trust/policy.h"
#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson::trust {
namespace {

using testing::SigningLab;

std::int64_t Now() { return static_cast<std::int64_t>(time(nullptr)); }

class X509Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveSigningTools()) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
    ca_ = lab_.MakeX509Signer("alice@example.com");
  }

  SignatureCheck Check(const std::string& roots_pem, const std::string& commit, std::int64_t now = Now()) {
    Result<X509Roots> roots = X509Roots::Parse(roots_pem, "roots.pem");
    EXPECT_TRUE(roots.ok()) << roots.error().ToString();
    if (!roots.ok()) return {};
    material_.x509 = std::move(roots).value();
    SignatureVerifier verifier(material_, [now] { return now; });
    return verifier.VerifyCommit(lab_.Raw("commit", commit));
  }

  SigningLab lab_;
  TrustMaterial material_;
  std::string ca_;
};

TEST_F(X509Test, AcceptsAGoodSignatureAndAgreesWithGit) {
  std::string commit = lab_.Commit({"x509", "alice@example.com", ""}, "f.txt", "x", "m", "alice@example.com");
  SignatureCheck check = Check(keelson::testing::ReadFileOrDie(ca_), commit);
  EXPECT_TRUE(check.valid) << check.reason;
  EXPECT_EQ(check.format, SignatureFormat::kX509);
  EXPECT_EQ(check.signer, "alice@example.com");
  EXPECT_EQ(check.fingerprint.size(), 64u);
  EXPECT_TRUE(lab_.GitVerifyCommit(commit, ""));
}

TEST_F(X509Test, RejectsACommitChangedAfterSigning) {
  std::string commit = lab_.Commit({"x509", "alice@example.com", ""}, "f.txt", "x", "original message");
  std::string raw = lab_.Raw("commit", commit);
  raw.replace(raw.find("original"), 8, "tampered");
  std::string tampered = lab_.WriteCommitObject(raw);
  SignatureCheck check = Check(keelson::testing::ReadFileOrDie(ca_), tampered);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("does not match"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(tampered, ""));
}

TEST_F(X509Test, RejectsAChainToAnotherRoot) {
  std::string commit = lab_.Commit({"x509", "alice@example.com", ""}, "f.txt", "x", "m");
  lab_.Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            lab_.dir() + "/other.key", "-out", lab_.dir() + "/other.pem", "-days", "3", "-subj", "/CN=Other Root",
            "-addext", "basicConstraints=critical,CA:TRUE"});
  SignatureCheck check = Check(keelson::testing::ReadFileOrDie(lab_.dir() + "/other.pem"), commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("is not trusted"), std::string::npos) << check.reason;
}

TEST_F(X509Test, RejectsAnExpiredCertificate) {
  std::string commit = lab_.Commit({"x509", "alice@example.com", ""}, "f.txt", "x", "m");
  // The user certificate lives ten days; a month later it has expired.
  SignatureCheck check = Check(keelson::testing::ReadFileOrDie(ca_), commit, Now() + 31 * 86400);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("expired"), std::string::npos) << check.reason;
}

TEST(X509Parse, RootsMustBeCaCertificatesInPem) {
  EXPECT_FALSE(X509Roots::Parse("", "roots.pem").ok());
  EXPECT_FALSE(X509Roots::Parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "r").ok());
  EXPECT_FALSE(CheckCmsSignatureStructure("-----BEGIN SIGNED MESSAGE-----\nMAA=\n-----END SIGNED MESSAGE-----\n").ok());
  EXPECT_FALSE(CheckCmsSignatureStructure("garbage").ok());
}

// fuzz_cms: a SignedData whose digestAlgorithms name a digest OpenSSL does
// not know (the input's SHA-256 OID has one arc changed). OpenSSL 3.0's
// CMS_verify leaks its copy of the content BIO when it cannot set up the
// digests, so such a signature must be refused before CMS_verify sees it;
// the sanitizer build reports the leak if it is not.
TEST(X509Regression, UnknownDigestAlgorithmIsRefusedBeforeVerifying) {
  // A throwaway self-signed P-256 CA (the fuzz target's); its key was discarded.
  constexpr std::string_view kRoot = R"(-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUUIJ5GQOc6BFdi12cWcIaqoBXbFMwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRS2VlbHNvbiBGdXp6IFJvb3QwIBcNMjYxMTI3MTA0MTMxWhgP
MjEyNjExMDMxMDQxMzFaMBwxGjAYBgNVBAMMEUtlZWxzb24gRnV6eiBSb290MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbpq4NNjvCIXYmBHzm0zhmvtXtRA1BRoq
6Du8eSH9YNsu7e0bsHbTzhl/L6xKU/XoHuoaCuyzIbLzADXkrbPKhaNTMFEwHQYD
VR0OBBYEFL1iZwrvc5SA11l+P19w0DZUyDuQMB8GA1UdIwQYMBaAFL1iZwrvc5SA
11l+P19w0DZUyDuQMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
eI6mnP6ugeFPdenpkjJdYQkJNWOBfN1JzriBr5qhZZ4CIQCxksCvGrTM2TWsfSmX
UdhZw/0todbsnVoqdL8Yup54XQ==
-----END CERTIFICATE-----
)";
  std::string armored = keelson::testing::ReadFileOrDie(
      std::string(KEELSON_SOURCE_DIR) + "/tests/fuzz/findings/fuzz_cms/leak-d08601fc72bf5c3bd2d972cc67292d0b1031a55c");
  Result<X509Roots> roots = X509Roots::Parse(kRoot, "root.pem");
  ASSERT_TRUE(roots.ok()) << roots.error().ToString();

  Status structure = CheckCmsSignatureStructure(armored);
  ASSERT_FALSE(structure.ok());
  EXPECT_NE(structure.error().message.find("digest algorithm"), std::string::npos) << structure.error().ToString();

  Result<X509Signer> signer = VerifyCmsSignature(armored, "payload", *roots, 1800000000);
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().code, ErrorCode::kInvalidInput) << signer.error().ToString();
  EXPECT_NE(signer.error().message.find("digest algorithm"), std::string::npos) << signer.error().ToString();
}

}  // namespace
}  // namespace keelson::trust
