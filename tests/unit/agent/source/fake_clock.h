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
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop) override {
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

}  // namespace keelson::source
