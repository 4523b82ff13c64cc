#include "sandbox/resources.h"

#include <algorithm>

namespace keelson::sandbox {

namespace {

ResourceType Builtin(std::string group, std::string version, std::string kind, std::string plural, bool namespaced,
                     std::vector<std::string> short_names, bool has_status, bool sets_generation,
                     std::vector<std::string> categories = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular = t.kind;
  std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  t.namespaced = namespaced;
  t.short_names = std::move(short_names);
  t.has_status = has_status;
  t.sets_generation = sets_generation;
  t.categories = std::move(categories);
  return t;
}

}  // namespace

ResourceRegistry::ResourceRegistry() {
  const std::vector<std::string> all = {"all"};
  types_ = {
      Builtin("", "v1", "Namespace", "namespaces", false, {"ns"}, true, false),
      Builtin("", "v1", "ConfigMap", "configmaps", true, {"cm"}, false, false),
      Builtin("", "v1", "Secret", "secrets", true, {}, false, false),
      Builtin("", "v1", "Service", "services", true, {"svc"}, true, false, all),
      Builtin("", "v1", "ServiceAccount", "serviceaccounts", true, {"sa"}, false, false),
      Builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"}, true, false),
      Builtin("", "v1", "Event", "events", true, {"ev"}, false, false),
      Builtin("apps", "v1", "Deployment", "deployments", true, {"deploy"}, true, true, all),
      Builtin("apps", "v1", "StatefulSet", "statefulsets", true, {"sts"}, true, true, all),
      Builtin("apps", "v1", "DaemonSet", "daemonsets", true, {"ds"}, true, true, all),
      Builtin("batch", "v1", "Job", "jobs", true, {}, true, true, all),
      Builtin("batch", "v1", "CronJob", "cronjobs", true, {"cj"}, true, true, all),
      Builtin("networking.k8s.io", "v1", "Ingress", "ingresses", true, {"ing"}, true, true),
      Builtin("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, {"netpol"}, false, true),
      Builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", true, {}, false, false),
      Builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, {}, false, false),
      Builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, {}, false, false),
      Builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, {}, false,
              false),
      Builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {"pdb"}, true, true),
      Builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {"hpa"}, true,
              true, all),
      Builtin("coordination.k8s.io", "v1", "Lease", "leases", true, {}, false, false),
      Builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false,
              {"crd", "crds"}, true, true),
      Builtin("events.k8s.io", "v1", "Event", "events", true, {"ev"}, false, false),
  };
  for (ResourceType& t : types_) t.has_scale = t.kind == "Deployment" || t.kind == "StatefulSet";
}

const ResourceType* ResourceRegistry::Find(std::string_view group, std::string_view version,
                                           std::string_view plural) const {
  for (const ResourceType& t : types_) {
    if (t.group == group && t.version == version && t.plural == plural) return &t;
  }
  return nullptr;
}

const ResourceType* ResourceRegistry::FindKind(std::string_view group, std::string_view version,
                                               std::string_view kind) const {
  for (const ResourceType& t : types_) {
    if (t.group == group && t.version == version && t.kind == kind) return &t;
  }
  return nullptr;
}

std::vector<std::string> ResourceRegistry::Groups() const {
  std::vector<std::string> groups;
  for (const ResourceType& t : types_) {
    if (std::find(groups.begin(), groups.end(), t.group) == groups.end()) groups.push_back(t.group);
  }
  return groups;
}

std::vector<std::string> ResourceRegistry::Versions(std::string_view group) const {
  std::vector<std::string> versions;
  for (const ResourceType& t : types_) {
    if (t.group == group && std::find(versions.begin(), versions.end(), t.version) == versions.end()) {
      versions.push_back(t.version);
    }
  }
  return versions;
}

bool ResourceRegistry::AddCustom(const Json& crd, std::string* message) {
  auto text = [](const Json& parent, const char* key) -> std::string {
    if (!parent.is_object()) return "";
    auto it = parent.find(key);
    return it != parent.end() && it->is_string() ? it->get<std::string>() : "";
  };
  const Json empty = Json::object();
  const Json& spec = crd.contains("spec") && crd["spec"].is_object() ? crd["spec"] : empty;
  const Json& names = spec.contains("names") && spec["names"].is_object() ? spec["names"] : empty;
  std::string name = crd.contains("metadata") ? text(crd["metadata"], "name") : "";
  std::string group = text(spec, "group");
  std::string plural = text(names, "plural");
  std::string kind = text(names, "kind");
  std::string scope = text(spec, "scope");
  if (group.empty() || plural.empty() || kind.empty()) {
    *message = "spec.group, spec.names.plural and spec.names.kind are required";
    return false;
  }
  if (name != plural + "." + group) {
    *message = "metadata.name must be spec.names.plural+\".\"+spec.group (" + plural + "." + group + ")";
    return false;
  }
  if (scope != "Namespaced" && scope != "Cluster") {
    *message = "spec.scope must be Namespaced or Cluster";
    return false;
  }
  std::vector<ResourceType> added;
  if (spec.contains("versions") && spec["versions"].is_array()) {
    for (const Json& v : spec["versions"]) {
      std::string version = text(v, "name");
      if (version.empty()) {
        *message = "spec.versions[].name is required";
        return false;
      }
      if (v.contains("served") && v["served"].is_boolean() && !v["served"].get<bool>()) continue;
      ResourceType t;
      t.group = group;
      t.version = version;
      t.kind = kind;
      t.plural = plural;
      t.singular = text(names, "singular");
      if (t.singular.empty()) {
        t.singular = kind;
        std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
      t.namespaced = scope == "Namespaced";
      for (const char* list : {"shortNames", "categories"}) {
        if (names.contains(list) && names[list].is_array()) {
          for (const Json& s : names[list]) {
            if (s.is_string()) (list[0] == 's' ? t.short_names : t.categories).push_back(s.get<std::string>());
          }
        }
      }
      const Json* sub = nullptr;
      if (v.contains("subresources") && v["subresources"].is_object()) sub = &v["subresources"];
      t.has_status = sub != nullptr && sub->contains("status");
      t.sets_generation = true;
      t.custom = true;
      t.crd_name = name;
      added.push_back(std::move(t));
    }
  }
  if (added.empty()) {
    *message = "spec.versions must list at least one served version";
    return false;
  }
  for (const ResourceType& t : types_) {
    if (!t.custom && t.group == group) {
      *message = "group " + group + " belongs to built-in kinds";
      return false;
    }
  }
  RemoveCustom(name);
  for (ResourceType& t : added) types_.push_back(std::move(t));
  ++epoch_;
  return true;
}

void ResourceRegistry::RemoveCustom(std::string_view crd_name) {
  auto removed = std::remove_if(types_.begin(), types_.end(),
                                [&](const ResourceType& t) { return t.custom && t.crd_name == crd_name; });
  if (removed != types_.end()) {
    types_.erase(removed, types_.end());
    ++epoch_;
  }
}

}  // namespace keelson::sandbox
