// Writes the audit trail of one environment: journal first, then a signed
// commit on the audit branch, then a push to the audit remote.
//
//   Append(body) ─▶ journal (fsync) ─▶ signed commit on the audit branch
//   Push(now)    ─▶ remote, in order, never forced; backoff on failure
//
// Guarantees: once Append returns a record, the record is durable in the
// journal; it reaches the audit branch in this Append or, if that fails or
// the process dies, in a later Append or the next Open. Commits are
// idempotent by sequence number: recovery commits exactly the journal
// records above the branch's last seq, so nothing is lost or duplicated.
//
// Not thread-safe: the agent owns one AuditWriter per environment and
// calls it from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/audit/audit_repository.h"
#include "agent/audit/journal.h"
#include "agent/audit/record.h"
#include "agent/audit/ssh_signer.h"
#include "renderers/manifest/result.h"

namespace keelson::audit {

// "keelson/audit/<environment>".
std::string DefaultAuditBranch(std::string_view environment);
// Where a record lives in the audit branch's tree:
// "records/<seq / 10000, 6 digits>/<seq / 100 % 100, 2 digits>/<seq, 12
// digits>.json", e.g. records/000000/01/000000000123.json: each new commit
// rewrites only small trees (at most 100 entries below records/<n>/), and
// paths sort in sequence order.
std::string RecordPath(std::uint64_t seq);
// The commit message: Summary(record), a blank line, PrettyJson(record).
std::string CommitMessage(const Record& record);

struct AuditWriterOptions {
  // Journal directory: <state_dir>/audit/<environment>/.
  std::string state_dir;
  // Local audit repository; a bare repository is created when missing.
  std::string repository;
  std::string environment;
  // Defaults to DefaultAuditBranch(environment).
  std::string branch;
  // Remote to push to (file://, git://, http(s)://, or SSH with a key and
  // known_hosts in remote_access); "" disables push.
  std::string remote_url;
  source::RemoteAccess remote_access;
  // The record's "agent" field and the committer name; default "keelson".
  std::string agent_name = "keelson";
  // Committer email; default "keelson@<agent_name>".
  std::string committer_email;
  // The agent's key; every audit commit is signed with it.
  std::shared_ptr<const SshSigner> signer;
  // Wall clock for record times; defaults to system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Push retry: the first retry waits initial_backoff, each further failure
  // doubles the wait up to max_backoff. Short waits push sooner after an
  // outage; long ones spare a remote that is down.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  // Testing only: called at named points ("journal-appended",
  // "commit-written", "branch-updated") so tests can kill the process there.
  std::function<void(std::string_view point)> fault_hook;
};

class AuditWriter {
 public:
  // Opens the journal and the repository, fetches the audit branch from the
  // remote when the local repository does not have it yet (best effort),
  // and commits whatever the journal holds beyond the branch. Fails when the
  // journal and the branch disagree (different record at the same seq, or a
  // gap between them): that needs a person, not a retry.
  static Result<std::unique_ptr<AuditWriter>> Open(AuditWriterOptions options);

  // Numbers, timestamps, journals and commits one record. Fails only when
  // the record is invalid or could not be journaled; a commit failure is
  // logged, counted in pending_commits() and retried on the next Append.
  Result<Record> Append(RecordBody body);

  // Commits journal records not yet on the branch; Ok when none are left.
  Status CommitPending();

  // One push attempt now. On failure the next attempt is due after the
  // backoff; a non-fast-forward is logged as an error every time (kCheckFailed).
  Status Push(std::chrono::steady_clock::time_point now);
  // True when a push is needed (unpushed commits or unknown remote state)
  // and its backoff has passed.
  bool PushDue(std::chrono::steady_clock::time_point now) const;

  std::uint64_t last_seq() const { return last_seq_; }
  std::size_t pending_commits() const;
  const std::string& branch() const { return options_.branch; }
  AuditRepository& repository() { return repo_; }

 private:
  AuditWriter(AuditWriterOptions options, std::unique_ptr<Journal> journal, AuditRepository repo);
  void Fault(std::string_view point) const;

  AuditWriterOptions options_;
  std::unique_ptr<Journal> journal_;
  AuditRepository repo_;
  std::optional<std::string> tip_;   // branch tip commit
  std::uint64_t committed_seq_ = 0;  // seq of the record at tip_
  std::uint64_t last_seq_ = 0;       // seq of the newest journaled record
  std::string last_id_;
  std::optional<std::string> pushed_tip_;  // what the remote had after our last good push
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_push_{};
};

}  // namespace keelson::audit
