#include "agent/audit/audit_writer.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace keelson::audit {

namespace {

// The record a branch tip carries, read from its commit message body.
Result<Record> RecordAtCommit(const AuditRepository& repo, const std::string& commit) {
  Result<RepoCommit> c = repo.ReadCommit(commit);
  if (!c.ok()) return std::move(c).error();
  std::size_t body = c->message.find("\n\n");
  if (body == std::string::npos) {
    return MakeError(ErrorCode::kInvalidInput, "commit " + commit + " is not an audit record (no body)");
  }
  return ParseRecord(std::string_view(c->message).substr(body + 2), "commit " + commit);
}

}  // namespace

std::string DefaultAuditBranch(std::string_view environment) { return "keelson/audit/" + std::string(environment); }

std::string RecordPath(std::uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "records/%06llu/%02llu/%012llu.json", static_cast<unsigned long long>(seq / 10000),
                static_cast<unsigned long long>(seq / 100 % 100), static_cast<unsigned long long>(seq));
  return buf;
}

std::string CommitMessage(const Record& record) { return Summary(record) + "\n\n" + PrettyJson(record); }

AuditWriter::AuditWriter(AuditWriterOptions options, std::unique_ptr<Journal> journal, AuditRepository repo)
    : options_(std::move(options)), journal_(std::move(journal)), repo_(std::move(repo)) {}

void AuditWriter::Fault(std::string_view point) const {
  if (options_.fault_hook) options_.fault_hook(point);
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::Open(AuditWriterOptions options) {
  if (options.signer == nullptr) return MakeError(ErrorCode::kInvalidInput, "the audit writer needs a signing key");
  if (!IsValidEnvironmentName(options.environment)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "bad environment name \"" + options.environment + "\": use 1-63 letters, digits, '-', '_' or '.'");
  }
  if (options.branch.empty()) options.branch = DefaultAuditBranch(options.environment);
  if (options.committer_email.empty()) options.committer_email = "keelson@" + options.agent_name;
  if (!options.clock) options.clock = [] { return std::chrono::system_clock::now(); };
  if (!options.remote_url.empty()) {
    // Refuse an unusable remote now rather than at every push.
    if (Status s = AuditRepository::CheckRemote(options.remote_url, options.remote_access); !s) {
      return std::move(s).error();
    }
  }
  if (options.state_dir.empty() || options.repository.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "the audit writer needs a state directory and a repository");
  }
  Result<std::unique_ptr<Journal>> journal = Journal::Open(options.state_dir + "/audit/" + options.environment);
  if (!journal.ok()) return std::move(journal).error();
  Result<AuditRepository> repo = AuditRepository::OpenOrInitBare(options.repository);
  if (!repo.ok()) return std::move(repo).error();
  repo->set_remote_access(options.remote_access);
  if (!options.remote_url.empty()) {
    if (Status s = repo->FetchMissingBranch(options.remote_url, options.branch); !s) {
      spdlog::warn("audit: cannot fetch {} from {}; continuing from the local repository: {}", options.branch,
                   options.remote_url, s.error().ToString());
    }
  }
  std::unique_ptr<AuditWriter> w(new AuditWriter(std::move(options), std::move(*journal), std::move(*repo)));

  Result<std::optional<std::string>> tip = w->repo_.BranchTip(w->options_.branch);
  if (!tip.ok()) return std::move(tip).error();
  w->tip_ = *tip;
  std::string tip_id;
  if (w->tip_) {
    Result<Record> at_tip = RecordAtCommit(w->repo_, *w->tip_);
    if (!at_tip.ok()) return std::move(at_tip).error();
    w->committed_seq_ = at_tip->seq;
    tip_id = at_tip->id;
  }
  w->last_seq_ = w->committed_seq_;
  w->last_id_ = tip_id;

  // Match the journal against the branch before trusting either.
  for (const Record& r : w->journal_->records()) {
    if (r.seq < w->committed_seq_) continue;
    if (r.seq == w->committed_seq_) {
      if (r.id != tip_id) {
        return MakeError(ErrorCode::kCheckFailed,
                         "audit journal " + w->journal_->path() + " and branch " + w->options_.branch +
                             " hold different records at seq " + std::to_string(r.seq) +
                             "; someone else wrote to the branch. Move the journal aside after checking both");
      }
      continue;
    }
    if (r.seq == w->last_seq_ + 1 && r.previous_id == w->last_id_) {
      w->last_seq_ = r.seq;
      w->last_id_ = r.id;
      continue;
    }
    return MakeError(ErrorCode::kCheckFailed, "audit journal " + w->journal_->path() + " continues at seq " +
                                                  std::to_string(r.seq) + " but branch " + w->options_.branch +
                                                  " ends at seq " + std::to_string(w->committed_seq_));
  }
  if (Status s = w->CommitPending(); !s) return std::move(s).error();
  return w;
}

