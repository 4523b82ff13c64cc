// Pushes the audit branch to the audit remote on a thread of its own, so a
// remote that is down, slow or silent never holds up a reconcile.
//
// libgit2 1.5 has no socket timeouts: a remote that accepts the connection
// and then says nothing blocks a push for as long as the connection lives.
// The pusher therefore owns its own repository handle (the writer commits
// through another one; git's on-disk format allows that) and its own
// thread. Notify() after each commit wakes it; a failed push is retried
// with exponential backoff; records are pushed in order because the branch
// is (never forced). Stop() gives a push in flight a grace period and then
// abandons it: the thread keeps only shared state alive and ends when the
// connection finally does.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/source/mirror.h"
#include "renderers/manifest/result.h"

namespace keelson::audit {

struct AuditPusherOptions {
  std::string repository;  // the local audit repository (bare)
  std::string remote_url;
  std::string branch;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  source::RemoteAccess remote_access;  // how to reach remote_url
};

class AuditPusher {
 public:
  explicit AuditPusher(AuditPusherOptions options);
  ~AuditPusher();  // Stop(0)
  AuditPusher(const AuditPusher&) = delete;
  AuditPusher& operator=(const AuditPusher&) = delete;

  // Something new was committed: push it (now, or when the backoff ends).
  void Notify();

  // Pushes whatever is unpushed, waiting at most `grace` for it, then ends
  // the thread (or abandons it, when a push is stuck). True when the remote
  // had everything at the end.
  bool Stop(std::chrono::milliseconds grace);

  // The last push outcome (Ok before the first) and how many pushes failed
  // in a row, for /readyz-style reporting and tests.
  Status last_status() const;
  int consecutive_failures() const;
  // Whether the remote is known to hold the branch's current tip.
  bool up_to_date() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace keelson::audit
