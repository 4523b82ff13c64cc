#include "agent/reconcile/applier.h"

#include <algorithm>
#include <set>

#include "agent/cluster/health.h"
#include "agent/reconcile/drift.h"

namespace keelson::reconcile {

using manifest::Node;
using manifest::ResourceId;

const char* ObjectActionName(ObjectAction action) {
  switch (action) {
    case ObjectAction::kCreated: return "created";
    case ObjectAction::kUpdated: return "updated";
    case ObjectAction::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

std::vector<ResourceId> ObjectIds(const std::vector<Wave>& waves) {
  std::vector<ResourceId> ids;
  for (const Wave& w : waves) {
    for (const manifest::Object& o : w.objects) ids.push_back(o.id);
  }
  return ids;
}

UnitApplier::UnitApplier(cluster::ClusterClient& client, cluster::Clock& clock, ApplierOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

namespace {

std::chrono::milliseconds Since(cluster::Clock& clock, cluster::Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now() - start);
}

constexpr std::chrono::milliseconds kCacheWaitSlice{1000};

bool HasOtherManager(const Node& object) {
  const Node* managed = object.FindPath({"metadata", "managedFields"});
  if (managed == nullptr || !managed->IsSequence()) return false;
  for (const Node& entry : managed->items()) {
    if (entry.IsMapping() && entry.GetString("manager") != "keelson") return true;
  }
  return false;
}

}  // namespace

std::optional<Result<Node>> UnitApplier::ReadForHealth(const ResourceId& id, bool* from_cache) {
  *from_cache = false;
  if (options_.cache != nullptr) {
    cluster::ObjectCache::Found found = options_.cache->Find(id);
    if (found.lookup == cluster::ObjectCache::Lookup::kAbsent) {
      *from_cache = true;
      return std::nullopt;  // the watch has not delivered the object yet
    }
    if (found.lookup == cluster::ObjectCache::Lookup::kPresent) {
      *from_cache = true;
      auto applied = applied_generation_.find(id);
      const Node* generation = found.object->FindPath({"metadata", "generation"});
      if (applied != applied_generation_.end() && generation != nullptr && generation->IsInt() &&
          generation->AsInt() < applied->second) {
        return std::nullopt;  // an older version than the one applied
      }
      return Result<Node>(*found.object);
    }
  }
  return client_.GetStatus(id);
}

UnitResult UnitApplier::Apply(const std::vector<Wave>& waves, const Inventory* previous) {
  UnitResult result;
  std::size_t count = 0;
  for (const Wave& w : waves) count += w.objects.size();
  if (count == 0 && previous != nullptr && !previous->objects.empty() && options_.prune && !options_.allow_empty) {
    result.failure = MakeError(ErrorCode::kCheckFailed,
                               "the render is empty but the unit has " + std::to_string(previous->objects.size()) +
                                   " objects in the cluster; refusing to prune them all (set allowEmptyRender: "
                                   "true on the unit if this is intended)");
    return result;
  }
  cluster::Clock::time_point deadline = clock_.Now() + options_.health_timeout;
  for (const Wave& wave : waves) {
    if (!ApplyWave(wave, &result)) return result;
    if (!WaitHealthy(wave, deadline, &result)) return result;
    if (options_.on_wave) options_.on_wave(result.waves.back());
  }
  if (previous != nullptr && options_.prune) Prune(waves, *previous, &result);
  if (!result.failure) result.healthy = true;
  return result;
}

bool UnitApplier::ApplyWave(const Wave& wave, UnitResult* result) {
  WaveResult wr;
  wr.label = wave.Label();
  cluster::Clock::time_point start = clock_.Now();
  cluster::ApplyOptions apply_options;
  apply_options.force = options_.force_conflicts;
  for (const manifest::Object& o : wave.objects) {
    bool existed = false;
    bool already_there = false;
    bool known = false;  // the cache answered whether the object exists
    if (options_.cache != nullptr) {
      cluster::GroupVersionKind gvk = cluster::KindOf(o.id);
      // A kind the server does not serve yet (a CRD in this same wave)
      // stays untracked and is read from the server below.
      if (!options_.cache->Tracked(gvk)) (void)options_.cache->Track(gvk);
      cluster::ObjectCache::Found found = options_.cache->Find(o.id);
      if (found.lookup == cluster::ObjectCache::Lookup::kPresent) {
        existed = true;
        already_there = FindDrift(o.node, *found.object).empty();
        known = true;
      } else if (found.lookup == cluster::ObjectCache::Lookup::kAbsent) {
        known = true;
      }
    }
    if (!known) {
      Result<Node> live = client_.Get(o.id);
      if (live.ok()) {
        existed = true;
        // Unchanged when the live object already holds every field we set.
        already_there = FindDrift(o.node, *live).empty();
      } else if (live.error().code != ErrorCode::kNotFound) {
        Error e = std::move(live).error();
        e.message = "reading " + o.id.ToString() + " before applying it: " + e.message;
        result->failure = std::move(e);
        result->waves.push_back(std::move(wr));
        return false;
      }
    }
    Result<Node> applied = client_.Apply(o.node, apply_options);
    if (!applied.ok()) {
      Error e = std::move(applied).error();
      e.message = "applying " + o.id.ToString() + " (" + wave.Label() + "): " + e.message;
      e.At(o.origin);
      result->failure = std::move(e);
      result->waves.push_back(std::move(wr));
      return false;
    }
    // The cache holds only objects with the unit label: one it has not seen
    // may still have existed unlabelled, which its other field managers tell.
    if (!existed && known) existed = HasOtherManager(*applied);
    if (const Node* generation = applied->FindPath({"metadata", "generation"});
        generation != nullptr && generation->IsInt()) {
      applied_generation_[o.id] = generation->AsInt();
    }
    ObjectAction action = !existed        ? ObjectAction::kCreated
                          : already_there ? ObjectAction::kUnchanged
                                          : ObjectAction::kUpdated;
    wr.objects.push_back(AppliedObject{o.id, action});
  }
  wr.apply_time = Since(clock_, start);
  result->waves.push_back(std::move(wr));
  return true;
}

bool UnitApplier::WaitHealthy(const Wave& wave, cluster::Clock::time_point deadline, UnitResult* result) {
  WaveResult& wr = result->waves.back();
  cluster::Clock::time_point start = clock_.Now();
  std::vector<const manifest::Object*> pending;
  for (const manifest::Object& o : wave.objects) pending.push_back(&o);
  std::chrono::milliseconds interval = options_.poll_interval;
  std::string last_reason;
  const manifest::Object* last_object = nullptr;
  while (true) {
    std::vector<const manifest::Object*> still;
    std::uint64_t generation = options_.cache != nullptr ? options_.cache->Generation() : 0;
    bool all_cached = true;
    for (const manifest::Object* o : pending) {
      bool from_cache = false;
      std::optional<Result<Node>> read = ReadForHealth(o->id, &from_cache);
      all_cached = all_cached && from_cache;
      if (!read) {
        still.push_back(o);
        last_reason = "not yet seen by the watch";
        last_object = o;
        continue;
      }
      Result<Node>& live = *read;
      if (!live.ok()) {
        if (live.error().code == ErrorCode::kUnavailable) {  // transient: look again next round
          still.push_back(o);
          last_reason = live.error().message;
          last_object = o;
          continue;
        }
        Error e = std::move(live).error();
        e.message = "reading health of " + o->id.ToString() + ": " + e.message;
        result->failure = std::move(e);
        result->unhealthy_object = o->id;
        return false;
      }
      cluster::Health h = cluster::AssessHealth(*live);
      if (h.state == cluster::HealthState::kHealthy) continue;
      if (h.state == cluster::HealthState::kFailed) {
        result->failure = MakeError(ErrorCode::kCheckFailed,
                                    o->id.ToString() + " failed in " + wave.Label() + ": " + h.reason, o->origin);
        result->unhealthy_object = o->id;
        wr.health_time = Since(clock_, start);
        return false;
      }
      still.push_back(o);
      last_reason = h.reason;
      last_object = o;
    }
    pending = std::move(still);
    if (pending.empty()) {
      wr.healthy = true;
      wr.health_time = Since(clock_, start);
      return true;
    }
    if (clock_.Now() >= deadline) {
      result->failure = MakeError(ErrorCode::kCheckFailed,
                                  last_object->id.ToString() + " not healthy within the unit's health timeout (" +
                                      wave.Label() + "): " + last_reason,
                                  last_object->origin);
      result->unhealthy_object = last_object->id;
      wr.health_time = Since(clock_, start);
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Now());
    if (all_cached) {
      // Every pending object is watched: wait for the next change instead of
      // polling. The wait is cut at a second so the clock (and through it a
      // systemd watchdog) hears from this thread at least that often; a
      // re-check against the cache costs no request.
      options_.cache->WaitForChange(generation, std::chrono::steady_clock::now() +
                                                    std::min({options_.max_poll_interval, left, kCacheWaitSlice}));
      if (!clock_.SleepFor(std::chrono::milliseconds(0))) {
        result->interrupted = true;
        result->failure = MakeError(ErrorCode::kUnavailable, "stopped while waiting for " + wave.Label() + " to be healthy");
        return false;
      }
      continue;
    }
    if (!clock_.SleepFor(std::min(interval, left))) {
      result->interrupted = true;
      result->failure = MakeError(ErrorCode::kUnavailable, "stopped while waiting for " + wave.Label() + " to be healthy");
      return false;
    }
    interval = std::min(interval * 2, options_.max_poll_interval);
  }
}

void UnitApplier::Prune(const std::vector<Wave>& waves, const Inventory& previous, UnitResult* result) {
  std::set<ResourceId> keep;
  for (const ResourceId& id : ObjectIds(waves)) keep.insert(id);
  std::vector<ResourceId> gone;
  for (const ResourceId& id : previous.objects) {
    if (keep.count(id) == 0) gone.push_back(id);
  }
  // Reverse install order: dependents before what they depend on,
  // Namespaces and CRDs last.
  std::stable_sort(gone.begin(), gone.end(), [](const ResourceId& a, const ResourceId& b) {
    bool fa = a.kind == "Namespace" || a.kind == "CustomResourceDefinition";
    bool fb = b.kind == "Namespace" || b.kind == "CustomResourceDefinition";
    if (fa != fb) return fb;
    return KindInstallRank(a.kind) > KindInstallRank(b.kind);
  });
  for (const ResourceId& id : gone) {
    Result<Node> live = client_.Get(id);
    if (!live.ok()) {
      if (live.error().code == ErrorCode::kNotFound) continue;
      result->failure = MakeError(ErrorCode::kUnavailable, "pruning " + id.ToString() + ": " + live.error().message);
      return;
    }
    const Node* opt_out = live->FindPath({"metadata", "annotations", kPruneAnnotation});
    if (opt_out != nullptr && opt_out->IsString() && opt_out->AsString() == "disabled") continue;
    Result<bool> deleted = client_.Delete(id, cluster::DeletePropagation::kBackground);
    if (!deleted.ok()) {
      result->failure = MakeError(ErrorCode::kUnavailable, "pruning " + id.ToString() + ": " + deleted.error().message);
      return;
    }
    if (*deleted) result->pruned.push_back(id);
  }
}

}  // namespace keelson::reconcile
