// Helpers for the audit tests: agent keys made by ssh-keygen, sample
// records, and a real `git daemon` served on a loopback port chosen by the
// kernel.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/audit/record.h"
#include "agent/audit/ssh_signer.h"
#include "tests/testing/temp_dir.h"

namespace keelson::audit::testing_support {

struct AgentKey {
  std::string private_key_path;
  std::string public_line;  // "ssh-ed25519 AAAA... comment"
  std::shared_ptr<const SshSigner> signer;
};

// ssh-keygen -t ed25519 in `dir`; fails the test when it cannot.
AgentKey MakeAgentKey(const keelson::testing::TempDir& dir, const std::string& name);
// An allowed_signers file trusting `key` as `principal` for namespace git.
std::string WriteAllowedSigners(const keelson::testing::TempDir& dir, const std::string& principal,
                                const AgentKey& key);

// A full commit id made from a number, for sample records.
std::string Revision(int n);
// A reconcile.finished body: applied, healthy, `objects` objects.
ReconcileFinished AppliedHealthy(const std::string& revision, int objects);

// Serves repositories under base_path with `git daemon --inetd`, one
// process per connection, on 127.0.0.1. Start(0) lets the kernel pick the
// port; Start(port) binds that port again after Stop().
class GitDaemon {
 public:
  explicit GitDaemon(std::string base_path);
  ~GitDaemon();
  GitDaemon(const GitDaemon&) = delete;
  GitDaemon& operator=(const GitDaemon&) = delete;

  bool Start(int port = 0);
  void Stop();  // refuses new connections and ends running ones
  int port() const { return port_; }
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

}  // namespace keelson::audit::testing_support
