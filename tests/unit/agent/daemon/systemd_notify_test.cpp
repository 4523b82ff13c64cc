// The watchdog and reload messages, received on a real unix datagram
// socket named by NOTIFY_SOCKET.
#include "agent/daemon/systemd_notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include <string>
#include <thread>

#include "tests/testing/notify_socket.h"
#include "tests/testing/temp_dir.h"

namespace keelson::daemon {
namespace {

using namespace std::chrono_literals;

class SystemdNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = std::make_unique<testing::NotifySocket>(dir_.path() + "/notify");
    ASSERT_TRUE(socket_->ok());
    setenv("NOTIFY_SOCKET", socket_->path().c_str(), 1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  std::size_t Pings() const {
    std::size_t n = 0;
    for (const testing::NotifySocket::Message& m : socket_->Messages()) n += m.Has("WATCHDOG=1") ? 1 : 0;
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::NotifySocket> socket_;
};

TEST_F(SystemdNotify, SendsOneDatagramToThePathSocket) {
  EXPECT_TRUE(Notify("READY=1\nSTATUS=first reconcile started"));
  long at = socket_->WaitFor("READY=1", 2s);
  ASSERT_GE(at, 0) << socket_->Transcript();
  EXPECT_EQ(socket_->Messages()[static_cast<std::size_t>(at)].text, "READY=1\nSTATUS=first reconcile started");
}

// systemd hands some services an abstract socket ("@name").
TEST_F(SystemdNotify, SendsToAnAbstractSocket) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  std::string name = "keelson-notify-test-" + std::to_string(getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
  EXPECT_TRUE(Notify("STOPPING=1"));
  char buf[64] = {};
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  close(fd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "STOPPING=1");
}

TEST_F(SystemdNotify, NothingToSendToIsNotAnError) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(Notify("READY=1"));
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(Notify("READY=1"));
  setenv("NOTIFY_SOCKET", (dir_.path() + "/nobody-listens").c_str(), 1);
  EXPECT_FALSE(Notify("READY=1"));
}

TEST_F(SystemdNotify, AMalformedWatchdogIsOff) {
  setenv("WATCHDOG_USEC", "3s", 1);
  EXPECT_FALSE(Watchdog().enabled());
  setenv("WATCHDOG_USEC", "0", 1);
  EXPECT_FALSE(Watchdog().enabled());
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", "self", 1);
  EXPECT_FALSE(Watchdog().enabled());
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_TRUE(Watchdog().enabled());
}

TEST_F(SystemdNotify, IntervalIsHalfOfWatchdogUsec) {
  setenv("WATCHDOG_USEC", "3000000", 1);
  Watchdog dog;
  EXPECT_TRUE(dog.enabled());
  EXPECT_EQ(dog.interval(), std::chrono::steady_clock::duration(1500ms));
}

TEST_F(SystemdNotify, AWatchdogForAnotherProcessIsNotOurs) {
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  Watchdog dog;
  EXPECT_FALSE(dog.enabled());
}

// A health wait longer than the watchdog timeout keeps pinging at half of
// it; with the old plain clock it would send nothing until the pass ended.
TEST_F(SystemdNotify, LongSleepsKeepTheWatchdogFed) {
  setenv("WATCHDOG_USEC", "200000", 1);  // pings due every 100 ms
  Watchdog dog;
  WatchdogClock clock(dog);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(clock.SleepFor(650ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 650ms);
  ASSERT_GE(socket_->WaitFor("WATCHDOG=1", 2s), 0);
  // 6 are due; a loaded machine may merge a few wakes, never most.
  EXPECT_GE(Pings(), 4u) << socket_->Transcript();
  EXPECT_LE(Pings(), 8u) << socket_->Transcript();
}

TEST_F(SystemdNotify, ReadingTheTimePingsOnlyWhenDue) {
  setenv("WATCHDOG_USEC", "400000", 1);
  Watchdog dog;
  WatchdogClock clock(dog);
  for (int i = 0; i < 1000; ++i) clock.Now();  // not due yet: nothing sent
  std::this_thread::sleep_for(250ms);          // the 200 ms interval passes
  clock.Now();
  ASSERT_GE(socket_->WaitFor("WATCHDOG=1", 2s), 0);
  EXPECT_EQ(Pings(), 1u) << socket_->Transcript();
}

TEST_F(SystemdNotify, WithoutAWatchdogSleepsSendNothing) {
  Watchdog dog;
  EXPECT_FALSE(dog.enabled());
  WatchdogClock clock(dog);
  EXPECT_TRUE(clock.SleepFor(50ms));
  clock.Now();
  dog.Ping();  // the main loop's own ping still goes out: systemd ignores it
  ASSERT_GE(socket_->WaitFor("WATCHDOG=1", 2s), 0);
  EXPECT_EQ(Pings(), 1u) << socket_->Transcript();
}

TEST_F(SystemdNotify, WakeEndsALongSleepAtOnce) {
  setenv("WATCHDOG_USEC", "200000", 1);
  Watchdog dog;
  WatchdogClock clock(dog);
  std::thread waker([&] {
    std::this_thread::sleep_for(150ms);
    clock.Wake();
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(clock.SleepFor(30s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  waker.join();
}

TEST_F(SystemdNotify, ReloadingCarriesTheMonotonicTime) {
  NotifyReloading();
  long at = socket_->WaitFor("RELOADING=1", 2s);
  ASSERT_GE(at, 0) << socket_->Transcript();
  testing::NotifySocket::Message m = socket_->Messages()[static_cast<std::size_t>(at)];
  ASSERT_TRUE(m.Has("MONOTONIC_USEC=")) << m.text;
  std::size_t pos = m.text.find("MONOTONIC_USEC=") + std::string("MONOTONIC_USEC=").size();
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long now_usec = static_cast<long long>(ts.tv_sec) * 1'000'000LL + ts.tv_nsec / 1000;
  long long sent = std::stoll(m.text.substr(pos));
  EXPECT_GT(sent, 0);
  EXPECT_LE(sent, now_usec);
  EXPECT_GT(sent, now_usec - 10'000'000LL);
}

}  // namespace
}  // namespace keelson::daemon
