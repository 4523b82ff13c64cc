// Rollout concurrency: at most N units rolling out at once, and named locks
// that units sharing a resource (a database, a message queue) take so only
// one of them rolls out against it at a time.
//
// TryAcquire is all-or-nothing: a unit gets a concurrency slot and every
// lock it names, or nothing, so two units can never deadlock by each
// holding half. A lease releases everything when destroyed or on Release().
// The table is in-process (one agent per cluster) and thread-safe; it must
// outlive every lease it hands out.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "policies/engine/decision.h"

namespace keelson::policy {

class RolloutLocks;

class RolloutLease {
 public:
  RolloutLease() = default;
  RolloutLease(RolloutLease&& other) noexcept;
  RolloutLease& operator=(RolloutLease&& other) noexcept;
  RolloutLease(const RolloutLease&) = delete;
  RolloutLease& operator=(const RolloutLease&) = delete;
  ~RolloutLease();

  bool held() const { return table_ != nullptr; }
  const std::string& unit() const { return unit_; }
  void Release();

 private:
  friend class RolloutLocks;
  RolloutLocks* table_ = nullptr;
  std::string unit_;
};

class RolloutLocks {
 public:
  // max_concurrent: units that may roll out at once; 0 means no limit.
  explicit RolloutLocks(std::size_t max_concurrent = 0);

  struct Attempt {
    bool acquired = false;
    RolloutLease lease;   // held when acquired
    Reason reason;        // allow, or deny with RetryWhen::kLockReleased
  };
  // A unit that is already rolling out is refused (its lease must be
  // released first).
  Attempt TryAcquire(const std::string& unit, std::vector<std::string> locks);

  struct Holding {
    std::string unit;
    std::vector<std::string> locks;
  };
  std::vector<Holding> Snapshot() const;

 private:
  friend class RolloutLease;
  void Release(const std::string& unit);

  mutable std::mutex mu_;
  std::size_t max_concurrent_;
  std::map<std::string, std::vector<std::string>> active_;  // unit -> locks
  std::map<std::string, std::string> lock_owner_;           // lock -> unit
};

}  // namespace keelson::policy
