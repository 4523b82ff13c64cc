// Reading and verifying an audit branch, and the promotion evidence the
// policy gates ask for ("was revision R recorded healthy in environment E").
//
// A trail is intact when, from the branch's root commit to its tip along
// first parents, every commit:
//   - has exactly one parent, the previous record's commit (none for seq 1);
//   - carries an SSHSIG (namespace "git") by a key in the allowed signers;
//   - adds exactly one file, RecordPath(seq), and changes nothing else;
//   - holds a valid record whose id matches its content, and whose message
//     is exactly CommitMessage(record);
//   - continues the sequence: seq = previous seq + 1 starting at 1,
//     previous_id = previous record's id, same environment throughout.
// Removing records from the tip cannot be seen from the branch alone; the
// pushed copy and the agent's last_seq are the witnesses for that.
//
// Functions here only read; they are safe to call concurrently on
// different AuditRepository objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/audit/audit_repository.h"
#include "agent/audit/record.h"
#include "agent/trust/allowed_signers.h"
#include "renderers/manifest/result.h"

namespace keelson::audit {

struct TrailEntry {
  std::string commit;
  Record record;
  std::string signer;  // allowed-signers principals when verified; else the key fingerprint or ""
};

struct TrailProblem {
  std::uint64_t seq = 0;  // expected seq at the bad commit
  std::string commit;
  std::string message;
  // "record seq 7 (commit 3f2a91c0d1e2): <message>"
  std::string ToString() const;
};

struct TrailReport {
  std::string branch;
  std::vector<TrailEntry> entries;      // the records verified before the first problem
  std::optional<TrailProblem> problem;  // the first bad record, if any
  bool intact() const { return !problem.has_value(); }
};

struct VerifiedSignature {
  std::string principals;   // the allowed_signers line that matched, as written
  std::string fingerprint;  // "SHA256:..." of the signing key
};

// Verifies an audit commit's signature the way the agent verifies source
// commits (agent/trust): an SSHSIG in namespace "git" over the commit
// without its signature, by a key `allowed` permits at the commit's time.
// kCheckFailed saying why when it is missing, malformed, bad or untrusted.
Result<VerifiedSignature> VerifyCommitSignature(const RepoCommit& commit, const trust::AllowedSigners& allowed);

// The key that made an armored SSHSIG, without checking anything else; for
// display ("signed by SHA256:... (unverified)").
Result<std::string> SignatureKeyFingerprint(std::string_view armored);

// The commits of `branch`, root first, along first parents.
Result<std::vector<std::string>> BranchCommits(const AuditRepository& repo, std::string_view branch);

// The record a commit carries (its tree's record file), parsed and
// validated but with no signature or chain check. For `audit log/show`.
Result<TrailEntry> ReadEntry(const AuditRepository& repo, const std::string& commit);

// Every record of `branch`, root first, unverified.
Result<std::vector<TrailEntry>> ReadTrail(const AuditRepository& repo, std::string_view branch);

// Checks the whole branch as described above. Fails (Error) only when the
// branch cannot be read at all; tampering is reported in TrailReport.
Result<TrailReport> VerifyTrail(const AuditRepository& repo, std::string_view branch, const trust::AllowedSigners& allowed);

struct HealthEvidence {
  std::string environment;
  std::string revision;
  std::uint64_t seq = 0;
  std::string commit;  // the audit commit that records it
  std::string time;    // when the reconcile finished
};

// "Was `revision` (a full commit id) applied and recorded healthy in
// `environment`?" Verifies the environment's audit branch first
// (DefaultAuditBranch unless `branch` is given): a trail that is not intact
// is an error (kCheckFailed) and proves nothing. Returns the newest
// reconcile.finished record with outcome "applied" and health "healthy"
// for that revision, or nullopt when there is none.
Result<std::optional<HealthEvidence>> FindHealthyRecord(const AuditRepository& repo, std::string_view environment,
                                                        std::string_view revision, const trust::AllowedSigners& allowed,
                                                        std::string_view branch = "");

}  // namespace keelson::audit
