// Leader election through a coordination.k8s.io/v1 Lease, with client-go's
// semantics and defaults (lease duration 15s, renew deadline 10s, retry
// period 2s), so two agent replicas never apply at the same time.
//
// Every write is a server-side apply that carries the resourceVersion last
// read as a precondition: of two candidates racing for an expired lease only
// one write succeeds, the other gets 409 Conflict. A lease counts as expired
// when its record (holder and renewTime) has not changed for a lease
// duration as measured on this host's monotonic clock from when it was first
// seen — not by comparing the holder's wall clock with ours — as client-go
// does, so clock skew between hosts does not matter.
//
// Thread safety: Acquire runs on the caller's thread; after it returns true
// the renewal runs on a thread of its own. IsLeader may be called from any
// thread. The destructor stops renewal (it does not release the lease).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/cluster/client.h"
#include "renderers/manifest/result.h"

namespace keelson::daemon {

struct LeaderElectionOptions {
  std::string lease_name = "keelson";
  std::string lease_namespace = "keelson-system";
  std::string identity;  // unique per candidate: host name plus process id
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

class LeaderElector {
 public:
  LeaderElector(cluster::ClusterClient& client, LeaderElectionOptions options);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // One attempt to take or renew the lease. True when this candidate holds
  // it afterwards; errors only for failures other than losing a race.
  Result<bool> TryAcquireOrRenew();

  // Retries every retry period until the lease is ours (true) or `stop`
  // returns true (false).
  bool Acquire(const std::function<bool()>& stop);

  // After a successful Acquire: renews every retry period on a thread of its
  // own. When a renewal has not succeeded for the renew deadline, or another
  // holder is seen, leadership is lost: IsLeader turns false and `on_lost`
  // runs once on the renewal thread (the agent exits from it).
  void StartRenewing(std::function<void()> on_lost);
  void StopRenewing();

  bool IsLeader() const { return leader_; }
  const std::string& identity() const { return options_.identity; }

 private:
  void RenewLoop();

  cluster::ClusterClient& client_;
  LeaderElectionOptions options_;
  std::atomic<bool> leader_{false};
  // The last record seen (holder + renewTime) and when it changed.
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::function<void()> on_lost_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread renewer_;
};

// "<host>_<pid>", the default candidate identity.
std::string DefaultLeaderIdentity();

}  // namespace keelson::daemon
