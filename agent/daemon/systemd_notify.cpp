#include "agent/daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>

namespace keelson::daemon {

Watchdog::Watchdog() : interval_(std::chrono::hours(1)), last_ping_(std::chrono::steady_clock::now()) {
  std::uint64_t usec = 0;
  // 0 leaves the environment in place: a process that re-creates its agent
  // on SIGHUP reads it again.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    enabled_ = true;
    interval_ = std::chrono::microseconds(usec / 2);
  }
}

void Watchdog::Ping() {
  sd_notify(0, "WATCHDOG=1");
  std::lock_guard lock(mu_);
  last_ping_ = std::chrono::steady_clock::now();
}

void Watchdog::PingIfDue() {
  if (std::chrono::steady_clock::now() >= next_due()) Ping();
}

std::chrono::steady_clock::time_point Watchdog::next_due() const {
  std::lock_guard lock(mu_);
  return last_ping_ + interval_;
}

WatchdogClock::time_point WatchdogClock::Now() {
  if (watchdog_.enabled()) watchdog_.PingIfDue();
  return real_.Now();
}

bool WatchdogClock::SleepFor(std::chrono::milliseconds d) {
  if (!watchdog_.enabled()) return real_.SleepFor(d);
  auto end = real_.Now() + d;
  while (true) {
    watchdog_.PingIfDue();
    auto now = real_.Now();
    if (now >= end) return true;
    auto slice = std::min(end, watchdog_.next_due()) - now;
    // At least 1 ms, so a due time just passed cannot turn this into a spin.
    auto ms = std::max(std::chrono::milliseconds(1), std::chrono::ceil<std::chrono::milliseconds>(slice));
    if (!real_.SleepFor(ms)) return false;
  }
}

void NotifyReloading() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::uint64_t usec =
      static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, usec);
}

}  // namespace keelson::daemon
