#include "agent/cluster/transport.h"

#include <strings.h>

namespace keelson::cluster {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return {};
}

bool SteadyClock::SleepFor(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, duration, [this] { return interrupted_; });
  return !interrupted_;
}

void SteadyClock::Interrupt() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

}  // namespace keelson::cluster
