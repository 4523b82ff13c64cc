#include "agent/cluster/health.h"

#include <cstdint>
#include <optional>

namespace keelson::cluster {
namespace {

using manifest::Node;

std::optional<std::int64_t> IntAt(const Node& object, std::initializer_list<std::string_view> path) {
  const Node* n = object.FindPath(path);
  if (n == nullptr) return std::nullopt;
  if (n->IsInt()) return n->AsInt();
  // A count written as a float counts only if it is a whole number an int64
  // holds; anything else (1e86, 0.5, NaN) is no count at all.
  if (n->IsFloat()) return manifest::WholeInt64(n->AsFloat());
  return std::nullopt;
}

std::int64_t IntOr(const Node& object, std::initializer_list<std::string_view> path, std::int64_t fallback) {
  return IntAt(object, path).value_or(fallback);
}

std::string StringAt(const Node& object, std::initializer_list<std::string_view> path) {
  const Node* n = object.FindPath(path);
  return n != nullptr && n->IsString() ? n->AsString() : std::string();
}

struct Condition {
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

std::optional<Condition> FindCondition(const Node& object, std::string_view type) {
  const Node* conditions = object.FindPath({"status", "conditions"});
  if (conditions == nullptr || !conditions->IsSequence()) return std::nullopt;
  for (const Node& c : conditions->items()) {
    if (!c.IsMapping() || c.GetString("type") != type) continue;
    const Node* status = c.Find("status");
    std::string text = status == nullptr ? "" : status->IsBool() ? (status->AsBool() ? "True" : "False")
                                                                 : status->ScalarText();
    return Condition{text, c.GetString("reason"), c.GetString("message")};
  }
  return std::nullopt;
}

Health Progressing(std::string reason) { return {HealthState::kProgressing, std::move(reason)}; }
Health Failed(std::string reason) { return {HealthState::kFailed, std::move(reason)}; }
Health Healthy(std::string reason) { return {HealthState::kHealthy, std::move(reason)}; }

std::string Detail(const Condition& c) {
  std::string out = c.reason;
  if (!c.message.empty()) out += (out.empty() ? "" : ": ") + c.message;
  return out;
}

std::string OfReplicas(std::int64_t have, std::int64_t want, const char* what) {
  return std::to_string(have) + " of " + std::to_string(want) + " replicas " + what;
}

Health AssessDeployment(const Node& object) {
  if (auto progressing = FindCondition(object, "Progressing");
      progressing && progressing->status == "False" && progressing->reason == "ProgressDeadlineExceeded") {
    return Failed("rollout stuck: " + Detail(*progressing));
  }
  if (object.FindPath({"spec", "paused"}) != nullptr && object.FindPath({"spec", "paused"})->IsBool() &&
      object.FindPath({"spec", "paused"})->AsBool()) {
    return Progressing("rollout is paused");
  }
  std::int64_t want = IntOr(object, {"spec", "replicas"}, 1);
  std::int64_t updated = IntOr(object, {"status", "updatedReplicas"}, 0);
  std::int64_t total = IntOr(object, {"status", "replicas"}, 0);
  std::int64_t ready = IntOr(object, {"status", "readyReplicas"}, 0);
  std::int64_t available = IntOr(object, {"status", "availableReplicas"}, 0);
  if (updated < want) return Progressing(OfReplicas(updated, want, "updated"));
  if (total > updated) return Progressing(std::to_string(total - updated) + " old replicas pending termination");
  if (ready < want) return Progressing(OfReplicas(ready, want, "ready"));
  if (available < want) return Progressing(OfReplicas(available, want, "available"));
  return Healthy("rolled out: " + OfReplicas(available, want, "available"));
}

Health AssessStatefulSet(const Node& object) {
  std::int64_t want = IntOr(object, {"spec", "replicas"}, 1);
  std::int64_t ready = IntOr(object, {"status", "readyReplicas"}, 0);
  if (ready < want) return Progressing(OfReplicas(ready, want, "ready"));
  if (StringAt(object, {"spec", "updateStrategy", "type"}) == "OnDelete") {
    return Healthy(OfReplicas(ready, want, "ready") + " (OnDelete updates)");
  }
  std::int64_t partition = IntOr(object, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0);
  std::int64_t updated = IntOr(object, {"status", "updatedReplicas"}, 0);
  if (partition > 0) {
    std::int64_t expected = want - partition;
    if (updated < expected) return Progressing(OfReplicas(updated, expected, "updated (partitioned rollout)"));
    return Healthy("partitioned rollout: " + OfReplicas(updated, expected, "updated"));
  }
  if (updated < want) return Progressing(OfReplicas(updated, want, "updated"));
  std::string current = StringAt(object, {"status", "currentRevision"});
  std::string target = StringAt(object, {"status", "updateRevision"});
  if (!target.empty() && current != target) return Progressing("waiting for revision " + target);
  return Healthy("rolled out: " + OfReplicas(ready, want, "ready"));
}

Health AssessDaemonSet(const Node& object) {
  std::optional<std::int64_t> desired = IntAt(object, {"status", "desiredNumberScheduled"});
  if (!desired) return Progressing("waiting for the controller to schedule pods");
  struct Count {
    const char* field;
    const char* what;
  };
  for (Count c : {Count{"currentNumberScheduled", "scheduled"}, Count{"updatedNumberScheduled", "updated"},
                  Count{"numberAvailable", "available"}, Count{"numberReady", "ready"}}) {
    std::int64_t have = IntOr(object, {"status", c.field}, 0);
    if (have < *desired) {
      return Progressing(std::to_string(have) + " of " + std::to_string(*desired) + " pods " + c.what);
    }
  }
  return Healthy("rolled out: " + std::to_string(*desired) + " pods ready");
}

Health AssessJob(const Node& object) {
  if (auto failed = FindCondition(object, "Failed"); failed && failed->status == "True") {
    return Failed("job failed: " + Detail(*failed));
  }
  if (auto complete = FindCondition(object, "Complete"); complete && complete->status == "True") {
    return Healthy("job complete");
  }
  std::int64_t succeeded = IntOr(object, {"status", "succeeded"}, 0);
  std::int64_t active = IntOr(object, {"status", "active"}, 0);
  return Progressing("job running: " + std::to_string(active) + " active, " + std::to_string(succeeded) +
                     " succeeded");
}

Health AssessCrd(const Node& object) {
  if (auto names = FindCondition(object, "NamesAccepted"); names && names->status == "False") {
    return Failed("names not accepted: " + Detail(*names));
  }
  if (auto established = FindCondition(object, "Established"); established && established->status == "True") {
    return Healthy("established");
  }
  return Progressing("not established yet");
}

Health AssessPvc(const Node& object) {
  std::string phase = StringAt(object, {"status", "phase"});
  if (phase == "Bound") return Healthy("bound");
  if (phase == "Lost") return Failed("claim lost its volume");
  return Progressing(phase.empty() ? "not bound yet" : "phase " + phase);
}

Health AssessPod(const Node& object) {
  std::string phase = StringAt(object, {"status", "phase"});
  if (phase == "Succeeded") return Healthy("pod succeeded");
  if (phase == "Failed") return Failed("pod failed: " + StringAt(object, {"status", "reason"}));
  if (auto ready = FindCondition(object, "Ready"); ready && ready->status == "True") return Healthy("pod ready");
  return Progressing(phase.empty() ? "pod not ready" : "pod " + phase + ", not ready");
}

}  // namespace

const char* HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kHealthy:
      return "Healthy";
    case HealthState::kProgressing:
      return "Progressing";
    case HealthState::kFailed:
      return "Failed";
  }
  return "Unknown";
}

