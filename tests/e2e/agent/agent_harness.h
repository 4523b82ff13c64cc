// Everything an end-to-end test of the agent needs, for real: a sandbox API
// server, a Git repository served by `git daemon` with commits signed by
// ssh-keygen keys, and the keelson agent as a separate process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "renderers/manifest/node.h"
#include "tests/testing/background_process.h"
#include "tests/testing/git_daemon.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::testing {

struct AgentHarnessOptions {
  std::string rollout_delay = "200ms";
  std::string fail_images = "broken*";
};

class AgentHarness {
 public:
  explicit AgentHarness(AgentHarnessOptions options = {});
  ~AgentHarness();

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // Writes (or, with an empty value, deletes) files in the work tree,
  // commits them signed by `signer` ("alice" is allowed, "mallory" is not,
  // "" leaves the commit unsigned) and pushes. Returns the commit id.
  std::string Commit(const std::map<std::string, std::string>& files, const std::string& message,
                     const std::string& signer = "alice");

  // Starts `keelson agent` with the generated config (stderr in agent.log).
  void StartAgent(const std::vector<std::string>& extra_args = {});
  // SIGKILL, as a crash would.
  void KillAgent();
  void StopAgent();
  std::string AgentLog() const;
  // The agent's HTTP port, from the last "listening on" line of its log (0
  // until it is listening); a reload binds anew.
  int AgentPort() const;
  // The process StartAgent started, to signal it (-1 when none), and
  // whether it is still running.
  pid_t AgentPid() const;
  bool AgentRunning();

  // More agents, each with its own state dir and log (leader election):
  // the generated config with stateDir <dir>/state-<name> and `extra_yaml`
  // appended, stderr in <dir>/agent-<name>.log.
  void StartNamedAgent(const std::string& name, const std::string& extra_yaml);
  // The same with a whole config of the test's own (another environment).
  void StartNamedAgentWithConfig(const std::string& name, const std::string& config_yaml);
  void KillNamedAgent(const std::string& name);  // SIGKILL
  std::string NamedAgentLog(const std::string& name) const;

  ProcessResult Kubectl(const std::vector<std::string>& args) const;
  // The object as JSON-parsed Node, or a null node when it does not exist.
  manifest::Node Get(const std::string& kind, const std::string& ns, const std::string& name) const;
  // "METHOD path" of every request the sandbox served, in order.
  std::vector<std::string> SandboxRequests() const;
  // The same with the time the sandbox served each one.
  struct SandboxRequest {
    std::string what;                 // "METHOD path"
    std::chrono::milliseconds time{};  // since the epoch
  };
  std::vector<SandboxRequest> SandboxRequestLog() const;
  ProcessResult Keelson(const std::vector<std::string>& args) const;

  const std::string& config_path() const { return config_path_; }
  // For configs written by hand: the sandbox's kubeconfig, the Git URL of
  // the repository Commit pushes to, the allowed_signers file that trusts
  // "alice", and an ed25519 private key for the audit trail.
  const std::string& kubeconfig() const { return kubeconfig_; }
  std::string RepoUrl() const;
  std::string AllowedSignersPath() const { return dir_.path() + "/allowed_signers"; }
  std::string AuditKeyPath() const { return dir_.path() + "/agent"; }
  const std::string& dir() const { return dir_.path(); }

 private:
  std::string Run(const std::vector<std::string>& argv, const std::string& cwd);

  TempDir dir_;
  bool ok_ = false;
  std::string error_;
  std::unique_ptr<BackgroundProcess> sandbox_;
  std::unique_ptr<GitDaemon> daemon_;
  std::unique_ptr<BackgroundProcess> agent_;
  std::map<std::string, std::unique_ptr<BackgroundProcess>> named_agents_;
  std::string kubeconfig_;
  std::string work_;
  std::string config_path_;
};

// Polls `condition` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace keelson::testing
