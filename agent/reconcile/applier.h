// Applies one unit's waves to the cluster with health gates between them,
// then prunes what left the render.
//
// For each wave, in order: server-side apply of every object (fieldManager
// "keelson"), then wait until every object of the wave is healthy
// (cluster::AssessHealth), failing at once when one reports Failed and at
// the unit's health deadline otherwise. Prune runs only after every wave is
// healthy, in reverse install order, and skips objects annotated
// `keelson.dev/prune: disabled`. Not thread-safe; one applier per unit run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/client.h"
#include "agent/cluster/clock.h"
#include "agent/cluster/object_cache.h"
#include "agent/reconcile/inventory.h"
#include "agent/reconcile/wave_planner.h"

namespace keelson::reconcile {

enum class ObjectAction { kCreated, kUpdated, kUnchanged };
const char* ObjectActionName(ObjectAction action);

struct AppliedObject {
  manifest::ResourceId id;
  ObjectAction action = ObjectAction::kUnchanged;
};

struct WaveResult {
  std::string label;  // Wave::Label()
  std::vector<AppliedObject> objects;
  std::chrono::milliseconds apply_time{0};
  std::chrono::milliseconds health_time{0};
  bool healthy = false;
};

struct UnitResult {
  std::vector<WaveResult> waves;
  std::vector<manifest::ResourceId> pruned;
  bool healthy = false;
  // Set when the unit did not become healthy: what failed, where.
  std::optional<Error> failure;
  // Set when the applier was stopped (shutdown) rather than failing: the
  // revision is not to be marked bad.
  bool interrupted = false;
  // The object that failed health, when that is what failed.
  std::optional<manifest::ResourceId> unhealthy_object;
};

struct ApplierOptions {
  bool force_conflicts = false;
  bool prune = true;
  bool allow_empty = false;
  std::chrono::milliseconds health_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds poll_interval{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_poll_interval{std::chrono::seconds(5)};
  // Called after each wave turns healthy (progress, metrics, audit).
  std::function<void(const WaveResult&)> on_wave;
  // The watch-fed cache of managed objects, when the agent runs one: reads
  // before applying and health checks come from it (waiting for the next
  // change instead of polling); kinds it does not track are read from the
  // server as without it.
  cluster::ObjectCache* cache = nullptr;
};

class UnitApplier {
 public:
  UnitApplier(cluster::ClusterClient& client, cluster::Clock& clock, ApplierOptions options);

  // Applies `waves`; `previous` is the inventory of the last healthy
  // revision (nullptr on first apply). Never returns an Error for a cluster
  // failure: those end up in UnitResult::failure so the caller can roll
  // back and report. An empty render with a non-empty previous inventory is
  // refused before anything is applied unless allow_empty is set.
  UnitResult Apply(const std::vector<Wave>& waves, const Inventory* previous);

 private:
  bool ApplyWave(const Wave& wave, UnitResult* result);
  bool WaitHealthy(const Wave& wave, cluster::Clock::time_point deadline, UnitResult* result);
  // What the health check reads for `id`: the cached object when it is at
  // least as new as what was applied, else the server's (GetStatus).
  // Returns nullopt when the cache has not seen the applied version yet.
  std::optional<Result<manifest::Node>> ReadForHealth(const manifest::ResourceId& id, bool* from_cache);
  void Prune(const std::vector<Wave>& waves, const Inventory& previous, UnitResult* result);

  cluster::ClusterClient& client_;
  cluster::Clock& clock_;
  ApplierOptions options_;
  // metadata.generation of each object as the apply returned it.
  std::map<manifest::ResourceId, std::int64_t> applied_generation_;
};

// The identities of every object in `waves`, in apply order.
std::vector<manifest::ResourceId> ObjectIds(const std::vector<Wave>& waves);

}  // namespace keelson::reconcile
