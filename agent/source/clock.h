// Time for the source services, behind an interface so that tests can run
// retries and polling schedules without waiting.
//
// StopSignal is how a service is told to stop: waits on it return early
// once Stop() is called. Both classes are safe for concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace keelson::source {

class StopSignal {
 public:
  void Stop();
  bool stopped() const;
  // Waits until `deadline`, Stop() or a Notify() after generation `seen`
  // (take it with generation() before checking what you wait for, so that
  // no notification is missed); true when the deadline came first.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline, unsigned long seen) const;
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) const { return WaitUntil(deadline, generation()); }
  unsigned long generation() const;
  // Wakes waiters without stopping (they re-check their conditions).
  void Notify();

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
  unsigned long generation_ = 0;
  friend class SteadyClock;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Sleeps until `deadline` unless `stop` is stopped, or notified after
  // generation `seen`, first; true when the deadline was reached.
  virtual bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop,
                          unsigned long seen) = 0;
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop) {
    return SleepUntil(deadline, stop, stop.generation());
  }
};

// The real clock: std::chrono::steady_clock and condition-variable waits.
class SteadyClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override { return std::chrono::steady_clock::now(); }
  using Clock::SleepUntil;
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop,
                  unsigned long seen) override;
  static SteadyClock& Instance();
};

}  // namespace keelson::source
