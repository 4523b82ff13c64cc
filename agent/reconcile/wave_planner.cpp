#include "agent/reconcile/wave_planner.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <string_view>
#include <tuple>

namespace keelson::reconcile {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kFoundation: return "foundation";
    case Phase::kPreSync: return "presync";
    case Phase::kMain: return "main";
    case Phase::kPostSync: return "postsync";
  }
  return "main";
}

std::string Wave::Label() const {
  if (phase == Phase::kMain) return "wave " + std::to_string(number);
  return PhaseName(phase);
}

int KindInstallRank(const std::string& kind) {
  static constexpr std::array<std::string_view, 37> kOrder = {
      "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
      "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
      "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
      "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
      "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
      "CronJob", "IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration"};
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == kind) return static_cast<int>(i);
  }
  return static_cast<int>(kOrder.size());
}

namespace {

std::string Annotation(const manifest::Node& object, std::string_view key) {
  const manifest::Node* a = object.FindPath({"metadata", "annotations"});
  if (a == nullptr) return "";
  const manifest::Node* v = a->Find(key);
  return v != nullptr && v->IsString() ? v->AsString() : "";
}

Error ObjectError(const manifest::Object& o, std::string field, std::string message) {
  Location where = o.origin;
  where.field = std::move(field);
  return MakeError(ErrorCode::kInvalidInput, o.id.ToString() + ": " + message, where);
}

}  // namespace

Result<std::vector<Wave>> PlanWaves(const manifest::ObjectList& objects) {
  using Key = std::tuple<int, long>;
  std::map<Key, Wave> waves;
  for (const manifest::Object& o : objects) {
    std::string hook = Annotation(o.node, kArgoHookAnnotation);
    // Helm's install hooks map onto the same phases.
    if (std::string helm_hook = Annotation(o.node, "helm.sh/hook"); hook.empty() && !helm_hook.empty()) {
      if (helm_hook.find("pre-install") != std::string::npos || helm_hook.find("pre-upgrade") != std::string::npos) {
        hook = "PreSync";
      } else if (helm_hook.find("post-install") != std::string::npos ||
                 helm_hook.find("post-upgrade") != std::string::npos) {
        hook = "PostSync";
      } else {
        hook = "Skip";  // test, rollback and delete hooks do not run on apply
      }
    }
    if (hook == "Skip") continue;
    Phase phase = Phase::kMain;
    if (o.id.kind == "Namespace" || o.id.kind == "CustomResourceDefinition") {
      phase = Phase::kFoundation;
    } else if (hook == "PreSync") {
      phase = Phase::kPreSync;
    } else if (hook == "PostSync") {
      phase = Phase::kPostSync;
    } else if (!hook.empty() && hook != "Sync") {
      return ObjectError(o, std::string("metadata.annotations.") + kArgoHookAnnotation,
                         "hook \"" + hook + "\" is not supported (PreSync, Sync, PostSync and Skip are)");
    }
    if (o.id.name.empty()) {
      const manifest::Node* gen = o.node.FindPath({"metadata", "generateName"});
      if (gen != nullptr) {
        return ObjectError(o, "metadata.generateName",
                           "generateName is not supported: server-side apply needs a fixed metadata.name");
      }
      return ObjectError(o, "metadata.name", "missing name");
    }
    long number = 0;
    if (phase == Phase::kMain) {
      std::string raw = Annotation(o.node, kWaveAnnotation);
      std::string which = kWaveAnnotation;
      if (raw.empty()) {
        raw = Annotation(o.node, kArgoWaveAnnotation);
        which = kArgoWaveAnnotation;
      }
      if (!raw.empty()) {
        auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), number);
        if (ec != std::errc() || ptr != raw.data() + raw.size()) {
          return ObjectError(o, "metadata.annotations." + which, "wave \"" + raw + "\" is not an integer");
        }
      }
    }
    Wave& w = waves[Key{static_cast<int>(phase), number}];
    w.phase = phase;
    w.number = number;
    w.objects.push_back(o);
  }
  std::vector<Wave> out;
  for (auto& [key, w] : waves) {
    std::stable_sort(w.objects.begin(), w.objects.end(), [](const manifest::Object& a, const manifest::Object& b) {
      int ra = KindInstallRank(a.id.kind), rb = KindInstallRank(b.id.kind);
      return std::tie(ra, a.id.kind, a.id.namespace_, a.id.name) < std::tie(rb, b.id.kind, b.id.namespace_, b.id.name);
    });
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace keelson::reconcile
