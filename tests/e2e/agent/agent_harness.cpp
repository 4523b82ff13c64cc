#include "tests/e2e/agent/agent_harness.h"

#include <signal.h>

#include <ctime>
#include <filesystem>

#include "renderers/manifest/json.h"
#include "tests/testing/loopback.h"

namespace keelson::testing {

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return WaitFor(condition, timeout, std::chrono::milliseconds(100));
}

std::string AgentHarness::Run(const std::vector<std::string>& argv, const std::string& cwd) {
  ProcessResult r = RunProgram(argv, "", cwd, 60);
  if (r.exit_code != 0 && error_.empty()) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    error_ = cmd + "failed: " + r.err;
  }
  return r.out;
}

AgentHarness::AgentHarness(AgentHarnessOptions options) {
  const std::string& d = dir_.path();
  for (const char* who : {"alice", "mallory", "agent"}) {
    Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", d + "/" + who}, d);
  }
  std::string alice_pub = ReadFileOrDie(d + "/alice.pub");
  dir_.Write("allowed_signers", "alice@example.com namespaces=\"git\" " + alice_pub);
  // The cluster.
  kubeconfig_ = d + "/kubeconfig";
  sandbox_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{KEELSON_BINARY, "sandbox", "--state-dir", d + "/sandbox", "--kubeconfig-out",
                               kubeconfig_, "--rollout-delay", options.rollout_delay, "--fail-images",
                               options.fail_images},
      d + "/sandbox.log");
  if (sandbox_->FirstLine(std::chrono::seconds(20)).empty()) {
    error_ = "sandbox did not start";
    return;
  }
  // The Git remote.
  std::filesystem::create_directories(d + "/git");
  Run({"git", "init", "-q", "--bare", "-b", "main", d + "/git/repo.git"}, d);
  work_ = d + "/work";
  Run({"git", "init", "-q", "-b", "main", work_}, d);
  Run({"git", "config", "user.name", "Alice"}, work_);
  Run({"git", "config", "user.email", "alice@example.com"}, work_);
  Run({"git", "config", "gpg.format", "ssh"}, work_);
  Run({"git", "remote", "add", "origin", d + "/git/repo.git"}, work_);
  daemon_ = std::make_unique<GitDaemon>(d + "/git");
  if (!daemon_->Start()) {
    error_ = "git daemon did not start";
    return;
  }
  config_path_ = dir_.Write("agent.yaml", "apiVersion: keelson.dev/v1alpha1\n"
                                          "kind: AgentConfig\n"
                                          "environment: dev\n"
                                          "cluster: {kubeconfig: " + kubeconfig_ + "}\n"
                                          "stateDir: " + d + "/state\n"
                                          "listen: 127.0.0.1:0\n"
                                          "sources:\n"
                                          "- name: repo\n"
                                          "  url: " + daemon_->Url("repo.git") + "\n"
                                          "  ref: refs/heads/main\n"
                                          "  interval: 1s\n"
                                          "  trust: {allowedSigners: " + d + "/allowed_signers}\n"
                                          "declaration: {source: repo, path: clusters/dev/keelson.yaml}\n"
                                          "audit: {signingKey: " + d + "/agent}\n");
  ok_ = error_.empty();
}

AgentHarness::~AgentHarness() {
  named_agents_.clear();
  agent_.reset();
  sandbox_.reset();
}

