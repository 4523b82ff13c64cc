#include "policies/engine/locks.h"

#include <algorithm>
#include <utility>

namespace keelson::policy {

RolloutLease::RolloutLease(RolloutLease&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)), unit_(std::move(other.unit_)) {}

RolloutLease& RolloutLease::operator=(RolloutLease&& other) noexcept {
  if (this != &other) {
    Release();
    table_ = std::exchange(other.table_, nullptr);
    unit_ = std::move(other.unit_);
  }
  return *this;
}

RolloutLease::~RolloutLease() { Release(); }

void RolloutLease::Release() {
  if (table_ != nullptr) std::exchange(table_, nullptr)->Release(unit_);
}

RolloutLocks::RolloutLocks(std::size_t max_concurrent) : max_concurrent_(max_concurrent) {}

RolloutLocks::Attempt RolloutLocks::TryAcquire(const std::string& unit, std::vector<std::string> locks) {
  std::sort(locks.begin(), locks.end());
  locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
  Attempt out;
  out.reason.gate = "concurrency";
  out.reason.name = unit;
  std::lock_guard<std::mutex> guard(mu_);
  if (active_.count(unit) != 0) {
    out.reason.verdict = Verdict::kDeny;
    out.reason.retry = RetryWhen::kLockReleased;
    out.reason.message = "unit " + unit + " is already rolling out";
    return out;
  }
  std::vector<std::string> busy;
  for (const std::string& l : locks) {
    auto it = lock_owner_.find(l);
    if (it != lock_owner_.end()) busy.push_back("lock " + l + " is held by unit " + it->second);
  }
  if (max_concurrent_ != 0 && active_.size() >= max_concurrent_) {
    std::string units;
    for (const auto& [u, held] : active_) units += (units.empty() ? "" : ", ") + u;
    busy.insert(busy.begin(), std::to_string(active_.size()) + " units are rolling out (" + units + "), the limit is " +
                                  std::to_string(max_concurrent_));
  }
  if (!busy.empty()) {
    out.reason.verdict = Verdict::kDeny;
    out.reason.retry = RetryWhen::kLockReleased;
    for (const std::string& b : busy) out.reason.message += (out.reason.message.empty() ? "" : "; ") + b;
    return out;
  }
  for (const std::string& l : locks) lock_owner_[l] = unit;
  active_[unit] = locks;
  out.acquired = true;
  out.lease.table_ = this;
  out.lease.unit_ = unit;
  out.reason.verdict = Verdict::kAllow;
  out.reason.message = locks.empty() ? "rollout slot taken" : "rollout slot and locks taken";
  return out;
}

void RolloutLocks::Release(const std::string& unit) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = active_.find(unit);
  if (it == active_.end()) return;
  for (const std::string& l : it->second) lock_owner_.erase(l);
  active_.erase(it);
}

std::vector<RolloutLocks::Holding> RolloutLocks::Snapshot() const {
  std::lock_guard<std::mutex> guard(mu_);
  std::vector<Holding> out;
  for (const auto& [unit, locks] : active_) out.push_back({unit, locks});
  return out;
}

}  // namespace keelson::policy
