// The agent's side of systemd's notify protocol (sd_notify(3)): READY,
// STATUS, STOPPING, the watchdog and reloads. The protocol is one datagram
// of newline-separated assignments to the unix socket named by
// NOTIFY_SOCKET (a path, or an abstract name after '@'), so it is spoken
// here directly rather than through libsystemd: every `keelson render` is a
// process, and libsystemd brought six more shared libraries to load into
// each. Without NOTIFY_SOCKET every message is dropped silently, so none of
// this changes how the agent runs outside systemd.
#pragma once

#include <chrono>
#include <mutex>
#include <string_view>

#include "agent/cluster/clock.h"

namespace keelson::daemon {

// The watchdog the service manager asked for with WATCHDOG_USEC (and
// WATCHDOG_PID when set), read once at construction. Pings are due every
// half of the timeout, as sd_watchdog_enabled(3) advises, so one late wake
// does not get the agent killed. Thread-safe.
class Watchdog {
 public:
  Watchdog();

  bool enabled() const { return enabled_; }
  // Half the timeout; an hour when no watchdog is configured.
  std::chrono::steady_clock::duration interval() const { return interval_; }
  // Sends WATCHDOG=1 now.
  void Ping();
  // Sends WATCHDOG=1 when the last ping is interval() old or older.
  void PingIfDue();
  // When the next ping is due (for loops that wait).
  std::chrono::steady_clock::time_point next_due() const;

 private:
  bool enabled_ = false;
  std::chrono::steady_clock::duration interval_;
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point last_ping_;
};

// The reconcile clock of the agent: a real clock that feeds the watchdog
// whenever the reconciler reads the time (at every wave's start and end) or
// sleeps (the health waits between polls, which can last minutes), so a
// pass that is making progress is not taken for a hung agent, while one
// stuck in between still is. The watchdog must outlive it. Thread-safe
// like SteadyClock.
class WatchdogClock final : public cluster::Clock {
 public:
  explicit WatchdogClock(Watchdog& watchdog) : watchdog_(watchdog) {}
  time_point Now() override;
  bool SleepFor(std::chrono::nanoseconds d) override;
  void Wake() override { real_.Wake(); }

 private:
  Watchdog& watchdog_;
  cluster::SteadyClock real_;
};

// Sends `state` (e.g. "READY=1\nSTATUS=...") to NOTIFY_SOCKET. Returns
// false when there is no socket to send to or the send failed; callers
// carry on either way, as with sd_notify.
bool Notify(std::string_view state);

// RELOADING=1 (with MONOTONIC_USEC, which systemd 253 and later require):
// the service is re-reading its configuration until the next READY=1.
void NotifyReloading();

}  // namespace keelson::daemon
