// Simulated controllers: workloads roll out after options_.rollout_delay
// (or fail for images matching options_.fail_images), jobs complete,
// terminating namespaces empty themselves, and the garbage-collector
// finalizers (foregroundDeletion, orphan) are released since the sandbox
// runs no dependents.
#include <cstdio>
#include <functional>

#include "sandbox/api.h"

namespace keelson::sandbox {

namespace {

constexpr const char* kControllerManager = "keelson-sandbox-controller";

std::string ShortHash(const Json& value) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::size_t h = std::hash<std::string>{}(value.dump());
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out += kAlphabet[h % (sizeof kAlphabet - 1)];
    h /= (sizeof kAlphabet - 1);
  }
  return out;
}

Json Condition(const Json& previous, const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& now, bool update_time) {
  Json c = Json::object();
  c["type"] = type;
  c["status"] = status;
  std::string transition = now;
  std::string last_update = now;
  if (previous.is_object() && previous.contains("conditions") && previous["conditions"].is_array()) {
    for (const Json& p : previous["conditions"]) {
      if (p.value("type", "") != type) continue;
      if (p.value("status", "") == status) transition = p.value("lastTransitionTime", now);
      if (p.value("status", "") == status && p.value("reason", "") == reason) {
        last_update = p.value("lastUpdateTime", now);
      }
    }
  }
  if (update_time) c["lastUpdateTime"] = last_update;
  c["lastTransitionTime"] = transition;
  c["reason"] = reason;
  c["message"] = message;
  return c;
}

void SetCount(Json& status, const char* key, std::int64_t value) {
  // The API server omits zero counts.
  if (value != 0) status[key] = value;
}

}  // namespace

bool SandboxApi::ImageFails(const Json& pod_template) const {
  if (options_.fail_images.empty() || !pod_template.is_object() || !pod_template.contains("spec")) return false;
  const Json& spec = pod_template["spec"];
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.is_object() || !spec.contains(list) || !spec[list].is_array()) continue;
    for (const Json& c : spec[list]) {
      std::string image = c.is_object() ? c.value("image", "") : "";
      for (const std::string& pattern : options_.fail_images) {
        if (GlobMatches(pattern, image)) return true;
      }
    }
  }
  return false;
}

void SandboxApi::WriteStatus(const ResourceType& type, const Json& object, Json status) {
  const Json& metadata = object["metadata"];
  std::string ns = metadata.value("namespace", "");
  Json next = object;
  next["status"] = std::move(status);
  (void)Admit(type, ns, &object, std::move(next), "status", kControllerManager, true, false);
}

void SandboxApi::RunControllers() {
  auto now = clock_();
  std::string now_text = FormatTime(now);
  struct Work {
    const ResourceType* type;
    std::string ns;
    std::string name;
  };
  std::vector<Work> workloads;
  for (auto [group, plural] : {std::pair{"apps", "deployments"}, std::pair{"apps", "statefulsets"},
                                std::pair{"apps", "daemonsets"}, std::pair{"batch", "jobs"}}) {
    const ResourceType* type = registry_.Find(group, "v1", plural);
    store_.Scan(type->StorageKey(), "", "", [&](const std::string&, const Json& o) {
      const Json& m = o["metadata"];
      std::string ns = m.value("namespace", "");
      std::string name = m.value("name", "");
      // Settled workloads cost a lookup per tick, not a copy.
      auto it = rollouts_.find(type->StorageKey() + "/" + ns + "/" + name);
      const Json* generation = m.contains("generation") ? &m["generation"] : nullptr;
      if (it != rollouts_.end() && it->second.settled && generation != nullptr && generation->is_number_integer() &&
          generation->get<std::int64_t>() == it->second.generation) {
        return true;
      }
      workloads.push_back(Work{type, std::move(ns), std::move(name)});
      return true;
    });
  }
  for (const Work& w : workloads) {
    const Json* object = store_.Get(w.type->StorageKey(), w.ns, w.name);
    if (object == nullptr) continue;
    try {
      ReconcileWorkload(*w.type, Json(*object));
    } catch (const std::exception& e) {
      // Objects are validated on write, so this is a bug; one bad object
      // must still not stop the others or the server.
      std::fprintf(stderr, "keelson sandbox: controller skipped %s/%s: %s\n", w.ns.c_str(), w.name.c_str(),
                   e.what());
    }
  }
  (void)now_text;
  try {
    ReconcileNamespaces();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keelson sandbox: namespace controller: %s\n", e.what());
  }
}

