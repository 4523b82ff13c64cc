#include "agent/daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace keelson::daemon {

namespace {

// A decimal environment variable; false when unset or not a number.
bool EnvNumber(const char* name, std::uint64_t& out) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return false;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

bool Notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return false;
  std::string_view name(path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Paths must be absolute; '@' names an abstract socket (a leading NUL).
  if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/' ? 1 : 0));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

Watchdog::Watchdog() : interval_(std::chrono::hours(1)), last_ping_(std::chrono::steady_clock::now()) {
  // As sd_watchdog_enabled(3) reads it: WATCHDOG_USEC, and WATCHDOG_PID when
  // set must be this process. The environment stays in place, so a process
  // that re-creates its agent on SIGHUP reads it again.
  std::uint64_t usec = 0, pid = 0;
  if (!EnvNumber("WATCHDOG_USEC", usec) || usec == 0) return;
  if (std::getenv("WATCHDOG_PID") != nullptr &&
      (!EnvNumber("WATCHDOG_PID", pid) || pid != static_cast<std::uint64_t>(getpid()))) {
    return;
  }
  enabled_ = true;
  interval_ = std::chrono::microseconds(usec / 2);
}

void Watchdog::Ping() {
  Notify("WATCHDOG=1");
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

bool WatchdogClock::SleepFor(std::chrono::nanoseconds d) {
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
  Notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

}  // namespace keelson::daemon
