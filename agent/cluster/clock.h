// Time and waiting for the agent's cluster side: the client's retries and
// rate limits, the reconciler's health waits. Behind an interface so that
// tests run them without sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace keelson::cluster {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point Now() = 0;
  // Waits for `duration`; false when woken for shutdown, true when the time
  // passed.
  virtual bool SleepFor(std::chrono::nanoseconds duration) = 0;
  // Ends every current and future SleepFor early. Thread-safe.
  virtual void Wake() = 0;
};

// The real clock: std::chrono::steady_clock and condition-variable waits.
// Thread-safe.
class SteadyClock final : public Clock {
 public:
  time_point Now() override { return std::chrono::steady_clock::now(); }
  bool SleepFor(std::chrono::nanoseconds duration) override;
  void Wake() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace keelson::cluster