void SandboxApi::ReconcileWorkload(const ResourceType& type, const Json& object) {
  const Json& metadata = object["metadata"];
  if (metadata.contains("deletionTimestamp")) return;
  std::string key = type.StorageKey() + "/" + metadata.value("namespace", "") + "/" + metadata.value("name", "");
  std::int64_t generation = metadata.value("generation", std::int64_t{1});
  auto now = clock_();
  std::string now_text = FormatTime(now);
  auto it = rollouts_.find(key);
  const Json empty = Json::object();
  const Json& spec = object.contains("spec") && object["spec"].is_object() ? object["spec"] : empty;
  const Json& status = object.contains("status") && object["status"].is_object() ? object["status"] : empty;
  bool seen_before = status.value("observedGeneration", std::int64_t{0}) == generation;
  if (it == rollouts_.end() || it->second.generation != generation) {
    // A restarted sandbox finds workloads it already rolled out: they stay
    // as they are instead of rolling out again.
    auto start = seen_before && it == rollouts_.end() ? now - options_.rollout_delay : now;
    it = rollouts_.insert_or_assign(key, Rollout{generation, start, false}).first;
  }
  bool done = now - it->second.started >= options_.rollout_delay;
  it->second.settled = done;
  const Json empty_template = Json::object();
  const Json& pod_template = spec.contains("template") ? spec["template"] : empty_template;
  bool fails = ImageFails(pod_template);
  std::string name = metadata.value("name", "");
  Json next = Json::object();

  if (type.kind == "Deployment") {
    std::int64_t replicas = spec.value("replicas", std::int64_t{1});
    std::string rs = name + "-" + ShortHash(pod_template).substr(0, 10);
    next["observedGeneration"] = generation;
    SetCount(next, "replicas", replicas);
    SetCount(next, "updatedReplicas", replicas);
    Json conditions = Json::array();
    if (done && !fails) {
      SetCount(next, "readyReplicas", replicas);
      SetCount(next, "availableReplicas", replicas);
      conditions.push_back(Condition(status, "Available", "True", "MinimumReplicasAvailable",
                                     "Deployment has minimum availability.", now_text, true));
      conditions.push_back(Condition(status, "Progressing", "True", "NewReplicaSetAvailable",
                                     "ReplicaSet \"" + rs + "\" has successfully progressed.", now_text, true));
    } else {
      SetCount(next, "unavailableReplicas", replicas);
      conditions.push_back(Condition(status, "Available", replicas == 0 ? "True" : "False",
                                     replicas == 0 ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                     replicas == 0 ? "Deployment has minimum availability."
                                                   : "Deployment does not have minimum availability.",
                                     now_text, true));
      if (done) {
        conditions.push_back(Condition(status, "Progressing", "False", "ProgressDeadlineExceeded",
                                       "ReplicaSet \"" + rs + "\" has timed out progressing.", now_text, true));
      } else {
        conditions.push_back(Condition(status, "Progressing", "True", "ReplicaSetUpdated",
                                       "ReplicaSet \"" + rs + "\" is progressing.", now_text, true));
      }
    }
    next["conditions"] = std::move(conditions);
  } else if (type.kind == "StatefulSet") {
    std::int64_t replicas = spec.value("replicas", std::int64_t{1});
    std::string revision = name + "-" + ShortHash(pod_template);
    bool ready = done && !fails;
    next["observedGeneration"] = generation;
    next["replicas"] = replicas;
    SetCount(next, "readyReplicas", ready ? replicas : 0);
    SetCount(next, "currentReplicas", ready ? replicas : 0);
    SetCount(next, "updatedReplicas", ready ? replicas : 0);
    SetCount(next, "availableReplicas", ready ? replicas : 0);
    next["currentRevision"] = ready ? revision : status.value("currentRevision", revision);
    next["updateRevision"] = revision;
    next["collisionCount"] = 0;
  } else if (type.kind == "DaemonSet") {
    bool ready = done && !fails;
    next["currentNumberScheduled"] = 1;
    next["numberMisscheduled"] = 0;
    next["desiredNumberScheduled"] = 1;
    next["numberReady"] = ready ? 1 : 0;
    next["observedGeneration"] = generation;
    SetCount(next, "updatedNumberScheduled", 1);
    SetCount(next, "numberAvailable", ready ? 1 : 0);
    SetCount(next, "numberUnavailable", ready ? 0 : 1);
  } else if (type.kind == "Job") {
    if (status.contains("completionTime") || status.contains("failed")) return;  // finished jobs stay finished
    if (spec.value("suspend", false)) return;
    std::int64_t completions = spec.value("completions", std::int64_t{1});
    std::int64_t parallelism = spec.value("parallelism", std::int64_t{1});
    next["startTime"] = status.value("startTime", now_text);
    if (!done) {
      SetCount(next, "active", parallelism);
      next["ready"] = 0;
      next["terminating"] = 0;
      next["uncountedTerminatedPods"] = Json::object();
    } else if (fails) {
      next["failed"] = spec.value("backoffLimit", std::int64_t{6}) + 1;
      next["ready"] = 0;
      next["terminating"] = 0;
      next["uncountedTerminatedPods"] = Json::object();
      next["conditions"] = Json::array(
          {Condition(status, "FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                     now_text, false),
           Condition(status, "Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                     now_text, false)});
    } else {
      next["succeeded"] = completions;
      next["ready"] = 0;
      next["terminating"] = 0;
      next["completionTime"] = now_text;
      next["uncountedTerminatedPods"] = Json::object();
      next["conditions"] = Json::array(
          {Condition(status, "SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods",
                     now_text, false),
           Condition(status, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods",
                     now_text, false)});
    }
    if (next.contains("conditions")) {
      for (Json& c : next["conditions"]) c["lastProbeTime"] = now_text;
    }
  }
  if (next == status) return;
  WriteStatus(type, object, std::move(next));
}

void SandboxApi::ReconcileNamespaces() {
  const ResourceType* ns_type = registry_.Find("", "v1", "namespaces");
  std::vector<std::string> terminating;
  store_.Scan(ns_type->StorageKey(), "", "", [&](const std::string&, const Json& ns) {
    if (ns["metadata"].contains("deletionTimestamp")) terminating.push_back(ns["metadata"].value("name", ""));
    return true;
  });
  // Release garbage-collector finalizers: nothing in the sandbox has
  // dependents to wait for.
  std::vector<std::pair<const ResourceType*, std::pair<std::string, std::string>>> released;
  for (const ResourceType& t : registry_.types()) {
    if (registry_.Find(t.group, t.version, t.plural) != &t) continue;
    if (t.custom && registry_.Versions(t.group).front() != t.version) continue;
    store_.Scan(t.StorageKey(), "", "", [&](const std::string&, const Json& o) {
      const Json& m = o["metadata"];
      if (!m.contains("deletionTimestamp") || !m.contains("finalizers")) return true;
      for (const Json& f : m["finalizers"]) {
        if (f == "foregroundDeletion" || f == "orphan") {
          released.push_back({&t, {m.value("namespace", ""), m.value("name", "")}});
          break;
        }
      }
      return true;
    });
  }
  for (const auto& [type, id] : released) {
    const Json* o = store_.Get(type->StorageKey(), id.first, id.second);
    if (o == nullptr) continue;
    Json next = *o;
    Json kept = Json::array();
    for (const Json& f : next["metadata"]["finalizers"]) {
      if (f != "foregroundDeletion" && f != "orphan") kept.push_back(f);
    }
    next["metadata"]["finalizers"] = std::move(kept);
    Json before = *o;
    (void)Admit(*type, id.first, &before, std::move(next), "", kControllerManager, true, false);
  }
  for (const std::string& ns : terminating) {
    bool empty = true;
    for (const ResourceType& t : registry_.types()) {
      if (!t.namespaced || registry_.Find(t.group, t.version, t.plural) != &t) continue;
      std::vector<std::string> names;
      store_.Scan(t.StorageKey(), ns, "", [&](const std::string&, const Json& o) {
        names.push_back(o["metadata"].value("name", ""));
        return true;
      });
      for (const std::string& name : names) {
        empty = false;
        const Json* o = store_.Get(t.StorageKey(), ns, name);
        if (o == nullptr) continue;
        const Json& m = (*o)["metadata"];
        if (m.contains("finalizers") && !m["finalizers"].empty()) {
          if (!m.contains("deletionTimestamp")) {
            Json next = *o;
            next["metadata"]["deletionTimestamp"] = FormatTime(clock_());
            next["metadata"]["deletionGracePeriodSeconds"] = 0;
            store_.Put(t.StorageKey(), ns, name, std::move(next));
          }
        } else {
          RemoveNow(t, ns, name);
        }
      }
    }
    if (empty) store_.Remove(ns_type->StorageKey(), "", ns);
  }
  // Forget rollouts of workloads that are gone.
  for (auto it = rollouts_.begin(); it != rollouts_.end();) {
    std::size_t slash1 = it->first.find('/');
    std::size_t slash2 = it->first.find('/', slash1 + 1);
    std::size_t slash3 = it->first.find('/', slash2 + 1);
    std::string storage = it->first.substr(0, slash2);
    std::string ns = it->first.substr(slash2 + 1, slash3 - slash2 - 1);
    std::string name = it->first.substr(slash3 + 1);
    if (store_.Get(storage, ns, name) == nullptr) {
      it = rollouts_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace keelson::sandbox
