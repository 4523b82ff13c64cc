// The daemon: `keelson agent --config FILE`.
//
// One main loop owns every reconcile and drift check, so they never run
// concurrently with each other; sources are fetched by the poller's thread
// and by webhooks, which only wake the loop. The loop:
//   1. takes each source's current mirror revision;
//   2. checks signatures of every commit since the last trusted revision
//      (or only the head, per the source's trust mode) — one bad commit
//      blocks the whole range and nothing is applied;
//   3. reads the environment declaration from the declaration source's
//      snapshot and reconciles it (agent/reconcile);
//   4. writes audit records (agent/audit) and updates the status that
//      /api/v1/status serves;
//   5. every drift interval, compares the applied objects with the live
//      ones and re-applies where a unit's drift mode is "correct".
// Stop() (SIGTERM) lets the current wave finish or stop at its next health
// poll, flushes the audit journal and returns from Run(). RequestReload()
// (SIGHUP) re-reads the config; an invalid one is rejected and the old one
// kept. Thread-safe: Stop, RequestReload and StatusJson may be called from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/config/agent_config.h"
#include "renderers/manifest/result.h"

namespace keelson::daemon {

struct AgentOptions {
  // One pass over every source, then exit: 0 when every unit is healthy,
  // 1 otherwise.
  bool once = false;
  // How often applied objects are compared with the live ones.
  std::chrono::milliseconds drift_interval{std::chrono::seconds(2)};
  // Overrides the config's listen address (tests use 127.0.0.1:0).
  std::string listen_override;
};

// Run() returns this after SIGHUP brought a valid new configuration: the
// caller creates a new Agent from it.
inline constexpr int kReloadExitCode = 3;
// The process exits with this (from the lease renewal thread, at once, even
// mid-wave) when it loses the leader election lease, as client-go's
// OnStoppedLeading does: the supervisor restarts it as a candidate.
inline constexpr int kLostLeadershipExitCode = 4;

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> Create(config::AgentConfig config, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  int Run();
  void Stop();
  void RequestReload();
  // The bound HTTP port once Run() has started the server (0 before).
  std::uint16_t http_port() const;
  nlohmann::json StatusJson() const;

  struct Impl;

 private:
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keelson::daemon
