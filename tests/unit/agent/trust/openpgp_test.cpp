// OpenPGP signatures made by git + gpg with throwaway keys in a temporary
// GnuPG home.
#include "agent/trust/openpgp.h"

#include <gtest/gtest.h>

#include "agent/trust/policy.h"
#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson::trust {
namespace {

using testing::SigningLab;

std::int64_t Now() { return static_cast<std::int64_t>(time(nullptr)); }

class OpenPgpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveSigningTools()) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
  }

  SignatureCheck Check(const std::string& commit) {
    Result<PgpKeyring> keyring = PgpKeyring::Parse(lab_.ExportPgpKeys(), "keyring.asc");
    EXPECT_TRUE(keyring.ok()) << keyring.error().ToString();
    if (!keyring.ok()) return {};
    material_.openpgp = std::move(keyring).value();
    SignatureVerifier verifier(material_, Now);
    return verifier.VerifyCommit(lab_.Raw("commit", commit));
  }

  SigningLab lab_;
  TrustMaterial material_;
};

TEST_F(OpenPgpTest, AcceptsRsaEdDsaAndEcdsaKeysAndSubkeys) {
  struct Case {
    std::string uid, algorithm;
    bool subkey;
  };
  for (const Case& c : {Case{"Ed <ed@example.com>", "ed25519", false}, Case{"Rsa <rsa@example.com>", "rsa3072", false},
                        Case{"P256 <p256@example.com>", "nistp256", false},
                        Case{"P384 <p384@example.com>", "nistp384", false},
                        Case{"Sub <sub@example.com>", "ed25519", true}}) {
    SCOPED_TRACE(c.uid);
    std::string fpr = lab_.MakePgpKey(c.uid, c.algorithm);
    std::string signing_key = fpr;
    if (c.subkey) signing_key = lab_.AddPgpSubkey(fpr, "nistp256/ecdsa");
    std::string commit = lab_.Commit({"openpgp", signing_key + "!", ""}, "f.txt", c.uid, "signed");
    SignatureCheck check = Check(commit);
    EXPECT_TRUE(check.valid) << check.reason;
    EXPECT_EQ(check.format, SignatureFormat::kOpenPgp);
    EXPECT_EQ(check.fingerprint, signing_key);
    EXPECT_EQ(check.signer, PgpUserIdEmail(c.uid));
    EXPECT_TRUE(lab_.GitVerifyCommit(commit, ""));
  }
}

TEST_F(OpenPgpTest, RejectsACommitChangedAfterSigning) {
  std::string fpr = lab_.MakePgpKey("Ed <ed@example.com>", "ed25519");
  std::string commit = lab_.Commit({"openpgp", fpr, ""}, "f.txt", "x", "original message");
  std::string raw = lab_.Raw("commit", commit);
  raw.replace(raw.find("original"), 8, "tampered");
  std::string tampered = lab_.WriteCommitObject(raw);
  SignatureCheck check = Check(tampered);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("does not match"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(tampered, ""));
}

TEST_F(OpenPgpTest, RejectsAKeyNotInTheKeyring) {
  std::string trusted = lab_.MakePgpKey("Trusted <t@example.com>", "ed25519");
  std::string stranger = lab_.MakePgpKey("Stranger <s@example.com>", "ed25519");
  std::string commit = lab_.Commit({"openpgp", stranger, ""}, "f.txt", "x", "m");
  lab_.DeletePgpKey(stranger);
  SignatureCheck check = Check(commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("no public key"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, ""));
}

TEST_F(OpenPgpTest, RejectsAnExpiredKey) {
  // Made and used in 2020 with a one-day lifetime.
  std::string fpr = lab_.MakePgpKey("Old <old@example.com>", "ed25519", "1d", {"--faked-system-time", "20200101T000000"});
  std::string commit = lab_.Commit({"openpgp", fpr, lab_.PgpProgramAt("20200101T120000")}, "f.txt", "x", "m");
  SignatureCheck check = Check(commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("expired at 2020-01-02"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, ""));
}

TEST_F(OpenPgpTest, RejectsASignatureOlderThanItsKey) {
  std::string fpr = lab_.MakePgpKey("New <new@example.com>", "ed25519");
  std::string early = lab_.Write("gpg-early", "#!/bin/sh\nexec gpg --ignore-time-conflict --faked-system-time "
                                              "20200101T000000 \"$@\"\n");
  lab_.Run({"chmod", "+x", early});
  std::string commit = lab_.Commit({"openpgp", fpr, early}, "f.txt", "x", "m");
  SignatureCheck check = Check(commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("before key " + fpr + " existed"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, ""));
}

TEST_F(OpenPgpTest, RejectsARevokedKey) {
  std::string fpr = lab_.MakePgpKey("Gone <gone@example.com>", "ed25519");
  std::string commit = lab_.Commit({"openpgp", fpr, ""}, "f.txt", "x", "m");
  ASSERT_TRUE(Check(commit).valid);
  lab_.RevokePgpKey(fpr);
  SignatureCheck check = Check(commit);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("is revoked"), std::string::npos) << check.reason;
  EXPECT_FALSE(lab_.GitVerifyCommit(commit, ""));
}

TEST_F(OpenPgpTest, KeyringKeepsEncryptionSubkeysOutOfTheWay) {
  // The default gpg key has an ECDH encryption subkey Keelson cannot use to
  // sign; the keyring must still load and the primary verify.
  lab_.Run({"gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
            "Default <default@example.com>", "future-default", "default", "never"});
  Result<PgpKeyring> keyring = PgpKeyring::Parse(lab_.ExportPgpKeys(), "keyring.asc");
  ASSERT_TRUE(keyring.ok()) << keyring.error().ToString();
  ASSERT_EQ(keyring->certificates().size(), 1u);
  EXPECT_EQ(keyring->certificates()[0].user_ids, std::vector<std::string>{"Default <default@example.com>"});
  EXPECT_TRUE(keyring->certificates()[0].primary.unusable.empty());
}

TEST(OpenPgpParse, ArmorChecksumAndStructureErrors) {
  EXPECT_FALSE(PgpKeyring::Parse("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n=AAAA\n"
                                 "-----END PGP PUBLIC KEY BLOCK-----\n",
                                 "k")
                   .ok());
  Result<PgpKeyring> truncated = PgpKeyring::Parse(std::string("\x99\x01\x0d", 3), "k.gpg");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().where.file, "k.gpg");
  EXPECT_FALSE(ParseArmoredPgpSignature("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n").ok());
  EXPECT_FALSE(ParsePgpSignaturePacket(std::string("\x03\x00", 2)).ok());
}

}  // namespace
}  // namespace keelson::trust
