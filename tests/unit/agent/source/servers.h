// Real Git servers for transport tests, each on a loopback port in a
// temporary directory, stopped (and waited for) on destruction. The git
// daemon is tests/testing/git_daemon.h.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/background_process.h"
#include "tests/testing/temp_dir.h"

namespace keelson::source::testing {

// A TCP server that answers every connection with `reply` and closes it,
// or (hold_open) accepts connections and never says anything.
class GarbageServer {
 public:
  explicit GarbageServer(std::string reply, bool hold_open = false);
  ~GarbageServer();
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::string reply_;
  bool hold_open_ = false;
  std::vector<int> held_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
};

// nginx + fcgiwrap + git-http-backend over TLS with a throwaway CA, basic
// authentication (user "keelson", password "s3cret"), serving `base`.
class HttpsGitServer {
 public:
  explicit HttpsGitServer(const std::string& base);
  bool ok() const { return ok_; }
  const std::string& why_not() const { return why_not_; }
  std::string Url(const std::string& repo) const;
  const std::string& ca_file() const { return ca_file_; }
  // A CA that did not sign the server certificate.
  const std::string& other_ca_file() const { return other_ca_file_; }
  std::string log() const;

 private:
  keelson::testing::TempDir dir_;
  int port_ = 0;
  std::string ca_file_, other_ca_file_;
  std::unique_ptr<keelson::testing::BackgroundProcess> fcgiwrap_, nginx_;
  bool ok_ = false;
  std::string why_not_;
};

// OpenSSH's sshd on a loopback port that lets the current user in with a
// throwaway ed25519 key; repositories are addressed by absolute path.
class SshGitServer {
 public:
  SshGitServer();
  bool ok() const { return ok_; }
  const std::string& why_not() const { return why_not_; }
  std::string Url(const std::string& absolute_repo_path) const;
  const std::string& user() const { return user_; }
  const std::string& private_key() const { return private_key_; }
  const std::string& known_hosts() const { return known_hosts_; }
  // A known_hosts file naming the server with somebody else's key.
  const std::string& wrong_known_hosts() const { return wrong_known_hosts_; }
  std::string log() const;

 private:
  keelson::testing::TempDir dir_;
  int port_ = 0;
  std::string user_, private_key_, known_hosts_, wrong_known_hosts_;
  std::unique_ptr<keelson::testing::BackgroundProcess> sshd_;
  bool ok_ = false;
  std::string why_not_;
};

}  // namespace keelson::source::testing
