#include "tests/testing/git_daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace keelson::testing {

GitDaemon::GitDaemon(std::string base_path) : base_path_(std::move(base_path)) {}

GitDaemon::~GitDaemon() { Stop(); }

std::string GitDaemon::Url(const std::string& repository) const {
  return "git://127.0.0.1:" + std::to_string(port_) + "/" + repository;
}

bool GitDaemon::Start(int port) {
  signal(SIGPIPE, SIG_IGN);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  thread_ = std::thread([this] { Serve(); });
  return true;
}

void GitDaemon::Serve() {
  // Built before any fork: the child may only call async-signal-safe code.
  std::string base = "--base-path=" + base_path_;
  std::vector<std::string> args = {
      "git", "daemon", "--inetd", "--export-all", "--enable=receive-pack", "--informative-errors", base, base_path_};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0) continue;
    {
      std::lock_guard<std::mutex> lock(children_mutex_);
      for (auto it = children_.begin(); it != children_.end();) {
        it = ::waitpid(*it, nullptr, WNOHANG) == *it ? children_.erase(it) : it + 1;
      }
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(conn, 0);
      ::dup2(conn, 1);
      ::execvp("git", argv.data());
      ::_exit(127);
    }
    ::close(conn);
    if (pid > 0) {
      std::lock_guard<std::mutex> lock(children_mutex_);
      children_.push_back(pid);
    }
  }
}

void GitDaemon::Stop() {
  if (listen_fd_ < 0) return;
  (void)!::write(wake_pipe_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
  std::lock_guard<std::mutex> lock(children_mutex_);
  for (pid_t pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  children_.clear();
}

}  // namespace keelson::testing
