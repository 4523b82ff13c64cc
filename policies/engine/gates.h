// Gates over a change rather than over objects: change windows and freezes,
// signed overrides, approvals and promotion. The concurrency gate lives in
// locks.h because it hands out a lease.
//
// Everything outside comes in as data or through narrow interfaces: the
// clock (Clock), the commits of the range with their verified signers and
// trailers (ChangeRequest; the trust layer fills it in), and the health
// history (HealthHistory; the audit layer implements it). GateEvaluator is
// immutable after construction and safe to use from several threads as long
// as its Clock and HealthHistory are.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/cron.h"
#include "policies/engine/decision.h"
#include "policies/engine/timezone.h"
#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::policy {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowUnixSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowUnixSeconds() const override;
};

// A clock tests set by hand. Not thread-safe to Set while others read.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now = 0) : now_(now) {}
  std::int64_t NowUnixSeconds() const override { return now_; }
  void Set(std::int64_t now) { now_ = now; }
  void Advance(std::int64_t seconds) { now_ += seconds; }

 private:
  std::int64_t now_;
};

// Whether a revision was recorded healthy in an environment (the audit
// trail answers). An error is reported as a retryable deny.
class HealthHistory {
 public:
  virtual ~HealthHistory() = default;
  virtual Result<bool> WasHealthy(std::string_view revision, std::string_view environment) const = 0;
};

struct Trailer {
  std::string key;    // "Approved-by", "Keelson-Override"; compared case-insensitively
  std::string value;
};

struct CommitInfo {
  std::string id;
  // The verified signer identity (as the trust layer names it, e.g. an
  // email address); empty when the commit is not signed by a trusted key.
  std::string signer;
  std::vector<Trailer> trailers;
};

struct ChangeRequest {
  std::string environment;
  std::string unit;
  std::string revision;
  std::vector<CommitInfo> commits;         // the range (last applied, revision], oldest first
  std::vector<std::string> changed_paths;  // files changed in the range, repository-relative
};

// An allow window (changes only inside it) or a deny window (a freeze).
// Opens at each firing of `schedule` in `zone` and stays open `duration`.
struct ChangeWindow {
  enum class Kind { kAllow, kDeny };
  std::string name;
  Kind kind = Kind::kAllow;
  CronSchedule schedule;
  std::int64_t duration_seconds = 3600;  // at most 31 days
  std::shared_ptr<const TimeZone> zone;
  std::vector<std::string> environments;  // globs; empty = every environment
  std::vector<std::string> units;         // globs; empty = every unit
};

// Who may override a window, and how: the newest commit of the range must
// carry the trailer (value = the reason) and be signed by one of `signers`.
struct OverrideRule {
  std::string trailer = "Keelson-Override";
  std::vector<std::string> signers;
};

// A change touching `paths` needs `required` distinct approvers: signers of
// commits in the range who are in `approvers`, plus people named in
// Approved-by trailers who are in `approvers`, counted only when the
// commit carrying the trailer is signed by that same person or by one of
// `attesters` (e.g. the merge bot that records reviews).
struct ApprovalRule {
  std::string name;
  std::vector<std::string> paths;         // globs; "**" crosses '/'; empty = any change
  std::vector<std::string> environments;  // globs; empty = every environment
  std::vector<std::string> units;
  int required = 2;
  std::vector<std::string> approvers;
  std::vector<std::string> attesters;
};

// A revision reaches `environments` only after it was healthy in `after`.
struct PromotionRule {
  std::string name;
  std::vector<std::string> environments;
  std::vector<std::string> units;
  std::string after;
};

// How many units may roll out at once, and named locks: the units a lock's
// globs match roll out one at a time (they share a database, say). Taken
// by the agent around each unit's apply (RolloutLocks, locks.h).
struct LockRule {
  std::string name;
  std::vector<std::string> units;  // globs over unit names
};
struct ConcurrencyRule {
  std::size_t max_units = 0;  // 0: no limit
  std::vector<LockRule> locks;
};
// The locks `unit` takes: every rule whose globs match it.
std::vector<std::string> LocksFor(const ConcurrencyRule& rule, std::string_view unit);

struct GateConfig {
  std::vector<ChangeWindow> windows;
  OverrideRule override_rule;
  std::vector<ApprovalRule> approvals;
  std::vector<PromotionRule> promotions;
  std::optional<ConcurrencyRule> concurrency;
  // How far ahead to look for the next window opening or freeze end.
  std::int64_t horizon_seconds = 400 * 86400;
};

// Reads a gate configuration from YAML (see docs/policies.md, "Gates").
// Errors name the file, line, column and field.
Result<GateConfig> ParseGateConfig(const manifest::Node& node, const std::string& file, ZoneDatabase& zones);

// Glob over '/'-separated paths: '*' and '?' stay within a segment, "**"
// matches any number of segments.
bool PathGlobMatch(std::string_view pattern, std::string_view path);

class GateEvaluator {
 public:
  // `history` may be null when no promotion rules are configured; a rule
  // without it denies (retryable) with a clear message.
  GateEvaluator(GateConfig config, const Clock& clock, const HealthHistory* history);

  // Windows (with overrides), approvals and promotion for one change.
  Decision Evaluate(const ChangeRequest& change) const;

  Decision EvaluateWindows(const ChangeRequest& change) const;
  Decision EvaluateApprovals(const ChangeRequest& change) const;
  Decision EvaluatePromotion(const ChangeRequest& change) const;

 private:
  GateConfig config_;
  const Clock& clock_;
  const HealthHistory* history_;
};

}  // namespace keelson::policy
