// A real `git daemon` for tests: repositories under base_path served over
// git:// on 127.0.0.1, one `git daemon --inetd` process per connection
// (fetch and push both allowed). Start(0) lets the kernel pick the port, so
// no other test can take it first; Start(port) binds that port again after
// Stop(), to bring a remote "back up". The daemon's own errors go to the
// test's stderr. Start/Stop are called from one thread; connections are
// served on a thread of the daemon's own.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keelson::testing {

class GitDaemon {
 public:
  explicit GitDaemon(std::string base_path);
  ~GitDaemon();
  GitDaemon(const GitDaemon&) = delete;
  GitDaemon& operator=(const GitDaemon&) = delete;

  // False when the port could not be bound.
  bool Start(int port = 0);
  void Stop();  // refuses new connections and ends running ones
  int port() const { return port_; }
  // git://127.0.0.1:<port>/<repository>
  std::string Url(const std::string& repository) const;

 private:
  void Serve();
  std::string base_path_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::mutex children_mutex_;
  std::vector<pid_t> children_;
};

}  // namespace keelson::testing
