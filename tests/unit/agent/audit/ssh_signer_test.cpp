// SSHSIG signing checked by the real ssh-keygen and git, and the audit
// reader's signature check cross-checked against signatures ssh-keygen made.
#include "agent/audit/ssh_signer.h"

#include <gtest/gtest.h>

#include <ctime>

#include "agent/audit/audit_repository.h"
#include "agent/audit/trail.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::audit {
namespace {

using testing::ProcessResult;
using testing::ReadFileOrDie;
using testing::RunProgram;
using testing::TempDir;

std::string MakeKey(const TempDir& dir, const std::string& name, const std::vector<std::string>& extra = {}) {
  std::string path = dir.path() + "/" + name;
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name + "@keelson", "-f", path};
  argv.insert(argv.begin() + 4, extra.begin(), extra.end());
  ProcessResult r = RunProgram(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(SshSigner, ReadsSshKeygenKeyAndMatchesItsPublicKey) {
  TempDir dir;
  std::string key = MakeKey(dir, "agent");
  Result<SshSigner> signer = SshSigner::FromPrivateKeyFile(key);
  ASSERT_TRUE(signer.ok()) << signer.error().ToString();
  EXPECT_EQ(signer->PublicKeyLine(), Trim(ReadFileOrDie(key + ".pub")));
  ProcessResult fp = RunProgram({"ssh-keygen", "-l", "-f", key + ".pub"});
  EXPECT_NE(fp.out.find(signer->Fingerprint()), std::string::npos) << fp.out;
}

TEST(SshSigner, SshKeygenVerifiesOurSignature) {
  TempDir dir;
  std::string key = MakeKey(dir, "agent");
  Result<SshSigner> signer = SshSigner::FromPrivateKeyFile(key);
  ASSERT_TRUE(signer.ok());
  std::string message = "audit record\nwith two lines\n";
  Result<std::string> sig = signer->Sign(message, "file");
  ASSERT_TRUE(sig.ok());
  std::string sig_path = dir.Write("msg.sig", *sig);
  std::string allowed = dir.Write("allowed", "agent@keelson " + signer->PublicKeyLine() + "\n");
  ProcessResult ok = RunProgram(
      {"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "agent@keelson", "-n", "file", "-s", sig_path}, message);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  ProcessResult tampered =
      RunProgram({"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "agent@keelson", "-n", "file", "-s", sig_path},
                 message + "x");
  EXPECT_NE(tampered.exit_code, 0);
}

// The audit reader's check (agent/trust underneath) on signatures that
// ssh-keygen made, as if they were on audit commits.
RepoCommit SignedBy(const TempDir& dir, const std::string& key, const std::string& message, const std::string& ns) {
  std::string msg_path = dir.Write("msg-" + ns, message);
  ProcessResult r = RunProgram({"ssh-keygen", "-Y", "sign", "-f", key, "-n", ns, msg_path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  RepoCommit commit;
  commit.signed_payload = message;
  commit.signature = ReadFileOrDie(msg_path + ".sig");
  commit.time = static_cast<std::int64_t>(std::time(nullptr));
  return commit;
}

TEST(SignatureCheck, VerifiesSignaturesMadeBySshKeygen) {
  TempDir dir;
  std::string key = MakeKey(dir, "agent");
  std::string other = MakeKey(dir, "other");
  RepoCommit commit = SignedBy(dir, key, "hello\n", "git");

  Result<trust::AllowedSigners> allowed = trust::AllowedSigners::Parse(
      "# agents\n\n\"agent@keelson\" namespaces=\"git,file\" " + Trim(ReadFileOrDie(key + ".pub")) + "\n", "allowed");
  ASSERT_TRUE(allowed.ok()) << allowed.error().ToString();
  Result<VerifiedSignature> v = VerifyCommitSignature(commit, *allowed);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->principals, "agent@keelson");
  EXPECT_EQ(v->fingerprint.rfind("SHA256:", 0), 0u) << v->fingerprint;
  EXPECT_EQ(*SignatureKeyFingerprint(commit.signature), v->fingerprint);

  RepoCommit tampered = commit;
  tampered.signed_payload = "hello!\n";
  EXPECT_FALSE(VerifyCommitSignature(tampered, *allowed).ok());
  EXPECT_FALSE(VerifyCommitSignature(SignedBy(dir, key, "hello\n", "file"), *allowed).ok());  // not "git"
  RepoCommit unsigned_commit = commit;
  unsigned_commit.signature.clear();
  EXPECT_FALSE(VerifyCommitSignature(unsigned_commit, *allowed).ok());

  Result<trust::AllowedSigners> only_other =
      trust::AllowedSigners::Parse("other@keelson " + Trim(ReadFileOrDie(other + ".pub")) + "\n", "allowed");
  ASSERT_TRUE(only_other.ok());
  Result<VerifiedSignature> untrusted = VerifyCommitSignature(commit, *only_other);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.error().code, ErrorCode::kCheckFailed);
  EXPECT_NE(untrusted.error().message.find("not in the allowed signers"), std::string::npos);

  Result<trust::AllowedSigners> wrong_ns = trust::AllowedSigners::Parse(
      "agent@keelson namespaces=\"file\" " + Trim(ReadFileOrDie(key + ".pub")) + "\n", "allowed");
  ASSERT_TRUE(wrong_ns.ok());
  EXPECT_FALSE(VerifyCommitSignature(commit, *wrong_ns).ok());

  // A key whose allowed_signers line expired before the commit was made.
  Result<trust::AllowedSigners> expired = trust::AllowedSigners::Parse(
      "agent@keelson valid-before=\"20200101Z\" " + Trim(ReadFileOrDie(key + ".pub")) + "\n", "allowed");
  ASSERT_TRUE(expired.ok()) << expired.error().ToString();
  Result<VerifiedSignature> late = VerifyCommitSignature(commit, *expired);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos) << late.error().message;
}

TEST(SignatureCheck, AllowedSignersErrorsNameTheLine) {
  Result<trust::AllowedSigners> bad = trust::AllowedSigners::Parse("# c\na@b ssh-ed25519 !!!\n", "signers");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where.line, 2);
  TempDir dir;
  Result<trust::AllowedSigners> missing = trust::AllowedSigners::Load(dir.path() + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(SshSigner, RefusesEncryptedOtherTypesAndGarbage) {
  TempDir dir;
  std::string encrypted = dir.path() + "/enc";
  ASSERT_EQ(RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", encrypted}).exit_code, 0);
  Result<SshSigner> e = SshSigner::FromPrivateKeyFile(encrypted);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("encrypted"), std::string::npos);

  std::string ecdsa = dir.path() + "/ecdsa";
  ASSERT_EQ(RunProgram({"ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa}).exit_code, 0);
  Result<SshSigner> t = SshSigner::FromPrivateKeyFile(ecdsa);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("ssh-ed25519"), std::string::npos);

  EXPECT_FALSE(SshSigner::FromPrivateKeyText("hello", "k").ok());
  std::string text = ReadFileOrDie(MakeKey(dir, "agent"));
  // Every truncation of the base64 body fails cleanly instead of crashing.
  std::size_t body = text.find('\n') + 1;
  std::size_t end = text.find("-----END");
  for (std::size_t cut = body; cut < end; cut += 7) {
    std::string broken = text.substr(0, cut) + "\n" + text.substr(end);
    EXPECT_FALSE(SshSigner::FromPrivateKeyText(broken, "k").ok()) << cut;
  }
  // A flipped bit in the private key no longer matches the public key.
  std::string flipped = text;
  flipped[end - 40] = flipped[end - 40] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SshSigner::FromPrivateKeyText(flipped, "k").ok());
}

TEST(SshSigner, GitVerifyCommitAcceptsSignedCommits) {
  if (!testing::HaveProgram("git")) GTEST_SKIP() << "git not installed";
  TempDir dir;
  std::string key = MakeKey(dir, "agent");
  Result<SshSigner> signer = SshSigner::FromPrivateKeyFile(key);
  ASSERT_TRUE(signer.ok());
  std::string repo_path = dir.path() + "/audit.git";
  Result<AuditRepository> repo = AuditRepository::OpenOrInitBare(repo_path);
  ASSERT_TRUE(repo.ok()) << repo.error().ToString();
  auto sign = [&](std::string_view content) { return signer->Sign(content, "git"); };
  CommitIdentity who{"Keelson", "keelson@example.com", 1795000000, 60};
  Result<std::string> first = repo->WriteCommit("", "records/1.json", "{}\n", "first\n\nbody\n", who, sign);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(repo->UpdateBranch("keelson/audit/test", *first, std::nullopt).ok());
  Result<std::string> second = repo->WriteCommit(*first, "records/2.json", "{}\n", "second\n", who, sign);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(repo->UpdateBranch("keelson/audit/test", *second, *first).ok());
  // Compare-and-swap: moving from a stale tip fails.
  EXPECT_FALSE(repo->UpdateBranch("keelson/audit/test", *first, *first).ok());

  std::string allowed = dir.Write("allowed", "agent@keelson " + signer->PublicKeyLine() + "\n");
  for (const std::string& commit : {*first, *second}) {
    ProcessResult v = RunProgram(
        {"git", "--git-dir", repo_path, "-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", "-v", commit});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.err.find("Good \"git\" signature for agent@keelson"), std::string::npos) << v.err;
  }
  ProcessResult log = RunProgram({"git", "--git-dir", repo_path, "-c", "gpg.ssh.allowedSignersFile=" + allowed, "log",
                                  "--show-signature", "keelson/audit/test"});
  EXPECT_EQ(log.exit_code, 0);
  EXPECT_NE(log.out.find("Good \"git\" signature"), std::string::npos) << log.out;

  Result<RepoCommit> read = repo->ReadCommit(*second);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->parents, std::vector<std::string>{*first});
  Result<trust::AllowedSigners> signers = trust::AllowedSigners::Load(allowed);
  ASSERT_TRUE(signers.ok());
  EXPECT_TRUE(VerifyCommitSignature(*read, *signers).ok());
  Result<std::vector<TreeChange>> changes = repo->ChangesFromFirstParent(*second);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].path, "records/2.json");
  EXPECT_EQ((*changes)[0].status, 'A');
}

}  // namespace
}  // namespace keelson::audit
