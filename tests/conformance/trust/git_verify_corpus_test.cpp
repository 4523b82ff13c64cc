// Keelson's verdict against `git verify-commit` over a corpus of signed
// commits in every format git makes: good signatures by each key type,
// unknown keys, keys outside their validity, wrong namespaces, expired and
// revoked OpenPGP keys, unsigned and tampered commits. Both sides get the
// same trusted keys: one allowed_signers file, the exported GnuPG keyring,
// and the throwaway CA gpgsm trusts. The corpus is built once per run.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>

#include "tests/testing/subprocess.h"
#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson {
namespace {

using trust::testing::Signing;
using trust::testing::SigningLab;

enum Kind {
  kSshEd25519, kSshEcdsa256, kSshEcdsa384, kSshRsa, kSshUnknownKey, kSshExpiredWindow, kSshOtherNamespace,
  kPgpEd25519, kPgpRsa, kPgpEcdsaSubkey, kPgpP384, kPgpUnknownKey, kPgpExpiredKey, kPgpRevokedKey,
  kX509Good, kUnsigned, kTampered, kKindCount
};

bool ShouldPass(Kind k) {
  switch (k) {
    case kSshEd25519: case kSshEcdsa256: case kSshEcdsa384: case kSshRsa:
    case kPgpEd25519: case kPgpRsa: case kPgpEcdsaSubkey: case kPgpP384: case kX509Good:
      return true;
    default:
      return false;
  }
}

constexpr int kRounds = 12;  // 12 x 17 kinds = 204 commits

struct Corpus {
  std::unique_ptr<SigningLab> lab;
  std::string allowed_signers, keyring, roots;
  std::vector<std::pair<std::string, Kind>> commits;  // oldest first
};

Corpus* corpus = nullptr;

class GitVerifyCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!trust::testing::HaveSigningTools()) return;
    corpus = new Corpus;
    corpus->lab = std::make_unique<SigningLab>();
    SigningLab& lab = *corpus->lab;
    std::map<Kind, Signing> signing;
    signing[kSshEd25519] = {"ssh", lab.MakeSshKey("ed", "ed25519"), ""};
    signing[kSshEcdsa256] = {"ssh", lab.MakeSshKey("p256", "ecdsa-256"), ""};
    signing[kSshEcdsa384] = {"ssh", lab.MakeSshKey("p384", "ecdsa-384"), ""};
    signing[kSshRsa] = {"ssh", lab.MakeSshKey("rsa", "rsa"), ""};
    signing[kSshUnknownKey] = {"ssh", lab.MakeSshKey("stranger", "ed25519"), ""};
    signing[kSshExpiredWindow] = {"ssh", lab.MakeSshKey("former", "ed25519"), ""};
    signing[kSshOtherNamespace] = {"ssh", lab.MakeSshKey("files", "ecdsa-256"), ""};
    corpus->allowed_signers = lab.Write(
        "allowed_signers", "dev@example.com " + lab.SshPublicKey("ed") + "\n" + "dev@example.com " +
                               lab.SshPublicKey("p256") + "\n" + "*@example.com " + lab.SshPublicKey("p384") + "\n" +
                               "dev@example.com,ops@example.com " + lab.SshPublicKey("rsa") + "\n" +
                               "dev@example.com valid-before=20200101Z " + lab.SshPublicKey("former") + "\n" +
                               "dev@example.com namespaces=\"file\" " + lab.SshPublicKey("files") + "\n");

    signing[kPgpEd25519] = {"openpgp", lab.MakePgpKey("Ed <ed@example.com>", "ed25519") + "!", ""};
    signing[kPgpRsa] = {"openpgp", lab.MakePgpKey("Rsa <rsa@example.com>", "rsa3072") + "!", ""};
    std::string sub_primary = lab.MakePgpKey("Sub <sub@example.com>", "ed25519");
    signing[kPgpEcdsaSubkey] = {"openpgp", lab.AddPgpSubkey(sub_primary, "nistp256/ecdsa") + "!", ""};
    signing[kPgpP384] = {"openpgp", lab.MakePgpKey("P384 <p384@example.com>", "nistp384") + "!", ""};
    std::string unknown = lab.MakePgpKey("Unknown <unknown@example.com>", "ed25519");
    signing[kPgpUnknownKey] = {"openpgp", unknown + "!", ""};
    signing[kPgpExpiredKey] = {"openpgp",
                               lab.MakePgpKey("Old <old@example.com>", "ed25519", "1d",
                                              {"--faked-system-time", "20200101T000000"}) + "!",
                               lab.PgpProgramAt("20200101T120000")};
    std::string revoked = lab.MakePgpKey("Gone <gone@example.com>", "ed25519");
    signing[kPgpRevokedKey] = {"openpgp", revoked + "!", ""};

    corpus->roots = lab.MakeX509Signer("x509@example.com");
    signing[kX509Good] = {"x509", "x509@example.com", ""};
    signing[kUnsigned] = {};

    const Kind tamper_with[] = {kSshEd25519, kPgpEd25519, kX509Good};
    for (int round = 0; round < kRounds; ++round) {
      for (int k = 0; k < kKindCount; ++k) {
        Kind kind = static_cast<Kind>(k);
        // Every fourth commit changes a file; the rest are empty, which
        // keeps building the corpus quick and changes nothing for signing.
        std::string path = k % 4 == 0 ? "dir" + std::to_string(k) + "/file.yaml" : "";
        std::string contents = "round: " + std::to_string(round) + "\n";
        std::string message = "commit " + std::to_string(round) + "." + std::to_string(k);
        std::string id;
        if (kind == kTampered) {
          lab.Commit(signing[tamper_with[round % 3]], path, contents, message);
          std::string raw = lab.Raw("commit", lab.Git({"rev-parse", "HEAD"}));
          raw.replace(raw.rfind(message), message.size(), "changed after signing");
          id = lab.WriteCommitObject(raw);
        } else {
          id = lab.Commit(signing[kind], path, contents, message);
        }
        corpus->commits.emplace_back(id, kind);
      }
    }
    lab.DeletePgpKey(unknown);
    lab.RevokePgpKey(revoked);
    corpus->keyring = lab.Write("keyring.asc", lab.ExportPgpKeys());
  }

  static void TearDownTestSuite() {
    delete corpus;
    corpus = nullptr;
  }

  void SetUp() override {
    if (!corpus) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
  }

  // Keelson's verdict per commit id, from one `keelson verify` run over the
  // whole history plus one for the root commit.
  std::map<std::string, std::string> KeelsonVerdicts() {
    std::map<std::string, std::string> verdicts;
    const std::string& root = corpus->commits.front().first;
    for (const std::vector<std::string>& which : {std::vector<std::string>{"--range", root + "..HEAD"},
                                                 std::vector<std::string>{"--rev", root}}) {
      std::vector<std::string> args{KEELSON_BINARY, "verify", "--repo", corpus->lab->repo(), "--allowed-signers",
                                    corpus->allowed_signers, "--openpgp-keyring", corpus->keyring, "--x509-roots",
                                    corpus->roots};
      args.insert(args.end(), which.begin(), which.end());
      testing::ProcessResult r = testing::RunProgram(args);
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
      std::istringstream in(r.out);
      for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, verdict;
        fields >> id >> verdict;
        verdicts[id] = line;
      }
    }
    return verdicts;
  }
};

TEST_F(GitVerifyCorpusTest, KeelsonAgreesWithGitVerifyCommitOnEveryCommit) {
  ASSERT_GE(corpus->commits.size(), 200u);
  std::map<std::string, std::string> ours = KeelsonVerdicts();
  int agree = 0, passed = 0;
  for (const auto& [id, kind] : corpus->commits) {
    ASSERT_TRUE(ours.contains(id)) << "keelson printed no line for " << id;
    const std::string& line = ours[id];
    bool keelson_pass = line.find(" pass ") == id.size();
    bool git_pass = corpus->lab->GitVerifyCommit(id, corpus->allowed_signers);
    EXPECT_EQ(keelson_pass, git_pass) << "kind " << kind << ": " << line;
    // Agreement alone could hide both sides being wrong the same way.
    EXPECT_EQ(keelson_pass, ShouldPass(kind)) << "kind " << kind << ": " << line;
    agree += keelson_pass == git_pass;
    passed += keelson_pass;
  }
  std::cout << "corpus: " << corpus->commits.size() << " commits, " << agree << " verdicts equal to git verify-commit, "
            << passed << " pass\n";
}

}  // namespace
}  // namespace keelson
