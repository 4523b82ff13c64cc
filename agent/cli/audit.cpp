// `keelson audit log|show|verify`: read and verify the audit trail with the
// same code the agent uses to write it.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <ostream>

#include "agent/audit/audit_repository.h"
#include "agent/audit/audit_writer.h"
#include "agent/audit/trail.h"
#include "agent/cli/cli.h"

namespace keelson::cli {

namespace {

using audit::AuditRepository;
using audit::TrailEntry;

constexpr std::string_view kBranchPrefix = "keelson/audit/";

struct AuditFlags {
  std::string repo = ".";
  std::string env;
  std::string branch;
  std::string since;
  std::string allowed_signers;
  std::string seq;
  std::vector<std::string> positional;
};

// Parses "--flag VALUE" and "--flag=VALUE" for the flags in `accepted`.
std::optional<std::string> ParseFlags(const std::vector<std::string>& args, std::size_t start,
                                      const std::vector<std::string_view>& accepted, AuditFlags* flags) {
  for (std::size_t i = start; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      flags->positional.push_back(a);
      continue;
    }
    std::string name = a.substr(0, a.find('='));
    if (std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
      return "unknown flag \"" + name + "\"";
    }
    std::string value;
    if (a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return name + " needs a value";
    }
    if (name == "--repo")
      flags->repo = value;
    else if (name == "--env")
      flags->env = value;
    else if (name == "--branch")
      flags->branch = value;
    else if (name == "--since")
      flags->since = value;
    else if (name == "--allowed-signers")
      flags->allowed_signers = value;
    else if (name == "--seq")
      flags->seq = value;
  }
  if (!flags->env.empty() && !flags->branch.empty()) return "give --env or --branch, not both";
  return std::nullopt;
}

// The branches a command looks at: --branch, the --env's branch, or every
// keelson/audit/* branch.
Result<std::vector<std::string>> SelectBranches(const AuditRepository& repo, const AuditFlags& flags) {
  if (!flags.branch.empty()) return std::vector<std::string>{flags.branch};
  if (!flags.env.empty()) return std::vector<std::string>{audit::DefaultAuditBranch(flags.env)};
  Result<std::vector<std::string>> all = repo.Branches(kBranchPrefix);
  if (!all.ok()) return std::move(all).error();
  if (all->empty()) {
    return MakeError(
        ErrorCode::kNotFound,
        "no keelson/audit/* branches in " + flags.repo +
            "; fetch them first (git fetch origin 'refs/heads/keelson/audit/*:refs/heads/keelson/audit/*')");
  }
  return all;
}

// "--since": RFC 3339, a date (YYYY-MM-DD, midnight UTC), or an age such as
// 30m, 12h, 7d.
Result<std::chrono::system_clock::time_point> ParseSince(const std::string& text,
                                                         std::chrono::system_clock::time_point now) {
  if (text.size() >= 2 && std::all_of(text.begin(), text.end() - 1, [](char c) { return c >= '0' && c <= '9'; }) &&
      text.size() <= 10) {
    long long n = std::stoll(text.substr(0, text.size() - 1));
    switch (text.back()) {
      case 's':
        return now - std::chrono::seconds(n);
      case 'm':
        return now - std::chrono::minutes(n);
      case 'h':
        return now - std::chrono::hours(n);
      case 'd':
        return now - std::chrono::hours(24 * n);
      default:
        break;
    }
  }
  if (text.size() == 10) return audit::ParseTime(text + "T00:00:00Z");
  return audit::ParseTime(text);
}

std::string RevisionOf(const audit::Record& r) {
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, audit::ReconcileStarted> || std::is_same_v<T, audit::ReconcileFinished>) {
          return b.revision.substr(0, 12);
        } else if constexpr (std::is_same_v<T, audit::Rollback>) {
          return b.to_revision.substr(0, 12);
        } else {
          return "-";
        }
      },
      r.body);
}

int Fail(const Invocation& inv, const Error& e, int code) {
  inv.err << "keelson: error: " << e.ToString() << "\n";
  return code;
}

int ExitFor(const Error& e) { return e.code == ErrorCode::kCheckFailed ? kExitCheckFailed : kExitUsage; }

