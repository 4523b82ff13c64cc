// A clock for tests: time moves only when someone sleeps, and every sleep
// is recorded.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "agent/source/clock.h"

namespace keelson::source {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  using Clock::SleepUntil;
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop, unsigned long) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop.stopped()) return false;
    if (deadline > now_) {
      sleeps_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now_));
      now_ = deadline;
    }
    return true;
  }
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
  std::vector<std::chrono::milliseconds> sleeps_;
};

// A clock that moves only when the test calls Advance(); sleepers block
// (really) until then, or until they are stopped or notified.
class ManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  using Clock::SleepUntil;
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop,
                  unsigned long seen) override {
    while (true) {
      if (Now() >= deadline) return true;
      if (stop.stopped() || stop.generation() != seen) return false;
      stop.WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(2), seen);
    }
  }
  void Advance(std::chrono::milliseconds by) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += by;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
};

}  // namespace keelson::source
