// A program running beside a test (the sandbox server, `kubectl get
// --watch`, nginx, sshd): either its stdout is collected as it arrives and
// the test waits on what it printed with a deadline, or (OutputToLog) both
// its stdout and stderr are appended to a log file. It runs in its own
// process group; the destructor stops the group (SIGTERM, then SIGKILL) and
// reaps the process. Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace keelson::testing {

// Where a BackgroundProcess writes both stdout and stderr (appended).
struct OutputToLog {
  std::string path;
};

class BackgroundProcess {
 public:
  // argv[0] is looked up in PATH; stdout is collected, stderr goes to
  // stderr_path ("" = the test's stderr).
  explicit BackgroundProcess(const std::vector<std::string>& argv, const std::string& stderr_path = "");
  // stdout and stderr are appended to log.path; output() stays empty.
  BackgroundProcess(const std::vector<std::string>& argv, const OutputToLog& log);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // True while the process has not exited (reaps it when it has).
  bool Running();
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
  // SIGKILL (to its whole group) and reap, as a crash would end it.
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  void Start(const std::vector<std::string>& argv, const std::string& stderr_path, bool capture_stdout);
  void ReadAvailable(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
};

}  // namespace keelson::testing
