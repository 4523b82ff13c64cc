// A program running beside a test (the sandbox server, `kubectl get
// --watch`): its stdout is collected as it arrives, and the test waits on
// what it printed with a deadline. The destructor stops it (SIGTERM, then
// SIGKILL) and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace keelson::testing {

class BackgroundProcess {
 public:
  // argv[0] is looked up in PATH; stderr goes to stderr_path ("" = the
  // test's stderr).
  explicit BackgroundProcess(const std::vector<std::string>& argv, const std::string& stderr_path = "");
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Reads until stdout contains `needle` or the deadline passes; returns
  // whether it was seen.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout);
  // The first line of stdout (waiting for it), without the newline; "" on
  // timeout or exit.
  std::string FirstLine(std::chrono::milliseconds timeout);
  const std::string& output() const { return out_; }
  // Sends SIGTERM and waits up to `timeout` for the exit; returns the exit
  // code (-1 when it had to be killed or did not exit normally).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL and reap, as a crash would end it.
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  void ReadAvailable(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
};

}  // namespace keelson::testing
