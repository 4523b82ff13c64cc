#include "agent/daemon/policy_gate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <thread>

#include "agent/source/git_repository.h"
#include "policies/engine/evaluate.h"
#include "policies/library/builtin.h"
#include "renderers/manifest/yaml.h"

namespace keelson::daemon {

namespace {

constexpr std::size_t kMaxCommits = 1000;
constexpr std::size_t kMaxPaths = 10000;

bool TrailerKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string Rfc3339Utc(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace

void PolicyGateRun::Put(const std::string& unit, policy::Decision decision) {
  std::lock_guard lock(mu_);
  decisions_[unit] = std::move(decision);
}

std::map<std::string, policy::Decision> PolicyGateRun::Decisions() const {
  std::lock_guard lock(mu_);
  return decisions_;
}

void PolicyGateRun::SetConcurrency(std::optional<policy::ConcurrencyRule> rule) {
  std::lock_guard lock(mu_);
  concurrency_ = std::move(rule);
}

std::optional<policy::ConcurrencyRule> PolicyGateRun::Concurrency() const {
  std::lock_guard lock(mu_);
  return concurrency_;
}

reconcile::UnitHold MakeRolloutHold(const policy::ConcurrencyRule& rule, std::function<bool()> keep_waiting,
                                    std::chrono::milliseconds poll) {
  // What a granted unit holds: the lease, and the table it came from (the
  // table must outlive its leases; the lease is destroyed first).
  struct Held {
    std::shared_ptr<policy::RolloutLocks> table;
    policy::RolloutLease lease;
  };
  auto table = std::make_shared<policy::RolloutLocks>(rule.max_units);
  return [table, rule, keep_waiting = std::move(keep_waiting), poll](const config::UnitSpec& unit) -> std::shared_ptr<void> {
    std::vector<std::string> locks = policy::LocksFor(rule, unit.name);
    bool announced = false;
    while (true) {
      policy::RolloutLocks::Attempt attempt = table->TryAcquire(unit.name, locks);
      if (attempt.acquired) {
        if (announced) spdlog::info("unit {}: rollout slot and locks granted", unit.name);
        auto held = std::make_shared<Held>();
        held->table = table;
        held->lease = std::move(attempt.lease);
        return held;
      }
      if (!announced) {
        spdlog::info("unit {}: waiting to roll out: {}", unit.name, attempt.reason.message);
        announced = true;
      }
      if (!keep_waiting()) return nullptr;
      std::this_thread::sleep_for(poll);
    }
  };
}

std::optional<std::chrono::system_clock::time_point> PolicyGateRun::RetryAt() const {
  std::lock_guard lock(mu_);
  std::optional<std::chrono::system_clock::time_point> earliest;
  auto now = std::chrono::system_clock::now();
  for (const auto& [unit, d] : decisions_) {
    if (d.verdict != policy::Verdict::kDeny || !d.may_pass_later()) continue;
    std::chrono::system_clock::time_point at = now + kGateEventRetry;
    if (std::optional<std::int64_t> when = d.retry_at()) {
      // Only time-bound reasons deny: retry at the moment they all cleared.
      bool only_time = std::all_of(d.reasons.begin(), d.reasons.end(), [](const policy::Reason& r) {
        return r.verdict != policy::Verdict::kDeny || r.retry == policy::RetryWhen::kAtTime;
      });
      auto moment = std::chrono::system_clock::time_point(std::chrono::seconds(*when));
      at = only_time ? moment : std::min(moment, at);
    }
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

std::vector<policy::Trailer> ParseTrailers(std::string_view message) {
  // The last paragraph, when every non-empty line of it is "Key: value".
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::size_t start = message.rfind("\n\n");
  std::string_view paragraph = start == std::string_view::npos ? std::string_view() : message.substr(start + 2);
  std::vector<policy::Trailer> out;
  while (!paragraph.empty()) {
    std::size_t eol = paragraph.find('\n');
    std::string_view line = paragraph.substr(0, eol);
    paragraph = eol == std::string_view::npos ? std::string_view() : paragraph.substr(eol + 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !TrailerKey(line.substr(0, colon))) return {};
    out.push_back(policy::Trailer{std::string(line.substr(0, colon)), std::string(TrimView(line.substr(colon + 1)))});
  }
  return out;
}

Result<ChangeContext> ReadChangeContext(const std::string& repository_path,
                                        const std::vector<audit::CommitVerdict>& verdicts) {
  ChangeContext out;
  if (verdicts.empty()) return out;
  Result<source::GitRepository> repo = source::GitRepository::Open(repository_path);
  if (!repo.ok()) return std::move(repo).error();
  std::set<std::string> paths;
  std::size_t first = verdicts.size() > kMaxCommits ? verdicts.size() - kMaxCommits : 0;
  for (std::size_t i = first; i < verdicts.size(); ++i) {
    const audit::CommitVerdict& v = verdicts[i];
    policy::CommitInfo info;
    info.id = v.id;
    if (v.verdict == "trusted") info.signer = v.signer;
    Result<source::RawObject> raw = repo->ReadRawObject(v.id);
    if (!raw.ok()) return std::move(raw).error();
    std::size_t body = raw->data.find("\n\n");
    if (body != std::string::npos) info.trailers = ParseTrailers(std::string_view(raw->data).substr(body + 2));
    Result<std::vector<std::string>> changed = repo->ChangedPaths(v.id);
    if (!changed.ok()) return std::move(changed).error();
    for (std::string& p : *changed) {
      if (paths.size() >= kMaxPaths) break;
      paths.insert(std::move(p));
    }
    out.commits.push_back(std::move(info));
  }
  out.changed_paths.assign(paths.begin(), paths.end());
  return out;
}

Result<ChangeContext> ChangeContextFor(const std::string& repository_path,
                                       const std::vector<audit::CommitVerdict>& verdicts,
                                       const std::string& revision, ChangeMemo* memo) {
  if (verdicts.empty() && memo->revision == revision) return memo->change;
  Result<ChangeContext> change = ReadChangeContext(repository_path, verdicts);
  if (!change.ok()) return change;
  memo->revision = revision;
  memo->change = *change;
  return change;
}

Result<reconcile::UnitGate> BuildPolicyGate(const PolicyGateInput& input, std::shared_ptr<PolicyGateRun> run) {
  const config::EnvironmentSpec& env = *input.environment;
  if (!env.gated()) return reconcile::UnitGate();
  auto policies = std::make_shared<policy::PolicySet>();
  if (env.policies) {
    if (env.policies->builtin) {
      if (Status s = policy::AddBuiltinPolicies(*policies); !s) return std::move(s).error();
    }
    for (const std::string& dir : env.policies->directories) {
      if (input.snapshot->Type(dir) != manifest::FileType::kDirectory) {
        return MakeError(ErrorCode::kNotFound, "policy directory \"" + dir + "\" is not in the revision",
                         Location{env.file, 0, 0, "spec.policies.directories"});
      }
      if (Status s = policies->AddDirectory(*input.snapshot, dir); !s) return std::move(s).error();
    }
  }
  std::optional<policy::GateConfig> gates = env.gates;
  if (!env.gates_file.empty()) {
    Result<std::string> text = input.snapshot->ReadFile(env.gates_file);
    if (!text.ok()) {
      Error e = text.error();
      return e.InFile(env.gates_file);
    }
    manifest::ParseOptions options;
    options.file = env.gates_file;
    Result<manifest::Node> doc = manifest::ParseYaml(*text, options);
    if (!doc.ok()) return std::move(doc).error();
    policy::ZoneDatabase zones;
    Result<policy::GateConfig> parsed = policy::ParseGateConfig(*doc, env.gates_file, zones);
    if (!parsed.ok()) return std::move(parsed).error();
    gates = std::move(parsed).value();
  }
  std::shared_ptr<const policy::Clock> clock =
      input.clock ? input.clock : std::make_shared<const policy::SystemClock>();
  run->SetConcurrency(gates ? gates->concurrency : std::nullopt);
  if (!env.promote_after.empty()) {
    // spec.promotion.after is a promotion rule for every unit of this
    // environment.
    if (!gates) gates.emplace();
    gates->promotions.push_back(policy::PromotionRule{"spec.promotion", {}, {}, env.promote_after});
  }
  std::shared_ptr<const policy::GateEvaluator> evaluator;
  std::shared_ptr<const policy::HealthHistory> history = input.health_history;
  if (gates) evaluator = std::make_shared<const policy::GateEvaluator>(std::move(*gates), *clock, history.get());
  bool check_objects = env.policies.has_value();
  auto change = std::make_shared<const ChangeContext>(input.change);
  std::string environment_name = input.environment_name;
  std::string revision = input.revision;
  return reconcile::UnitGate([policies, evaluator, history, clock, check_objects, change, environment_name, revision,
                              run](const config::UnitSpec& unit, const manifest::ObjectList& objects) {
    (void)history;  // held for the evaluator, which borrows it
    policy::Decision decision;
    if (check_objects) {
      policy::CheckContext context;
      context.environment = environment_name;
      context.unit = unit.name;
      decision.Merge(policy::DecisionFor(policy::CheckObjects(*policies, objects, context)));
    }
    if (evaluator) {
      policy::ChangeRequest request;
      request.environment = environment_name;
      request.unit = unit.name;
      request.revision = revision;
      request.commits = change->commits;
      request.changed_paths = change->changed_paths;
      decision.Merge(evaluator->Evaluate(request));
    }
    reconcile::GateVerdict verdict;
    verdict.allow = decision.verdict != policy::Verdict::kDeny;
    for (const policy::Reason& r : decision.reasons) {
      if (r.verdict == policy::Verdict::kAllow) continue;
      std::string line = std::string(policy::VerdictName(r.verdict)) + " " + r.gate + "/" + r.name + ": " + r.message;
      if (r.verdict == policy::Verdict::kDeny) {
        spdlog::warn("unit {}: policy {}", unit.name, line);
      } else {
        spdlog::info("unit {}: policy {}", unit.name, line);
      }
      verdict.messages.push_back(std::move(line));
    }
    if (decision.verdict == policy::Verdict::kDeny) {
      if (std::optional<std::int64_t> at = decision.retry_at()) {
        spdlog::info("unit {}: denied until {}, retried then without a new commit", unit.name, Rfc3339Utc(*at));
      } else if (decision.may_pass_later()) {
        spdlog::info("unit {}: denied; retried when the gate can clear", unit.name);
      }
    }
    run->Put(unit.name, std::move(decision));
    return verdict;
  });
}

void AppendPolicyDecisions(const PolicyGateRun& run, const std::string& unit,
                           std::vector<audit::PolicyDecision>* out) {
  std::map<std::string, policy::Decision> decisions = run.Decisions();
  auto it = decisions.find(unit);
  if (it == decisions.end()) return;
  bool any = false;
  for (const policy::Reason& r : it->second.reasons) {
    if (r.verdict == policy::Verdict::kAllow) continue;
    out->push_back(audit::PolicyDecision{r.gate + "/" + r.name, "", std::string(policy::VerdictName(r.verdict)),
                                         unit + ": " + r.message});
    any = true;
  }
  if (!any) out->push_back(audit::PolicyDecision{"all", "", "allow", unit + ": every policy and gate passed"});
}

}  // namespace keelson::daemon
