#include "agent/audit/trail.h"

#include <algorithm>
#include <ctime>

#include "agent/audit/audit_writer.h"
#include "agent/trust/policy.h"
#include "agent/trust/sshsig.h"

namespace keelson::audit {

namespace {

// A branch longer than this is refused rather than walked forever.
constexpr std::size_t kMaxRecords = 50'000'000;

// Audit records are signed with SSH keys only; OpenPGP and X.509
// signatures find no trusted signers.
trust::TrustMaterial SshOnly(const trust::AllowedSigners& allowed) {
  trust::TrustMaterial material;
  material.ssh = allowed;
  return material;
}

Result<VerifiedSignature> Verify(const RepoCommit& commit, const trust::SignatureVerifier& verifier) {
  if (commit.signature.empty()) return MakeError(ErrorCode::kCheckFailed, "the commit is not signed");
  trust::SignedObject object{commit.signed_payload, commit.signature,
                             trust::DetectSignatureFormat(commit.signature)};
  // No identity hint: the signer shown is the allowed_signers line's
  // principals, whoever the committer claims to be.
  trust::SignatureCheck check = verifier.Verify(object, commit.time, "");
  if (!check.valid) return MakeError(ErrorCode::kCheckFailed, check.reason);
  return VerifiedSignature{check.signer, check.fingerprint};
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

Result<VerifiedSignature> VerifyCommitSignature(const RepoCommit& commit, const trust::AllowedSigners& allowed) {
  trust::TrustMaterial material = SshOnly(allowed);
  return Verify(commit, trust::SignatureVerifier(material, Now));
}

Result<std::string> SignatureKeyFingerprint(std::string_view armored) {
  Result<trust::SshSignature> sig = trust::ParseSshSignature(armored);
  if (!sig.ok()) return std::move(sig).error();
  return sig->key.Fingerprint();
}

std::string TrailProblem::ToString() const {
  return "record seq " + std::to_string(seq) + " (commit " + commit.substr(0, 12) + "): " + message;
}

Result<std::vector<std::string>> BranchCommits(const AuditRepository& repo, std::string_view branch) {
  Result<std::optional<std::string>> tip = repo.BranchTip(branch);
  if (!tip.ok()) return std::move(tip).error();
  if (!tip->has_value()) {
    return MakeError(ErrorCode::kNotFound, "no audit branch " + std::string(branch) + " in this repository");
  }
  std::vector<std::string> commits;
  std::string at = **tip;
  while (true) {
    if (commits.size() >= kMaxRecords) {
      return MakeError(ErrorCode::kLimitExceeded, "audit branch has more than 50 million commits");
    }
    Result<RepoCommit> c = repo.ReadCommit(at);
    if (!c.ok()) return std::move(c).error();
    commits.push_back(at);
    if (c->parents.empty()) break;
    at = c->parents.front();
  }
  std::reverse(commits.begin(), commits.end());
  return commits;
}

Result<TrailEntry> ReadEntry(const AuditRepository& repo, const std::string& commit) {
  Result<std::vector<TreeChange>> changes = repo.ChangesFromFirstParent(commit);
  if (!changes.ok()) return std::move(changes).error();
  if (changes->size() != 1 || (*changes)[0].status != 'A') {
    return MakeError(ErrorCode::kCheckFailed, "commit does not add exactly one record file (it changes " +
                                                  std::to_string(changes->size()) + " paths)");
  }
  const std::string& path = (*changes)[0].path;
  Result<std::string> text = repo.ReadFile(commit, path);
  if (!text.ok()) return std::move(text).error();
  Result<Record> record = ParseRecord(*text, path);
  if (!record.ok()) return std::move(record).error();
  if (path != RecordPath(record->seq)) {
    return MakeError(ErrorCode::kCheckFailed, "record seq " + std::to_string(record->seq) + " is stored at " + path +
                                                  " instead of " + RecordPath(record->seq));
  }
  TrailEntry entry{commit, std::move(*record), ""};
  Result<RepoCommit> c = repo.ReadCommit(commit);
  if (c.ok() && !c->signature.empty()) {
    Result<std::string> fp = SignatureKeyFingerprint(c->signature);
    if (fp.ok()) entry.signer = *fp;
  }
  return entry;
}

Result<std::vector<TrailEntry>> ReadTrail(const AuditRepository& repo, std::string_view branch) {
  Result<std::vector<std::string>> commits = BranchCommits(repo, branch);
  if (!commits.ok()) return std::move(commits).error();
  std::vector<TrailEntry> entries;
  for (const std::string& commit : *commits) {
    Result<TrailEntry> e = ReadEntry(repo, commit);
    if (!e.ok()) {
      Error err = std::move(e).error();
      err.message = "commit " + commit.substr(0, 12) + ": " + err.ToString();
      err.where = {};
      return err;
    }
    entries.push_back(std::move(*e));
  }
  return entries;
}

Result<TrailReport> VerifyTrail(const AuditRepository& repo, std::string_view branch, const trust::AllowedSigners& allowed) {
  Result<std::vector<std::string>> commits = BranchCommits(repo, branch);
  if (!commits.ok()) return std::move(commits).error();
  trust::TrustMaterial material = SshOnly(allowed);
  trust::SignatureVerifier verifier(material, Now);
  TrailReport report;
  report.branch = std::string(branch);
  std::string previous_commit;
  for (const std::string& commit : *commits) {
    std::uint64_t expected_seq = report.entries.size() + 1;
    auto fail = [&](std::string message) {
      report.problem = TrailProblem{expected_seq, commit, std::move(message)};
      return report;
    };
    Result<RepoCommit> c = repo.ReadCommit(commit);
    if (!c.ok()) return fail(c.error().ToString());
    if (previous_commit.empty() ? !c->parents.empty() : (c->parents.size() != 1 || c->parents[0] != previous_commit)) {
      return fail(c->parents.size() > 1 ? "a merge commit; audit records form a single line"
                                        : "its parent is not the previous record's commit");
    }
    Result<VerifiedSignature> sig = Verify(*c, verifier);
    if (!sig.ok()) return fail(sig.error().message);
    Result<TrailEntry> entry = ReadEntry(repo, commit);
    if (!entry.ok()) return fail(entry.error().ToString());
    const Record& r = entry->record;
    if (r.seq != expected_seq) {
      return fail("expected seq " + std::to_string(expected_seq) + " but the record says seq " + std::to_string(r.seq) +
                  (r.seq > expected_seq ? " (a record is missing)" : " (out of order)"));
    }
    std::string previous_id = report.entries.empty() ? "" : report.entries.back().record.id;
    if (r.previous_id != previous_id) return fail("previous_id does not name the previous record (chain broken)");
    if (!report.entries.empty() && r.environment != report.entries.front().record.environment) {
      return fail("environment \"" + r.environment + "\" differs from the trail's \"" +
                  report.entries.front().record.environment + "\"");
    }
    if (c->message != CommitMessage(r)) return fail("the commit message does not match the record file");
    entry->signer = sig->principals;
    report.entries.push_back(std::move(*entry));
    previous_commit = commit;
  }
  return report;
}

Result<std::optional<HealthEvidence>> FindHealthyRecord(const AuditRepository& repo, std::string_view environment,
                                                        std::string_view revision, const trust::AllowedSigners& allowed,
                                                        std::string_view branch) {
  std::string name = branch.empty() ? DefaultAuditBranch(environment) : std::string(branch);
  Result<TrailReport> report = VerifyTrail(repo, name, allowed);
  if (!report.ok()) return std::move(report).error();
  if (!report->intact()) {
    return MakeError(ErrorCode::kCheckFailed,
                     "audit trail " + name + " is not intact, so it proves nothing: " + report->problem->ToString());
  }
  for (auto it = report->entries.rbegin(); it != report->entries.rend(); ++it) {
    const Record& r = it->record;
    if (r.environment != environment) continue;
    const auto* finished = std::get_if<ReconcileFinished>(&r.body);
    if (finished == nullptr || finished->revision != revision) continue;
    if (finished->outcome == "applied" && finished->health.status == "healthy") {
      return std::optional<HealthEvidence>(
          HealthEvidence{r.environment, finished->revision, r.seq, it->commit, r.time});
    }
  }
  return std::optional<HealthEvidence>();
}

}  // namespace keelson::audit