std::string AgentHarness::Commit(const std::map<std::string, std::string>& files, const std::string& message,
                                 const std::string& signer) {
  for (const auto& [path, contents] : files) {
    std::string full = work_ + "/" + path;
    if (contents.empty()) {
      std::filesystem::remove(full);
    } else {
      dir_.Write("work/" + path, contents);
    }
  }
  Run({"git", "add", "-A"}, work_);
  std::vector<std::string> commit = {"git", "commit", "-q", "-m", message};
  if (signer.empty()) {
    commit.push_back("--no-gpg-sign");
  } else {
    commit = {"git", "-c", "user.signingkey=" + dir_.path() + "/" + signer, "commit", "-q", "-S", "-m", message};
  }
  Run(commit, work_);
  Run({"git", "push", "-q", "origin", "main"}, work_);
  std::string id = Run({"git", "rev-parse", "HEAD"}, work_);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

void AgentHarness::StartAgent(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {KEELSON_BINARY, "agent", "--config", config_path_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  agent_ = std::make_unique<BackgroundProcess>(argv, dir_.path() + "/agent.log");
}

void AgentHarness::KillAgent() {
  if (agent_) agent_->Kill();
  agent_.reset();
}

void AgentHarness::StopAgent() {
  if (agent_) agent_->Stop();
  agent_.reset();
}

void AgentHarness::StartNamedAgent(const std::string& name, const std::string& extra_yaml) {
  std::string config = ReadFileOrDie(config_path_);
  std::string state = "stateDir: " + dir_.path() + "/state\n";
  std::size_t at = config.find(state);
  if (at != std::string::npos) config.replace(at, state.size(), "stateDir: " + dir_.path() + "/state-" + name + "\n");
  StartNamedAgentWithConfig(name, config + extra_yaml);
}

void AgentHarness::StartNamedAgentWithConfig(const std::string& name, const std::string& config_yaml) {
  std::string path = dir_.Write("agent-" + name + ".yaml", config_yaml);
  named_agents_[name] = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{KEELSON_BINARY, "agent", "--config", path}, dir_.path() + "/agent-" + name + ".log");
}

void AgentHarness::KillNamedAgent(const std::string& name) {
  auto it = named_agents_.find(name);
  if (it == named_agents_.end()) return;
  it->second->Kill();
  named_agents_.erase(it);
}

std::string AgentHarness::NamedAgentLog(const std::string& name) const {
  std::error_code ec;
  std::string path = dir_.path() + "/agent-" + name + ".log";
  if (!std::filesystem::exists(path, ec)) return "";
  return ReadFileOrDie(path);
}

std::string AgentHarness::AgentLog() const {
  std::error_code ec;
  if (!std::filesystem::exists(dir_.path() + "/agent.log", ec)) return "";
  return ReadFileOrDie(dir_.path() + "/agent.log");
}

int AgentHarness::AgentPort() const {
  std::string log = AgentLog();
  std::size_t at = log.rfind("listening on 127.0.0.1:");
  if (at == std::string::npos) return 0;
  return std::atoi(log.c_str() + at + std::string("listening on 127.0.0.1:").size());
}

pid_t AgentHarness::AgentPid() const { return agent_ ? agent_->pid() : -1; }

bool AgentHarness::AgentRunning() { return agent_ && agent_->Running(); }

std::string AgentHarness::RepoUrl() const { return daemon_ ? daemon_->Url("repo.git") : ""; }

ProcessResult AgentHarness::Kubectl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, "", "", 60);
}

manifest::Node AgentHarness::Get(const std::string& kind, const std::string& ns, const std::string& name) const {
  std::vector<std::string> args = {"get", kind, name, "-o", "json"};
  if (!ns.empty()) args.insert(args.end(), {"-n", ns});
  ProcessResult r = Kubectl(args);
  if (r.exit_code != 0) return manifest::Node();
  Result<manifest::Node> n = manifest::ParseJson(r.out, "kubectl");
  return n.ok() ? std::move(n).value() : manifest::Node();
}

std::vector<std::string> AgentHarness::SandboxRequests() const {
  std::vector<std::string> out;
  for (const SandboxRequest& r : SandboxRequestLog()) out.push_back(r.what);
  return out;
}

std::vector<AgentHarness::SandboxRequest> AgentHarness::SandboxRequestLog() const {
  ProcessResult r = Kubectl({"get", "--raw", "/sandbox/requests"});
  std::vector<SandboxRequest> out;
  Result<manifest::Node> n = manifest::ParseJson(r.out, "requests");
  if (!n.ok() || n->Find("items") == nullptr) return out;
  for (const manifest::Node& item : n->Find("items")->items()) {
    // "2026-11-27T14:04:33.289Z": milliseconds since the epoch.
    std::string time = item.GetString("time");
    std::tm tm{};
    std::int64_t ms = 0;
    if (time.size() >= 23 && strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr) {
      ms = static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::stoi(time.substr(20, 3));
    }
    out.push_back(SandboxRequest{item.GetString("method") + " " + item.GetString("path"), std::chrono::milliseconds(ms)});
  }
  return out;
}

ProcessResult AgentHarness::Keelson(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {KEELSON_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, "", "", 60);
}

}  // namespace keelson::testing