int RunLog(const Invocation& inv, const AuditFlags& flags) {
  if (!flags.positional.empty()) return UsageError(inv, "audit log takes no arguments; see `keelson help audit`");
  std::optional<std::chrono::system_clock::time_point> since;
  if (!flags.since.empty()) {
    Result<std::chrono::system_clock::time_point> t = ParseSince(flags.since, std::chrono::system_clock::now());
    if (!t.ok()) return UsageError(inv, "--since: " + t.error().message + " (or a date, or an age like 12h or 7d)");
    since = *t;
  }
  Result<AuditRepository> repo = AuditRepository::Open(flags.repo);
  if (!repo.ok()) return Fail(inv, repo.error(), kExitUsage);
  Result<std::vector<std::string>> branches = SelectBranches(*repo, flags);
  if (!branches.ok()) return Fail(inv, branches.error(), kExitUsage);

  struct Row {
    std::chrono::system_clock::time_point time;
    TrailEntry entry;
  };
  std::vector<Row> rows;
  std::vector<std::string> unreadable;
  for (const std::string& branch : *branches) {
    Result<std::vector<std::string>> commits = audit::BranchCommits(*repo, branch);
    if (!commits.ok()) return Fail(inv, commits.error(), kExitUsage);
    for (const std::string& commit : *commits) {
      // Show what can be read; a commit that is not a record is listed so
      // the reader sees where the trail was disturbed.
      Result<TrailEntry> e = audit::ReadEntry(*repo, commit);
      if (!e.ok()) {
        unreadable.push_back(branch + " " + commit.substr(0, 12) + ": " + e.error().ToString());
        continue;
      }
      Result<std::chrono::system_clock::time_point> t = audit::ParseTime(e->record.time);
      if (!t.ok()) continue;  // validated on read; cannot happen
      if (since && *t < *since) continue;
      rows.push_back({*t, std::move(*e)});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.entry.record.environment != b.entry.record.environment) {
      return a.entry.record.environment < b.entry.record.environment;
    }
    return a.entry.record.seq < b.entry.record.seq;
  });

  std::vector<std::vector<std::string>> table = {{"TIME", "ENV", "SEQ", "KIND", "REVISION", "COMMIT", "SUMMARY"}};
  for (const Row& row : rows) {
    const audit::Record& r = row.entry.record;
    std::string summary = audit::Summary(r);
    std::string prefix = r.environment + ": ";
    if (summary.starts_with(prefix)) summary = summary.substr(prefix.size());
    table.push_back({r.time, r.environment, std::to_string(r.seq), std::string(r.kind()), RevisionOf(r),
                     row.entry.commit.substr(0, 12), summary});
  }
  std::vector<std::size_t> widths(table[0].size(), 0);
  for (const auto& line : table) {
    for (std::size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], line[c].size());
  }
  for (const auto& line : table) {
    std::string out;
    for (std::size_t c = 0; c < line.size(); ++c) {
      out += line[c];
      if (c + 1 < line.size()) out += std::string(widths[c] - line[c].size() + 2, ' ');
    }
    inv.out << out << "\n";
  }
  for (const std::string& u : unreadable) {
    inv.err << "keelson: warning: not an audit record: " << u << "\n";
  }
  if (!unreadable.empty()) inv.err << "keelson: run `keelson audit verify` to check the trail\n";
  return kExitOk;
}

