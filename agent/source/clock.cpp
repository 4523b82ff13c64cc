#include "agent/source/clock.h"

namespace keelson::source {

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    ++generation_;
  }
  cv_.notify_all();
}

bool StopSignal::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

void StopSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

unsigned long StopSignal::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

bool StopSignal::WaitUntil(std::chrono::steady_clock::time_point deadline, unsigned long seen) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return stopped_ || generation_ != seen; });
  return !stopped_ && generation_ == seen && std::chrono::steady_clock::now() >= deadline;
}

bool SteadyClock::SleepUntil(std::chrono::steady_clock::time_point deadline, const StopSignal& stop,
                             unsigned long seen) {
  return stop.WaitUntil(deadline, seen);
}

SteadyClock& SteadyClock::Instance() {
  static SteadyClock clock;
  return clock;
}

}  // namespace keelson::source
