#include "tests/testing/notify_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace keelson::testing {

bool NotifySocket::Message::Has(std::string_view line) const {
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view one = rest.substr(0, nl);
    if (line.ends_with('=') ? one.starts_with(line) : one == line) return true;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return false;
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un addr{};
  if (path_.size() >= sizeof addr.sun_path) return;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  unlink(path_.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    close(fd);
    return;
  }
  fd_ = fd;
  thread_ = std::thread([this] { Receive(); });
}

NotifySocket::~NotifySocket() {
  if (fd_ < 0) return;
  char byte = 0;
  (void)!write(wake_pipe_[1], &byte, 1);
  thread_.join();
  close(fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
  unlink(path_.c_str());
}

void NotifySocket::Receive() {
  // sd_notify(3) messages are small; systemd itself caps them near 4 KiB.
  std::string buffer(65536, '\0');
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) continue;
    Message m{std::chrono::steady_clock::now(), buffer.substr(0, static_cast<std::size_t>(n))};
    while (!m.text.empty() && m.text.back() == '\n') m.text.pop_back();
    {
      std::lock_guard lock(mu_);
      messages_.push_back(std::move(m));
    }
    cv_.notify_all();
  }
}

std::vector<NotifySocket::Message> NotifySocket::Messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

long NotifySocket::WaitFor(std::string_view line, std::chrono::milliseconds timeout, std::size_t from) const {
  std::unique_lock lock(mu_);
  long found = -1;
  cv_.wait_for(lock, timeout, [&] {
    for (std::size_t i = from; i < messages_.size(); ++i) {
      if (messages_[i].Has(line)) {
        found = static_cast<long>(i);
        return true;
      }
    }
    return false;
  });
  return found;
}

std::string NotifySocket::Transcript() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const Message& m : messages_) {
    std::string one = m.text;
    for (char& c : one) {
      if (c == '\n') c = '|';
    }
    out += one + "\n";
  }
  return out;
}

}  // namespace keelson::testing
