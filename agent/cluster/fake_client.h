// An in-memory ClusterClient for unit tests of the layers above (planner,
// apply loop, drift): it stores objects, records every call, and can be told
// to fail at the Nth call so a test can loop over N and show that every
// failure path is handled.
//
// Semantics, deliberately simple: Apply replaces the stored object with the
// one given (no field-level merge, no ownership), stamping uid,
// resourceVersion and generation (bumped when anything but metadata and
// status changed); dry runs return that result without storing it. Applying
// a CustomResourceDefinition registers its kinds, as a real server would
// after establishing it. Watch delivers the current list as one kReset event
// and returns. Label selectors support k=v, k==v, k!=v, k and !k.
// Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/client.h"

namespace keelson::cluster {

struct FakeCall {
  std::string verb;    // "mapping", "apply", "get", "get-status", "list", "watch", "delete"
  std::string target;  // ResourceId::ToString() or, for kinds, GroupVersionKind::ToString()
  std::string body;    // apply: the object as compact JSON; delete: the propagation policy
  std::string options; // apply: "force", "dry-run" (comma-separated); list/watch: namespace and selector

  bool operator==(const FakeCall&) const = default;
};

class FakeClusterClient final : public ClusterClient {
 public:
  // Knows the built-in kinds a cluster serves (core, apps, batch, rbac,
  // networking, policy, autoscaling, coordination, apiextensions).
  FakeClusterClient();

  // Serves another kind.
  void AddMapping(const ResourceMapping& mapping);
  // Stores an object as if it existed already; not recorded as a call.
  void Seed(const manifest::Node& object);
  // The object stored under id, if any.
  std::optional<manifest::Node> Stored(const manifest::ResourceId& id) const;
  std::size_t StoredCount() const;

  // The nth call from now on (1-based) fails with `error` instead of running;
  // 0 turns the switch off. The failing call is recorded too.
  void FailAtCall(std::size_t n, Error error = MakeError(ErrorCode::kUnavailable, "injected failure"));
  std::vector<FakeCall> calls() const;
  void ClearCalls();

  Result<ResourceMapping> Mapping(const GroupVersionKind& gvk) override;
  Result<manifest::Node> Apply(const manifest::Node& object, const ApplyOptions& options) override;
  Result<manifest::Node> Get(const manifest::ResourceId& id) override;
  Result<manifest::Node> GetStatus(const manifest::ResourceId& id) override;
  Result<ListResult> List(const GroupVersionKind& gvk, const ListOptions& options) override;
  Status Watch(const GroupVersionKind& gvk, const WatchOptions& options, const WatchHandler& handler) override;
  Result<bool> Delete(const manifest::ResourceId& id, DeletePropagation propagation) override;

 private:
  // Records the call and returns the injected error when this is the one.
  std::optional<Error> Record(FakeCall call);
  Result<ResourceMapping> MapLocked(const GroupVersionKind& gvk) const;
  Result<manifest::ResourceId> Normalize(const manifest::ResourceId& id) const;
  Result<ListResult> ListLocked(const GroupVersionKind& gvk, const ListOptions& options) const;

  mutable std::mutex mu_;
  std::vector<ResourceMapping> mappings_;
  std::map<manifest::ResourceId, manifest::Node> objects_;
  std::vector<FakeCall> calls_;
  std::size_t calls_since_arm_ = 0;
  std::size_t fail_at_ = 0;
  Error fail_error_;
  std::int64_t next_version_ = 1;
};

// Whether an object's labels match a selector ("a=b,c!=d,e,!f"); fails on
// syntax it does not know (set-based "in"/"notin").
Result<bool> MatchesLabelSelector(const manifest::Node& object, const std::string& selector);

}  // namespace keelson::cluster