Health AssessHealth(const Node& object) {
  if (!object.IsMapping()) return Failed("not an object");
  if (const Node* deleting = object.FindPath({"metadata", "deletionTimestamp"});
      deleting != nullptr && !deleting->IsNull()) {
    return Progressing("being deleted");
  }
  const std::string kind = object.GetString("kind");
  std::string group;
  std::string api_version = object.GetString("apiVersion");
  if (auto slash = api_version.rfind('/'); slash != std::string::npos) group = api_version.substr(0, slash);

  std::optional<std::int64_t> generation = IntAt(object, {"metadata", "generation"});
  std::optional<std::int64_t> observed = IntAt(object, {"status", "observedGeneration"});
  if (generation && observed && *observed < *generation) {
    return Progressing("controller has not observed generation " + std::to_string(*generation) + " yet");
  }
  bool workload = group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet");
  if (workload && generation && !observed) return Progressing("waiting for the controller");

  if (group == "apps" && kind == "Deployment") return AssessDeployment(object);
  if (group == "apps" && kind == "StatefulSet") return AssessStatefulSet(object);
  if (group == "apps" && kind == "DaemonSet") return AssessDaemonSet(object);
  if (group == "batch" && kind == "Job") return AssessJob(object);
  if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") return AssessCrd(object);
  if (group.empty() && kind == "PersistentVolumeClaim") return AssessPvc(object);
  if (group.empty() && kind == "Pod") return AssessPod(object);
  if (group.empty() && kind == "Service" && StringAt(object, {"spec", "type"}) == "LoadBalancer") {
    const Node* ingress = object.FindPath({"status", "loadBalancer", "ingress"});
    if (ingress != nullptr && ingress->IsSequence() && !ingress->empty()) return Healthy("load balancer ready");
    return Progressing("waiting for a load balancer address");
  }
  if (auto stalled = FindCondition(object, "Stalled"); stalled && stalled->status == "True") {
    return Failed("stalled: " + Detail(*stalled));
  }
  if (auto reconciling = FindCondition(object, "Reconciling"); reconciling && reconciling->status == "True") {
    return Progressing("reconciling: " + Detail(*reconciling));
  }
  if (auto ready = FindCondition(object, "Ready"); ready) {
    if (ready->status == "True") return Healthy("ready");
    return Progressing("not ready: " + Detail(*ready));
  }
  return Healthy("present");
}

}  // namespace keelson::cluster
