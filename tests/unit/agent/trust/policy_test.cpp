#include "agent/trust/policy.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/trust/signing_lab.h"

namespace keelson::trust {
namespace {

using testing::SigningLab;

TEST(TrustPolicyParse, ReadsEveryField) {
  Result<TrustPolicy> p = TrustPolicy::Parse(R"(
mode: every-commit
parents: first-parent
signedTags: true
formats: [ssh, openpgp]
signers: [group:platform, "*@apps.example.com"]
groups:
  platform: [alice@example.com, "SHA256:abc"]
paths:
  - prefix: clusters/prod/
    signers: [group:platform]
webFlow:
  - name: github
    fingerprint: 968479A1AFF927E37D1A566BB5690EEEBB952194
    mergesOnly: false
)",
                                             "policy.yaml");
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->mode, PolicyMode::kEveryCommit);
  EXPECT_TRUE(p->first_parent);
  EXPECT_TRUE(p->signed_tags);
  EXPECT_EQ(p->formats, (std::vector<SignatureFormat>{SignatureFormat::kSsh, SignatureFormat::kOpenPgp}));
  ASSERT_EQ(p->paths.size(), 1u);
  EXPECT_EQ(p->paths[0].prefix, "clusters/prod/");
  ASSERT_EQ(p->web_flow.size(), 1u);
  EXPECT_FALSE(p->web_flow[0].merges_only);
  EXPECT_TRUE(SignerMatches(*p, "group:platform", {"alice@example.com"}));
  EXPECT_TRUE(SignerMatches(*p, "*@apps.example.com", {"x@apps.example.com"}));
  EXPECT_FALSE(SignerMatches(*p, "group:platform", {"bob@example.com"}));
  EXPECT_TRUE(SignerMatches(*p, "96 84 79 a1 af f9 27 e3 7d 1a 56 6b b5 69 0e ee bb 95 21 94",
                            {"968479A1AFF927E37D1A566BB5690EEEBB952194"}));
}

TEST(TrustPolicyParse, ErrorsNameFileLineAndField) {
  Result<TrustPolicy> unknown = TrustPolicy::Parse("mode: head\nsigner: [a]\n", "policy.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().ToString().substr(0, 23), "policy.yaml:2:1: signer");
  Result<TrustPolicy> mode = TrustPolicy::Parse("mode: newest\n", "p");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.error().where.field, "mode");
  EXPECT_EQ(mode.error().where.line, 1);
  Result<TrustPolicy> group = TrustPolicy::Parse("paths:\n  - prefix: a/\n    signers: [group:nobody]\n", "p");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().where.field, "paths[0].signers[0]");
  EXPECT_FALSE(TrustPolicy::Parse("paths:\n  - prefix: ../x\n    signers: [a]\n", "p").ok());
  EXPECT_FALSE(TrustPolicy::Parse("formats: [gpg]\n", "p").ok());
  EXPECT_FALSE(TrustPolicy::Parse("webFlow:\n  - name: gh\n", "p").ok());
  EXPECT_TRUE(TrustPolicy::Parse("", "p").ok());
}

class PolicyWithSignaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveSigningTools()) GTEST_SKIP() << "git, ssh-keygen, gpg, gpgsm or openssl missing";
    alice_ = lab_.MakeSshKey("alice", "ed25519");
    bob_ = lab_.MakeSshKey("bob", "ed25519");
    forge_ = lab_.MakeSshKey("forge", "ed25519");
    Result<AllowedSigners> signers = AllowedSigners::Parse(
        "alice@example.com " + lab_.SshPublicKey("alice") + "\nbob@example.com " + lab_.SshPublicKey("bob") +
            "\nnoreply@forge.example " + lab_.SshPublicKey("forge") + "\n",
        "allowed_signers");
    ASSERT_TRUE(signers.ok()) << signers.error().ToString();
    material_.ssh = std::move(signers).value();
  }

  TrustReport Evaluate(const std::string& commit, const std::string& policy_yaml,
                       std::vector<std::string> changed_paths) {
    Result<TrustPolicy> policy = TrustPolicy::Parse(policy_yaml, "policy.yaml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    SignatureVerifier verifier(material_, [] { return static_cast<std::int64_t>(time(nullptr)); });
    return EvaluateCommit({commit, lab_.Raw("commit", commit), std::move(changed_paths)}, *policy, verifier);
  }

  SigningLab lab_;
  TrustMaterial material_;
  std::string alice_, bob_, forge_;
};

constexpr std::string_view kPathPolicy = R"(
groups:
  platform: [alice@example.com]
paths:
  - prefix: clusters/prod/
    signers: [group:platform]
  - prefix: clusters/prod/apps/team-b
    signers: [group:platform, bob@example.com]
)";

