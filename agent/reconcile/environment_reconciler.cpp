#include "agent/reconcile/environment_reconciler.h"

#include <openssl/evp.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/reconcile/unit_order.h"
#include "agent/reconcile/wave_planner.h"
#include "renderers/manifest/yaml.h"

namespace keelson::reconcile {

using manifest::Node;
using manifest::ObjectList;

const char* UnitStatusName(UnitStatus status) {
  switch (status) {
    case UnitStatus::kApplied: return "applied";
    case UnitStatus::kUnchanged: return "unchanged";
    case UnitStatus::kRenderFailed: return "render-failed";
    case UnitStatus::kDenied: return "denied";
    case UnitStatus::kFailed: return "failed";
    case UnitStatus::kRolledBack: return "rolled-back";
    case UnitStatus::kSkipped: return "skipped";
    case UnitStatus::kBlocked: return "blocked";
  }
  return "failed";
}

std::string ObjectDigest(const manifest::Object& object) {
  std::string yaml = manifest::EmitYaml(object.node);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(yaml.data(), yaml.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

EnvironmentReconciler::EnvironmentReconciler(cluster::ClusterClient& client, cluster::Clock& clock, UnitRenderer& renderer,
                                             InventoryStore& inventory, UnitStateStore& states,
                                             ReconcilerOptions options)
    : client_(client),
      clock_(clock),
      renderer_(renderer),
      inventory_(inventory),
      states_(states),
      options_(std::move(options)) {}

EnvironmentOutcome EnvironmentReconciler::Reconcile(const ReconcileRequest& request) {
  EnvironmentOutcome out;
  out.revision = request.revision;
  const config::EnvironmentSpec& env = *request.environment;
  Result<std::vector<std::vector<std::string>>> levels = OrderUnits(env.units);
  if (!levels.ok()) {
    for (const config::UnitSpec& u : env.units) {
      UnitOutcome o;
      o.unit = u.name;
      o.status = UnitStatus::kRenderFailed;
      o.error = levels.error();
      out.units.push_back(std::move(o));
    }
    out.healthy = false;
    return out;
  }
  std::map<std::string, UnitOutcome> done;
  std::mutex mu;
  for (const std::vector<std::string>& level : *levels) {
    std::vector<const config::UnitSpec*> runnable;
    for (const std::string& name : level) {
      const config::UnitSpec* unit = env.FindUnit(name);
      std::string blocker;
      for (const std::string& dep : unit->depends_on) {
        UnitStatus s = done[dep].status;
        if (s != UnitStatus::kApplied && s != UnitStatus::kUnchanged) blocker = dep;
      }
      if (!blocker.empty()) {
        UnitOutcome o;
        o.unit = name;
        o.status = UnitStatus::kBlocked;
        o.error = MakeError(ErrorCode::kCheckFailed, "waiting for unit \"" + blocker + "\" to become healthy (it is " +
                                                         UnitStatusName(done[blocker].status) + ")");
        done[name] = std::move(o);
        continue;
      }
      runnable.push_back(unit);
    }
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < runnable.size(); i = next++) {
        UnitOutcome o = ReconcileUnit(request, *runnable[i]);
        std::lock_guard lock(mu);
        done[runnable[i]->name] = std::move(o);
      }
    };
    std::size_t threads = std::min<std::size_t>(runnable.size(), static_cast<std::size_t>(std::max(1, options_.workers)));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
  }
  for (const config::UnitSpec& u : env.units) {
    UnitOutcome& o = done[u.name];
    if (o.status != UnitStatus::kApplied && o.status != UnitStatus::kUnchanged) out.healthy = false;
    out.units.push_back(std::move(o));
  }
  return out;
}

Status EnvironmentReconciler::Prepare(const config::UnitSpec& unit, ObjectList* objects) {
  for (manifest::Object& o : *objects) {
    Node& meta = o.node["metadata"];
    if (!meta.IsMapping()) return MakeError(ErrorCode::kInvalidInput, "metadata must be a mapping", o.origin);
    if (o.id.namespace_.empty() && !unit.namespace_.empty()) {
      Result<cluster::ResourceMapping> mapping =
          client_.Mapping(cluster::GroupVersionKind{o.id.group, o.id.version, o.id.kind});
      if (!mapping.ok()) {
        Error e = std::move(mapping).error();
        e.message = o.id.ToString() + ": " + e.message;
        return e.At(o.origin);
      }
      if (mapping->namespaced) {
        meta.Set("namespace", Node::String(unit.namespace_));
        o.id.namespace_ = unit.namespace_;
      }
    }
    meta["labels"].Set(kUnitLabel, Node::String(unit.name));
  }
  return Status::Ok();
}

UnitOutcome EnvironmentReconciler::ReconcileUnit(const ReconcileRequest& request, const config::UnitSpec& unit) {
  UnitOutcome out;
  out.unit = unit.name;
  Result<UnitState> loaded = states_.Load(unit.name);
  UnitState state;
  if (loaded.ok()) {
    state = std::move(loaded).value();
  } else {
    state.unit = unit.name;
  }
  auto finish = [&](UnitStatus status, std::optional<Error> error) {
    out.status = status;
    out.error = error;
    state.last_error = error ? error->ToString() : "";
    state.updated_at = NowRfc3339();
    if (Status s = states_.Save(state); !s && !out.error) out.error = s.error();
    return out;
  };
  auto source = request.sources.find(unit.source);
  if (source == request.sources.end() || source->second.snapshot == nullptr) {
    return finish(UnitStatus::kRenderFailed,
                  MakeError(ErrorCode::kNotFound, "source \"" + unit.source + "\" is not available"));
  }
  const SourceRevision& src = source->second;
  out.revision = src.revision;
  if (state.IsBad(src.revision) && !request.force) {
    return finish(UnitStatus::kSkipped,
                  MakeError(ErrorCode::kCheckFailed, "revision " + src.revision.substr(0, 12) +
                                                         " failed health before; waiting for a new commit"));
  }
  out.renderer = renderer_.Describe(*src.snapshot, unit);
  Result<ObjectList> rendered = renderer_.Render(*src.snapshot, unit);
  if (!rendered.ok()) return finish(UnitStatus::kRenderFailed, std::move(rendered).error());
  ObjectList objects = std::move(rendered).value();
  if (Status s = Prepare(unit, &objects); !s) return finish(UnitStatus::kRenderFailed, std::move(s).error());
  for (const manifest::Object& o : objects) {
    out.objects.push_back(o.id);
    out.object_digests.push_back(ObjectDigest(o));
  }
  // A unit already healthy at this revision is not re-checked: gates (a
  // freeze, say) guard changes, not what already runs.
  if (!request.force && state.applied_revision == src.revision && state.health == "Healthy") {
    return finish(UnitStatus::kUnchanged, std::nullopt);
  }
  if (options_.gate) {
    GateVerdict verdict = options_.gate(unit, objects);
    out.gate_messages = verdict.messages;
    if (!verdict.allow) {
      std::string why;
      for (const std::string& m : verdict.messages) why += (why.empty() ? "" : "; ") + m;
      return finish(UnitStatus::kDenied, MakeError(ErrorCode::kCheckFailed, "denied by policy: " + why));
    }
  }
  Result<std::vector<Wave>> waves = PlanWaves(objects);
  if (!waves.ok()) return finish(UnitStatus::kRenderFailed, std::move(waves).error());
  Result<std::optional<Inventory>> previous = inventory_.Load(unit.name);
  if (!previous.ok()) return finish(UnitStatus::kFailed, std::move(previous).error());
  ApplierOptions ao;
  ao.force_conflicts = options_.force_conflicts;
  ao.prune = unit.prune;
  ao.allow_empty = unit.allow_empty;
  ao.health_timeout = unit.health_timeout;
  ao.poll_interval = options_.poll_interval;
  ao.cache = options_.cache;
  if (options_.on_wave) ao.on_wave = [&](const WaveResult& w) { options_.on_wave(unit.name, w); };
  std::shared_ptr<void> held;
  if (options_.hold) {
    held = options_.hold(unit);
    if (!held) {
      return finish(UnitStatus::kFailed,
                    MakeError(ErrorCode::kUnavailable, "stopped while waiting for a rollout slot or lock"));
    }
  }
  UnitApplier applier(client_, clock_, ao);
  const Inventory* prev = previous->has_value() ? &**previous : nullptr;
  state.applied_revision = src.revision;
  state.signer = src.signer;
  state.health = "Progressing";
  (void)states_.Save(state);
  (void)states_.SaveObjects(unit.name, "applied", objects);
  UnitResult result = applier.Apply(*waves, prev);
  out.apply = result;
  if (result.healthy) {
    // The new inventory is what this revision rendered; objects still
    // pending prune after a failure stay listed so they are tried again.
    Inventory inv{unit.name, src.revision, ObjectIds(*waves)};
    if (Status s = inventory_.Save(inv); !s) return finish(UnitStatus::kFailed, std::move(s).error());
    state.healthy_revision = src.revision;
    state.health = "Healthy";
    (void)states_.SaveObjects(unit.name, "healthy", objects);
    return finish(UnitStatus::kApplied, std::nullopt);
  }
  if (result.interrupted) {
    // Shutdown in the middle of a wave: leave the unit Progressing so the
    // next start applies the same revision again.
    return finish(UnitStatus::kFailed, result.failure);
  }
  // Remember what this failed revision created, so a rollback prunes it.
  if (prev != nullptr || !result.waves.empty()) {
    Inventory merged{unit.name, src.revision, {}};
    std::set<manifest::ResourceId> seen;
    if (prev != nullptr) {
      for (const manifest::ResourceId& id : prev->objects) {
        if (seen.insert(id).second) merged.objects.push_back(id);
      }
    }
    for (const WaveResult& w : result.waves) {
      for (const AppliedObject& a : w.objects) {
        if (seen.insert(a.id).second) merged.objects.push_back(a.id);
      }
    }
    (void)inventory_.Save(merged);
  }
  state.health = "Failed";
  if (!state.IsBad(src.revision)) state.bad_revisions.push_back(src.revision);
  if (unit.rollback == config::RollbackMode::kAuto && !state.healthy_revision.empty() &&
      state.healthy_revision != src.revision) {
    Rollback(unit, &state, &out);
    return finish(out.rollback && out.rollback->healthy ? UnitStatus::kRolledBack : UnitStatus::kFailed,
                  result.failure);
  }
  return finish(UnitStatus::kFailed, result.failure);
}

void EnvironmentReconciler::Rollback(const config::UnitSpec& unit, UnitState* state, UnitOutcome* outcome) {
  Result<std::optional<ObjectList>> healthy = states_.LoadObjects(unit.name, "healthy");
  if (!healthy.ok() || !healthy->has_value()) return;
  Result<std::vector<Wave>> waves = PlanWaves(**healthy);
  if (!waves.ok()) return;
  Result<std::optional<Inventory>> current = inventory_.Load(unit.name);
  ApplierOptions ao;
  ao.force_conflicts = options_.force_conflicts;
  ao.prune = unit.prune;
  ao.allow_empty = true;  // the healthy revision's set is what we want back, even if small
  ao.health_timeout = unit.health_timeout;
  ao.poll_interval = options_.poll_interval;
  ao.cache = options_.cache;
  UnitApplier applier(client_, clock_, ao);
  const Inventory* cur = current.ok() && current->has_value() ? &**current : nullptr;
  UnitResult result = applier.Apply(*waves, cur);
  outcome->rollback = result;
  outcome->rolled_back_to = state->healthy_revision;
  if (result.healthy) {
    (void)inventory_.Save(Inventory{unit.name, state->healthy_revision, ObjectIds(*waves)});
    (void)states_.SaveObjects(unit.name, "applied", **healthy);
    state->applied_revision = state->healthy_revision;
    state->health = "RolledBack";
  }
}

}  // namespace keelson::reconcile
