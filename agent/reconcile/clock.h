// Time for the reconcile layer, behind an interface so tests run health
// timeouts and polling without waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace keelson::reconcile {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point Now() = 0;
  // Sleeps for `d` or until Wake() is called; returns false when woken
  // (shutdown), true when the time passed.
  virtual bool SleepFor(std::chrono::milliseconds d) = 0;
  // Ends every current and future SleepFor early. Thread-safe.
  virtual void Wake() = 0;
};

class RealClock final : public Clock {
 public:
  time_point Now() override { return std::chrono::steady_clock::now(); }
  bool SleepFor(std::chrono::milliseconds d) override {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [&] { return woken_; });
  }
  void Wake() override {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// Time moves only when someone sleeps: SleepFor advances Now() by the
// duration and returns at once. Thread-safe.
class FakeClock final : public Clock {
 public:
  time_point Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool SleepFor(std::chrono::milliseconds d) override {
    std::lock_guard lock(mu_);
    if (woken_) return false;
    now_ += d;
    slept_ += d;
    return true;
  }
  void Wake() override {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  std::chrono::milliseconds slept() {
    std::lock_guard lock(mu_);
    return slept_;
  }

 private:
  std::mutex mu_;
  time_point now_{};
  std::chrono::milliseconds slept_{0};
  bool woken_ = false;
};

}  // namespace keelson::reconcile