TEST_F(PolicyWithSignaturesTest, OnlyThePlatformTeamMayChangeProd) {
  std::string by_bob = lab_.Commit({"ssh", bob_, ""}, "clusters/prod/cm.yaml", "a", "m", "bob@example.com");
  TrustReport denied = Evaluate(by_bob, std::string(kPathPolicy), {"clusters/prod/cm.yaml"});
  EXPECT_FALSE(denied.passed);
  EXPECT_EQ(denied.signer, "bob@example.com");
  EXPECT_EQ(denied.reason, "path clusters/prod/cm.yaml may be changed only by group:platform; signed by bob@example.com");
  // The longest prefix wins: team-b's folder is open to bob too.
  EXPECT_TRUE(Evaluate(by_bob, std::string(kPathPolicy), {"clusters/prod/apps/team-b/d.yaml"}).passed);
  EXPECT_FALSE(Evaluate(by_bob, std::string(kPathPolicy), {"clusters/prod/apps/team-bc/d.yaml"}).passed);
  EXPECT_TRUE(Evaluate(by_bob, std::string(kPathPolicy), {"clusters/staging/cm.yaml"}).passed);
  std::string by_alice = lab_.Commit({"ssh", alice_, ""}, "clusters/prod/cm.yaml", "b", "m", "alice@example.com");
  TrustReport allowed = Evaluate(by_alice, std::string(kPathPolicy), {"clusters/prod/cm.yaml"});
  EXPECT_TRUE(allowed.passed) << allowed.reason;
  EXPECT_EQ(allowed.format, SignatureFormat::kSsh);
  EXPECT_TRUE(allowed.fingerprint.starts_with("SHA256:"));
}

TEST_F(PolicyWithSignaturesTest, SignersAndFormatsNarrowWhatTheKeysAllow) {
  std::string by_bob = lab_.Commit({"ssh", bob_, ""}, "a.yaml", "a", "m", "bob@example.com");
  TrustReport not_listed = Evaluate(by_bob, "signers: [alice@example.com]\n", {});
  EXPECT_FALSE(not_listed.passed);
  EXPECT_NE(not_listed.reason.find("is not among the policy's signers"), std::string::npos);
  TrustReport wrong_format = Evaluate(by_bob, "formats: [openpgp, x509]\n", {});
  EXPECT_FALSE(wrong_format.passed);
  EXPECT_EQ(wrong_format.reason, "ssh signatures are not allowed by the policy");
  EXPECT_TRUE(Evaluate(by_bob, "signers: [\"*@example.com\"]\n", {}).passed);
}

TEST_F(PolicyWithSignaturesTest, WebFlowKeysSignMergesOnlyWhenNamed) {
  SshPublicKey forge_key = material_.ssh->signers()[2].key;
  std::string policy = "signers: [alice@example.com]\nwebFlow:\n  - name: forge\n    fingerprint: \"" +
                       forge_key.Fingerprint() + "\"\n";
  std::string base = lab_.Commit({"ssh", alice_, ""}, "a.yaml", "a", "base", "alice@example.com");
  lab_.Git({"checkout", "-q", "-b", "feature"});
  lab_.Commit({"ssh", alice_, ""}, "b.yaml", "b", "feature", "alice@example.com");
  lab_.Git({"checkout", "-q", "main"});
  lab_.Commit({"ssh", alice_, ""}, "c.yaml", "c", "main moves on", "alice@example.com");
  lab_.Git({"-c", "user.name=Forge", "-c", "user.email=noreply@forge.example", "-c", "gpg.format=ssh", "-c",
            "user.signingkey=" + forge_, "merge", "-q", "--no-ff", "-S", "-m", "Merge pull request #1", "feature"});
  std::string merge = lab_.Git({"rev-parse", "HEAD"});
  TrustReport report = Evaluate(merge, policy, {"b.yaml"});
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(report.signer, "web-flow:forge");
  // Unnamed, the forge key is just a signer the policy does not list.
  EXPECT_FALSE(Evaluate(merge, "signers: [alice@example.com]\n", {"b.yaml"}).passed);
  // A web-flow key may not sign ordinary commits.
  std::string direct = lab_.Commit({"ssh", forge_, ""}, "d.yaml", "d", "web edit", "noreply@forge.example");
  TrustReport edit = Evaluate(direct, policy, {"d.yaml"});
  EXPECT_FALSE(edit.passed);
  EXPECT_NE(edit.reason.find("only on merge commits"), std::string::npos) << edit.reason;
  (void)base;
}

TEST(TrustReport, OneLinePerObject) {
  TrustReport r{"abc", "commit", SignatureFormat::kOpenPgp, "a@example.com", "FPR", false, "key expired"};
  EXPECT_EQ(r.ToLine(), "abc fail openpgp a@example.com FPR key expired");
  TrustReport unsigned_commit{"def", "commit", SignatureFormat::kNone, "", "", false, "commit is not signed"};
  EXPECT_EQ(unsigned_commit.ToLine(), "def fail none - - commit is not signed");
}

}  // namespace
}  // namespace keelson::trust
