// The outcome of every gate a revision passes before it is applied.
//
// allow: apply. warn: apply and report every reason. deny: apply nothing of
// the unit (the cluster keeps its last good state) and report every reason.
// A denied revision may pass later without a new commit when every denying
// reason can change by itself (a window opens, a lock is released, the
// revision turns healthy upstream); the agent then retries it at retry_at()
// or on the event, instead of waiting for a new commit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keelson::policy {

enum class Verdict { kAllow, kWarn, kDeny };
std::string_view VerdictName(Verdict verdict);

// What can turn a denying reason into a pass without a new commit.
enum class RetryWhen {
  kNever,         // needs a new commit (a policy violation, missing approvals)
  kAtTime,        // at retry_at (a change window opens or a freeze ends)
  kLockReleased,  // when another unit's rollout releases a lock or slot
  kPromoted,      // when the revision is recorded healthy upstream
  kAgain,         // a transient failure (e.g. the audit trail was unreadable)
};

struct Reason {
  std::string gate;     // "policy", "window", "approval", "concurrency", "promotion"
  std::string name;     // the policy, window or rule
  Verdict verdict = Verdict::kAllow;
  std::string message;
  RetryWhen retry = RetryWhen::kNever;
  std::optional<std::int64_t> retry_at;  // Unix seconds, with kAtTime
};

struct Decision {
  Verdict verdict = Verdict::kAllow;
  std::vector<Reason> reasons;  // every reason, allow reasons included

  // Adds a reason and raises the verdict to it.
  void Add(Reason reason);
  void Merge(const Decision& other);

  // For a deny: true when no denying reason needs a new commit.
  bool may_pass_later() const;
  // For a deny that may pass later: the latest retry_at of the time-bound
  // denying reasons (the first moment all of them can have cleared), if any.
  std::optional<std::int64_t> retry_at() const;
  // One line per reason: "deny window/freeze: ...".
  std::string Summary() const;
};

}  // namespace keelson::policy
