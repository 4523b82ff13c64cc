// systemd's side of the notify protocol for tests: a unix datagram socket
// to hand to a service as NOTIFY_SOCKET, and every message it sent with the
// time it arrived (so tests can check a watchdog cadence). A thread of its
// own receives; the destructor stops it and removes the socket file.
// Messages/WaitFor may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace keelson::testing {

class NotifySocket {
 public:
  struct Message {
    std::chrono::steady_clock::time_point at;
    std::string text;  // one or more KEY=VALUE lines
    // True when one of its lines is `line` ("READY=1") or, for a line
    // given as "KEY=", starts with it ("STATUS=").
    bool Has(std::string_view line) const;
  };

  // Binds `path` (under 108 bytes); ok() tells whether that worked.
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  std::vector<Message> Messages() const;
  // Waits until a message at index `from` or later Has(line); returns its
  // index, or -1 when `timeout` passed first.
  long WaitFor(std::string_view line, std::chrono::milliseconds timeout, std::size_t from = 0) const;
  // Every message so far, one per line with "|" between its lines, for
  // failure output.
  std::string Transcript() const;

 private:
  void Receive();

  std::string path_;
  int fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Message> messages_;
};

}  // namespace keelson::testing
