// Policies and change gates in the agent: builds the reconcile::UnitGate
// that checks each unit's rendered objects against the declared policies
// and the change against the declared gates (windows, overrides,
// approvals), and keeps every decision so the agent can report it and
// retry a denied revision when its gate can clear.
//
// Used by the main loop only; a PolicyGateRun is written by the gate (which
// the reconciler may call from several worker threads at once) and read
// after Reconcile returns, so it guards its state with a mutex.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/audit/record.h"
#include "agent/config/environment.h"
#include "agent/reconcile/environment_reconciler.h"
#include "policies/engine/decision.h"
#include "policies/engine/gates.h"
#include "policies/engine/locks.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/result.h"

namespace keelson::daemon {

// How long to wait before retrying a denial that clears on an event the
// agent does not observe (a lock released elsewhere, a promotion recorded
// upstream, a transient read error).
inline constexpr std::chrono::seconds kGateEventRetry{30};

class PolicyGateRun {
 public:
  void Put(const std::string& unit, policy::Decision decision);
  // Every decision so far, by unit.
  std::map<std::string, policy::Decision> Decisions() const;
  // When a pass should run again because a denied unit may pass by then
  // without a new commit: the earliest such moment over denied units, or
  // nullopt when every denial needs a new commit (or nothing was denied).
  std::optional<std::chrono::system_clock::time_point> RetryAt() const;

  // The gates' concurrency rule, when they declare one (set while the gate
  // is built).
  void SetConcurrency(std::optional<policy::ConcurrencyRule> rule);
  std::optional<policy::ConcurrencyRule> Concurrency() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, policy::Decision> decisions_;
  std::optional<policy::ConcurrencyRule> concurrency_;
};

// The reconciler's hold for a concurrency rule: a unit waits (polling every
// `poll`) until a rollout slot and every lock it names are free, logging
// once what it waits for. `keep_waiting` returning false ends the wait
// (shutdown) with no hold.
reconcile::UnitHold MakeRolloutHold(const policy::ConcurrencyRule& rule, std::function<bool()> keep_waiting,
                                    std::chrono::milliseconds poll = std::chrono::milliseconds(100));

// The commits of the range with their verified signers, commit trailers
// and changed paths, as the gates read them. `verdicts` are the trust
// layer's per-commit results (only "trusted" commits carry a signer);
// trailers and paths are read from the mirror at `repository_path`.
// Reading is capped (1,000 commits, 10,000 paths); errors are returned.
struct ChangeContext {
  std::vector<policy::CommitInfo> commits;
  std::vector<std::string> changed_paths;
};
Result<ChangeContext> ReadChangeContext(const std::string& repository_path,
                                        const std::vector<audit::CommitVerdict>& verdicts);

// The change last read, so a retry of the same revision (whose range of
// new commits is then empty, the range having been trusted already) is
// gated against the commits that brought it. In memory only.
struct ChangeMemo {
  std::string revision;
  ChangeContext change;
};
// ReadChangeContext, or the memo's change when `verdicts` is empty and the
// memo is for `revision`; updates the memo.
Result<ChangeContext> ChangeContextFor(const std::string& repository_path,
                                       const std::vector<audit::CommitVerdict>& verdicts,
                                       const std::string& revision, ChangeMemo* memo);

// The trailers of a commit message ("Key: value" lines of its last
// paragraph), in order.
std::vector<policy::Trailer> ParseTrailers(std::string_view message);

struct PolicyGateInput {
  const config::EnvironmentSpec* environment = nullptr;  // must outlive the gate
  const manifest::FileSystem* snapshot = nullptr;        // the declaration's source; read here only
  std::string environment_name;
  std::string revision;
  ChangeContext change;
  std::shared_ptr<const policy::Clock> clock;  // SystemClock when null
  // Answers promotion rules (spec.promotion and the gates' promotions);
  // null: such rules deny with a message saying the history is missing.
  std::shared_ptr<const policy::HealthHistory> health_history;
};

// The gate for one pass. Loads the built-in library (unless
// spec.policies.builtin is false) and the declared policy directories from
// the snapshot, and the gate configuration (inline or from its file), so a
// broken policy or gate file fails here with its file, line and field and
// nothing is applied. Returns an empty UnitGate (allow everything) when the
// declaration has neither spec.policies nor spec.gates. Each call of the
// gate records its Decision in `run` and logs warnings and denials.
Result<reconcile::UnitGate> BuildPolicyGate(const PolicyGateInput& input, std::shared_ptr<PolicyGateRun> run);

// The decisions of one unit as audit records (messages start with the
// unit's name): every warn and deny reason, or one allow entry (policy
// "all") when the unit passed cleanly. Nothing when the unit was not gated.
void AppendPolicyDecisions(const PolicyGateRun& run, const std::string& unit,
                           std::vector<audit::PolicyDecision>* out);

}  // namespace keelson::daemon
