// A clock for tests: time moves only when someone sleeps (SleepFor advances
// Now() by the duration and returns at once) or the test advances it; every
// sleep is recorded. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "agent/cluster/clock.h"

namespace keelson::cluster::testing {

class FakeClock final : public Clock {
 public:
  time_point Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool SleepFor(std::chrono::nanoseconds duration) override {
    std::lock_guard lock(mu_);
    if (woken_) return false;
    sleeps_.push_back(duration);
    now_ += duration;
    return true;
  }
  void Wake() override {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  std::vector<std::chrono::nanoseconds> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  // All the time spent sleeping.
  std::chrono::nanoseconds slept() {
    std::lock_guard lock(mu_);
    std::chrono::nanoseconds total{0};
    for (std::chrono::nanoseconds s : sleeps_) total += s;
    return total;
  }

 private:
  std::mutex mu_;
  time_point now_{};
  std::vector<std::chrono::nanoseconds> sleeps_;
  bool woken_ = false;
};

}  // namespace keelson::cluster::testing