int RunShow(const Invocation& inv, const AuditFlags& flags) {
  Result<AuditRepository> repo = AuditRepository::Open(flags.repo);
  if (!repo.ok()) return Fail(inv, repo.error(), kExitUsage);
  std::string commit;
  if (!flags.seq.empty()) {
    if (!flags.positional.empty() || (flags.env.empty() && flags.branch.empty())) {
      return UsageError(inv, "audit show --seq N needs --env or --branch and no REV");
    }
    std::string branch = flags.branch.empty() ? audit::DefaultAuditBranch(flags.env) : flags.branch;
    Result<std::vector<TrailEntry>> entries = audit::ReadTrail(*repo, branch);
    if (!entries.ok()) return Fail(inv, entries.error(), ExitFor(entries.error()));
    for (const TrailEntry& e : *entries) {
      if (std::to_string(e.record.seq) == flags.seq) commit = e.commit;
    }
    if (commit.empty())
      return Fail(inv, MakeError(ErrorCode::kNotFound, "no record seq " + flags.seq + " on " + branch), kExitUsage);
  } else {
    if (flags.positional.size() != 1) return UsageError(inv, "audit show needs one REV; see `keelson help audit`");
    Result<std::string> resolved = repo->ResolveCommit(flags.positional[0]);
    if (!resolved.ok()) return Fail(inv, resolved.error(), kExitUsage);
    commit = *resolved;
  }
  Result<TrailEntry> entry = audit::ReadEntry(*repo, commit);
  if (!entry.ok()) {
    Error e = std::move(entry).error();
    e.message = "commit " + commit.substr(0, 12) + " is not a valid audit record: " + e.message;
    return Fail(inv, e, ExitFor(e));
  }
  Result<audit::RepoCommit> c = repo->ReadCommit(commit);
  if (!c.ok()) return Fail(inv, c.error(), kExitUsage);
  inv.out << "commit    " << commit << "\n";
  int code = kExitOk;
  if (c->signature.empty()) {
    inv.out << "signature none\n";
  } else if (!flags.allowed_signers.empty()) {
    Result<trust::AllowedSigners> allowed = trust::AllowedSigners::Load(flags.allowed_signers);
    if (!allowed.ok()) return Fail(inv, allowed.error(), kExitUsage);
    Result<audit::VerifiedSignature> v = audit::VerifyCommitSignature(*c, *allowed);
    if (v.ok()) {
      inv.out << "signature good, by " << v->principals << " (" << v->fingerprint << ")\n";
    } else {
      inv.out << "signature BAD: " << v.error().message << "\n";
      code = kExitCheckFailed;
    }
  } else {
    inv.out << "signature by " << (entry->signer.empty() ? "an unreadable key" : entry->signer)
            << " (not checked; pass --allowed-signers or run keelson audit verify)\n";
  }
  inv.out << "summary   " << audit::Summary(entry->record) << "\n\n" << audit::PrettyJson(entry->record);
  return code;
}

int RunVerify(const Invocation& inv, const AuditFlags& flags) {
  if (!flags.positional.empty()) return UsageError(inv, "audit verify takes no arguments; see `keelson help audit`");
  if (flags.allowed_signers.empty()) return UsageError(inv, "audit verify needs --allowed-signers FILE");
  Result<trust::AllowedSigners> allowed = trust::AllowedSigners::Load(flags.allowed_signers);
  if (!allowed.ok()) return Fail(inv, allowed.error(), kExitUsage);
  Result<AuditRepository> repo = AuditRepository::Open(flags.repo);
  if (!repo.ok()) return Fail(inv, repo.error(), kExitUsage);
  Result<std::vector<std::string>> branches = SelectBranches(*repo, flags);
  if (!branches.ok()) return Fail(inv, branches.error(), kExitUsage);
  int code = kExitOk;
  for (const std::string& branch : *branches) {
    Result<audit::TrailReport> report = audit::VerifyTrail(*repo, branch, *allowed);
    if (!report.ok()) return Fail(inv, report.error(), kExitUsage);
    if (!report->intact()) {
      inv.out << branch << ": FAILED after " << report->entries.size() << " good records\n";
      inv.err << "keelson: audit verify: " << branch << ": " << report->problem->ToString() << "\n";
      code = kExitCheckFailed;
      continue;
    }
    std::map<std::string, std::size_t> signers;
    for (const TrailEntry& e : report->entries) ++signers[e.signer];
    std::string by;
    for (const auto& [name, count] : signers) by += (by.empty() ? "" : ", ") + name;
    inv.out << branch << ": " << report->entries.size() << " records intact (seq 1-" << report->entries.size()
            << "), signed by " << by << "\n";
  }
  return code;
}

}  // namespace

int RunAudit(const Invocation& inv) {
  if (inv.args.empty()) return UsageError(inv, "audit needs a subcommand: log, show or verify");
  const std::string& sub = inv.args[0];
  AuditFlags flags;
  std::optional<std::string> problem;
  if (sub == "log") {
    problem = ParseFlags(inv.args, 1, {"--repo", "--env", "--branch", "--since"}, &flags);
    if (!problem) return RunLog(inv, flags);
  } else if (sub == "show") {
    problem = ParseFlags(inv.args, 1, {"--repo", "--env", "--branch", "--seq", "--allowed-signers"}, &flags);
    if (!problem) return RunShow(inv, flags);
  } else if (sub == "verify") {
    problem = ParseFlags(inv.args, 1, {"--repo", "--env", "--branch", "--allowed-signers"}, &flags);
    if (!problem) return RunVerify(inv, flags);
  } else {
    return UsageError(inv, "unknown audit subcommand \"" + sub + "\"; use log, show or verify");
  }
  return UsageError(inv, "audit " + sub + ": " + *problem);
}

}  // namespace keelson::cli
