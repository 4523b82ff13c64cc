#include "agent/cluster/clock.h"

namespace keelson::cluster {

bool SteadyClock::SleepFor(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, duration, [this] { return woken_; });
  return !woken_;
}

void SteadyClock::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

}  // namespace keelson::cluster
