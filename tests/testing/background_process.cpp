#include "tests/testing/background_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace keelson::testing {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& stderr_path) {
  Start(argv, stderr_path, /*capture_stdout=*/true);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const OutputToLog& log) {
  Start(argv, log.path, /*capture_stdout=*/false);
}

void BackgroundProcess::Start(const std::vector<std::string>& argv, const std::string& stderr_path,
                              bool capture_stdout) {
  signal(SIGPIPE, SIG_IGN);
  int out_pipe[2] = {-1, -1};
  if (capture_stdout && pipe(out_pipe) != 0) return;
  // Built before the fork: the child only calls async-signal-safe functions.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    if (capture_stdout) {
      close(out_pipe[0]);
      close(out_pipe[1]);
    }
    return;
  }
  if (pid == 0) {
    setpgid(0, 0);  // so that its own children are stopped with it
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    int err = -1;
    if (!stderr_path.empty()) {
      err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | (capture_stdout ? O_TRUNC : O_APPEND), 0600);
      if (err >= 0) dup2(err, 2);
    }
    if (capture_stdout) {
      dup2(out_pipe[1], 1);
      close(out_pipe[0]);
      close(out_pipe[1]);
    } else if (err >= 0) {
      dup2(err, 1);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so that a Stop() right away reaches the group
  if (capture_stdout) {
    close(out_pipe[1]);
    out_fd_ = out_pipe[0];
  }
  pid_ = pid;
}

BackgroundProcess::~BackgroundProcess() {
  Stop(std::chrono::seconds(5));
  if (out_fd_ >= 0) close(out_fd_);
}

void BackgroundProcess::ReadAvailable(int timeout_ms) {
  if (out_fd_ < 0) return;
  pollfd fd{out_fd_, POLLIN, 0};
  if (poll(&fd, 1, timeout_ms) <= 0) return;
  char buf[65536];
  ssize_t n = read(out_fd_, buf, sizeof buf);
  if (n <= 0) {
    close(out_fd_);
    out_fd_ = -1;
    return;
  }
  out_.append(buf, static_cast<std::size_t>(n));
}

bool BackgroundProcess::WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return out_.find(needle) != std::string::npos;
    ReadAvailable(static_cast<int>(left.count()));
  }
  return true;
}

std::string BackgroundProcess::FirstLine(std::chrono::milliseconds timeout) {
  if (!WaitForOutput("\n", timeout)) return "";
  return out_.substr(0, out_.find('\n'));
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    kill(-pid_, SIGKILL);  // stragglers in its group
    pid_ = -1;
    return false;
  }
  return true;
}

int BackgroundProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(-pid_, SIGTERM);
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || r < 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill();
      return -1;
    }
    ReadAvailable(20);
    if (out_fd_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-pid_, SIGKILL);  // stragglers in its group
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void BackgroundProcess::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace keelson::testing