std::size_t AuditWriter::pending_commits() const { return static_cast<std::size_t>(last_seq_ - committed_seq_); }

Result<Record> AuditWriter::Append(RecordBody body) {
  Record r;
  r.seq = last_seq_ + 1;
  r.previous_id = last_id_;
  r.environment = options_.environment;
  r.agent = options_.agent_name;
  r.time = FormatTime(options_.clock());
  r.body = std::move(body);
  r.id = ComputeRecordId(r);
  if (Status s = Validate(r); !s) return std::move(s).error();
  if (Status s = journal_->Append(r); !s) return std::move(s).error();
  last_seq_ = r.seq;
  last_id_ = r.id;
  Fault("journal-appended");
  if (Status s = CommitPending(); !s) {
    spdlog::error("audit: record {} of {} is journaled but not committed yet: {}", r.seq, options_.environment,
                  s.error().ToString());
  }
  return r;
}

Status AuditWriter::CommitPending() {
  auto sign = [this](std::string_view content) { return options_.signer->Sign(content, "git"); };
  for (const Record& r : journal_->records()) {
    if (r.seq <= committed_seq_) continue;
    Result<std::chrono::system_clock::time_point> when = ParseTime(r.time);
    if (!when.ok()) return std::move(when).error();
    // The record's own time makes a re-commit after a crash byte-identical.
    CommitIdentity committer{options_.agent_name, options_.committer_email,
                             std::chrono::duration_cast<std::chrono::seconds>(when->time_since_epoch()).count(), 0};
    Result<std::string> commit =
        repo_.WriteCommit(tip_.value_or(""), RecordPath(r.seq), PrettyJson(r), CommitMessage(r), committer, sign);
    if (!commit.ok()) return std::move(commit).error();
    Fault("commit-written");
    if (Status s = repo_.UpdateBranch(options_.branch, *commit, tip_); !s) return s;
    tip_ = *commit;
    committed_seq_ = r.seq;
    Fault("branch-updated");
  }
  // Keep the journal short; it only needs what is not committed yet.
  if (journal_->records().size() > 32) {
    if (Status s = journal_->Compact(committed_seq_); !s) return s;
  }
  return Status::Ok();
}

bool AuditWriter::PushDue(std::chrono::steady_clock::time_point now) const {
  if (options_.remote_url.empty() || !tip_) return false;
  if (pushed_tip_ == tip_) return false;
  return now >= next_push_;
}

Status AuditWriter::Push(std::chrono::steady_clock::time_point now) {
  if (options_.remote_url.empty() || !tip_) return Status::Ok();
  std::string pushing = *tip_;
  Status s = repo_.Push(options_.remote_url, options_.branch);
  if (s.ok()) {
    pushed_tip_ = pushing;
    backoff_ = std::chrono::milliseconds(0);
    next_push_ = now;
    return s;
  }
  backoff_ = backoff_.count() == 0 ? options_.initial_backoff : std::min(backoff_ * 2, options_.max_backoff);
  next_push_ = now + backoff_;
  if (s.error().code == ErrorCode::kCheckFailed) {
    spdlog::error("audit: {}", s.error().ToString());
  } else {
    spdlog::warn("audit: {} (records up to seq {} wait locally; next try in {} ms)", s.error().ToString(),
                 committed_seq_, backoff_.count());
  }
  return s;
}

}  // namespace keelson::audit
