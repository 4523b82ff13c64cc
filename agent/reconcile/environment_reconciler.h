// One reconcile of an environment at one revision: render every unit, run
// the gate hook, apply unit by unit in dependsOn order with health gates,
// roll back a unit that fails, and remember what happened.
//
// A unit whose render fails or whose gate denies is never applied: the
// cluster keeps its last good state. A unit that fails health is rolled back
// to its last healthy revision (rollback: auto) and the failed revision is
// marked bad, so it is not retried until a new commit arrives. Units that
// depend on a unit that did not become healthy are skipped. Units of one
// dependency level run concurrently on up to `workers` threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/client.h"
#include "agent/cluster/clock.h"
#include "agent/config/environment.h"
#include "agent/reconcile/applier.h"
#include "agent/reconcile/inventory.h"
#include "agent/reconcile/unit_renderer.h"
#include "agent/reconcile/unit_state.h"

namespace keelson::reconcile {

inline constexpr const char* kUnitLabel = "keelson.dev/unit";

enum class UnitStatus {
  kApplied,       // healthy at the new revision
  kUnchanged,     // already at this revision and healthy; nothing to do
  kRenderFailed,  // nothing applied
  kDenied,        // a gate said no; nothing applied
  kFailed,        // did not become healthy; no rollback (none possible or asked)
  kRolledBack,    // did not become healthy; the last healthy revision was re-applied
  kSkipped,       // the revision is marked bad for this unit
  kBlocked,       // a unit it depends on did not become healthy
};
const char* UnitStatusName(UnitStatus status);

struct UnitOutcome {
  std::string unit;
  std::string revision;  // of the unit's source
  UnitStatus status = UnitStatus::kApplied;
  std::string renderer;
  std::vector<manifest::ResourceId> objects;   // rendered, in apply order
  std::vector<std::string> object_digests;     // sha256 of each object's YAML, same order
  std::optional<UnitResult> apply;
  std::optional<UnitResult> rollback;
  std::string rolled_back_to;                  // revision, when rolled back
  std::optional<Error> error;                  // why it is not kApplied
  std::vector<std::string> gate_messages;      // warnings and denials
};

struct EnvironmentOutcome {
  std::string revision;
  std::vector<UnitOutcome> units;
  bool healthy = true;  // every unit applied or unchanged
};

// A gate's verdict on one unit's rendered objects (policy engine hook).
struct GateVerdict {
  bool allow = true;
  std::vector<std::string> messages;
};
using UnitGate = std::function<GateVerdict(const config::UnitSpec&, const manifest::ObjectList&)>;
// Waits until a unit may roll out (concurrency limits, named locks) and
// returns what holds that right for as long as it lives; null when the wait
// ended without it (shutdown).
using UnitHold = std::function<std::shared_ptr<void>(const config::UnitSpec&)>;

// One source at the revision this reconcile uses.
struct SourceRevision {
  std::string revision;
  std::string signer;  // who signed the revision, for state and records
  const manifest::FileSystem* snapshot = nullptr;
};

struct ReconcileRequest {
  std::string revision;  // of the source holding the declaration
  // Every source a unit names, by source name.
  std::map<std::string, SourceRevision> sources;
  const config::EnvironmentSpec* environment = nullptr;
  // Apply even units already healthy at this revision (drift correction,
  // manual resync).
  bool force = false;
};

struct ReconcilerOptions {
  int workers = 4;
  bool force_conflicts = false;
  std::chrono::milliseconds poll_interval{500};
  UnitGate gate;  // empty: allow everything
  std::function<void(const std::string& unit, const WaveResult&)> on_wave;
  // The agent's watch-fed cache of managed objects (ApplierOptions::cache).
  cluster::ObjectCache* cache = nullptr;
  // Taken after the gate allowed a unit and held through its apply and any
  // rollback; empty: no limits.
  UnitHold hold;
};

class EnvironmentReconciler {
 public:
  EnvironmentReconciler(cluster::ClusterClient& client, cluster::Clock& clock, UnitRenderer& renderer,
                        InventoryStore& inventory, UnitStateStore& states, ReconcilerOptions options);

  EnvironmentOutcome Reconcile(const ReconcileRequest& request);

 private:
  UnitOutcome ReconcileUnit(const ReconcileRequest& request, const config::UnitSpec& unit);
  // Fills in defaults the cluster needs (unit namespace, the unit label).
  Status Prepare(const config::UnitSpec& unit, manifest::ObjectList* objects);
  void Rollback(const config::UnitSpec& unit, UnitState* state, UnitOutcome* outcome);

  cluster::ClusterClient& client_;
  cluster::Clock& clock_;
  UnitRenderer& renderer_;
  InventoryStore& inventory_;
  UnitStateStore& states_;
  ReconcilerOptions options_;
};

// sha256 of the object's emitted YAML, hex. Secrets are digested like any
// other object, so records never carry their values.
std::string ObjectDigest(const manifest::Object& object);

}  // namespace keelson::reconcile
