#include "agent/cluster/fake_client.h"

#include "renderers/manifest/json.h"

namespace keelson::cluster {

using manifest::Node;
using manifest::ResourceId;

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// Everything but the parts a server owns: used to decide whether the
// generation moves.
Node SpecPart(const Node& object) {
  Node copy = object;
  copy.Erase("metadata");
  copy.Erase("status");
  return copy;
}

}  // namespace

Result<bool> MatchesLabelSelector(const Node& object, const std::string& selector) {
  const Node* labels = object.FindPath({"metadata", "labels"});
  auto label = [labels](const std::string& key) -> const Node* {
    return labels != nullptr && labels->IsMapping() ? labels->Find(key) : nullptr;
  };
  std::size_t start = 0;
  while (start <= selector.size()) {
    std::size_t comma = selector.find(',', start);
    std::string term = Trim(std::string_view(selector).substr(start, comma == std::string::npos ? std::string::npos
                                                                                                 : comma - start));
    start = comma == std::string::npos ? selector.size() + 1 : comma + 1;
    if (term.empty()) continue;
    if (term.find(" in ") != std::string::npos || term.find(" notin ") != std::string::npos ||
        term.find('(') != std::string::npos) {
      return MakeError(ErrorCode::kInvalidInput, "unsupported label selector term: " + term);
    }
    std::size_t op = term.find_first_of("!=");
    if (term[0] == '!') {
      if (label(Trim(term.substr(1))) != nullptr) return false;
    } else if (op == std::string::npos) {
      if (label(term) == nullptr) return false;
    } else {
      bool negate = term[op] == '!';
      std::size_t value_start = op + 1;
      if (term.compare(op, 2, "!=") == 0 || term.compare(op, 2, "==") == 0) value_start = op + 2;
      else if (negate) return MakeError(ErrorCode::kInvalidInput, "bad label selector term: " + term);
      std::string key = Trim(term.substr(0, op));
      std::string value = Trim(term.substr(value_start));
      const Node* have = label(key);
      bool equal = have != nullptr && have->ScalarText() == value;
      if (equal == negate) return false;
    }
  }
  return true;
}

FakeClusterClient::FakeClusterClient() {
  struct Builtin {
    const char* group;
    const char* version;
    const char* kind;
    const char* resource;
    bool namespaced;
    bool has_status;
  };
  static const Builtin kBuiltins[] = {
      {"", "v1", "Namespace", "namespaces", false, true},
      {"", "v1", "ConfigMap", "configmaps", true, false},
      {"", "v1", "Secret", "secrets", true, false},
      {"", "v1", "Service", "services", true, true},
      {"", "v1", "ServiceAccount", "serviceaccounts", true, false},
      {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, true},
      {"", "v1", "Pod", "pods", true, true},
      {"", "v1", "Event", "events", true, false},
      {"apps", "v1", "Deployment", "deployments", true, true},
      {"apps", "v1", "StatefulSet", "statefulsets", true, true},
      {"apps", "v1", "DaemonSet", "daemonsets", true, true},
      {"batch", "v1", "Job", "jobs", true, true},
      {"batch", "v1", "CronJob", "cronjobs", true, true},
      {"networking.k8s.io", "v1", "Ingress", "ingresses", true, true},
      {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, false},
      {"rbac.authorization.k8s.io", "v1", "Role", "roles", true, false},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, false},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, false},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, false},
      {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, true},
      {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, true},
      {"coordination.k8s.io", "v1", "Lease", "leases", true, false},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, true},
  };
  for (const Builtin& b : kBuiltins) {
    mappings_.push_back({{b.group, b.version, b.kind}, b.resource, b.namespaced, b.has_status});
  }
}

void FakeClusterClient::AddMapping(const ResourceMapping& mapping) {
  std::lock_guard<std::mutex> lock(mu_);
  mappings_.push_back(mapping);
}

Result<ResourceMapping> FakeClusterClient::MapLocked(const GroupVersionKind& gvk) const {
  for (const ResourceMapping& m : mappings_) {
    if (m.gvk == gvk) return m;
  }
  return MakeError(ErrorCode::kNotFound, "the server has no kind " + gvk.kind + " in " + gvk.ApiVersion());
}

Result<ResourceId> FakeClusterClient::Normalize(const ResourceId& id) const {
  Result<ResourceMapping> mapping = MapLocked({id.group, id.version, id.kind});
  if (!mapping) return std::move(mapping).error();
  if (id.name.empty()) return MakeError(ErrorCode::kInvalidInput, id.ToString() + ": metadata.name is missing");
  ResourceId out = id;
  if (!mapping->namespaced) out.namespace_.clear();
  else if (out.namespace_.empty()) out.namespace_ = "default";
  return out;
}

void FakeClusterClient::Seed(const Node& object) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceId> id = manifest::IdentityOf(object);
  if (!id) return;
  Result<ResourceId> key = Normalize(*id);
  if (!key) return;
  objects_[*key] = object;
}

std::optional<Node> FakeClusterClient::Stored(const ResourceId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceId> key = Normalize(id);
  if (!key) return std::nullopt;
  auto it = objects_.find(*key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::size_t FakeClusterClient::StoredCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

void FakeClusterClient::FailAtCall(std::size_t n, Error error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  calls_since_arm_ = 0;
  fail_error_ = std::move(error);
}

std::vector<FakeCall> FakeClusterClient::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeClusterClient::ClearCalls() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

std::optional<Error> FakeClusterClient::Record(FakeCall call) {
  calls_.push_back(std::move(call));
  ++calls_since_arm_;
  if (fail_at_ != 0 && calls_since_arm_ == fail_at_) return fail_error_;
  return std::nullopt;
}

Result<ResourceMapping> FakeClusterClient::Mapping(const GroupVersionKind& gvk) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = Record({"mapping", gvk.ToString(), "", ""}); e) return *e;
  return MapLocked(gvk);
}

Result<Node> FakeClusterClient::Apply(const Node& object, const ApplyOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string flags;
  if (options.force) flags = "force";
  if (options.dry_run) flags += flags.empty() ? "dry-run" : ",dry-run";
  Result<ResourceId> id = manifest::IdentityOf(object);
  std::string target = id ? id->ToString() : "<invalid>";
  if (auto e = Record({"apply", target, manifest::EmitJson(object), flags}); e) return *e;
  if (!id) return std::move(id).error();
  Result<ResourceId> key = Normalize(*id);
  if (!key) return std::move(key).error();

  Node stored = object;
  if (!key->namespace_.empty()) stored["metadata"].Set("namespace", Node::String(key->namespace_));
  auto existing = objects_.find(*key);
  std::int64_t generation = 1;
  std::string uid = "fake-uid-" + std::to_string(next_version_);
  if (existing != objects_.end()) {
    const Node* old_gen = existing->second.FindPath({"metadata", "generation"});
    generation = old_gen != nullptr && old_gen->IsInt() ? old_gen->AsInt() : 1;
    if (!(SpecPart(existing->second) == SpecPart(object))) ++generation;
    uid = existing->second.FindPath({"metadata", "uid"}) != nullptr
              ? existing->second.FindPath({"metadata", "uid"})->ScalarText()
              : uid;
    if (const Node* status = existing->second.Find("status"); status != nullptr && object.Find("status") == nullptr) {
      stored.Set("status", *status);
    }
  }
  Node& meta = stored["metadata"];
  meta.Set("uid", Node::String(uid));
  meta.Set("generation", Node::Int(generation));
  if (options.dry_run) return stored;
  meta.Set("resourceVersion", Node::String(std::to_string(next_version_++)));
  objects_[*key] = stored;

  if (key->group == "apiextensions.k8s.io" && key->kind == "CustomResourceDefinition") {
    std::string group = stored.FindPath({"spec", "group"}) ? stored.FindPath({"spec", "group"})->ScalarText() : "";
    const Node* names = stored.FindPath({"spec", "names"});
    const Node* versions = stored.FindPath({"spec", "versions"});
    bool namespaced = stored.FindPath({"spec", "scope"}) != nullptr &&
                      stored.FindPath({"spec", "scope"})->ScalarText() == "Namespaced";
    if (names != nullptr && names->IsMapping() && versions != nullptr && versions->IsSequence()) {
      for (const Node& v : versions->items()) {
        if (!v.IsMapping()) continue;
        GroupVersionKind gvk{group, v.GetString("name"), names->GetString("kind")};
        if (MapLocked(gvk)) continue;
        mappings_.push_back({gvk, names->GetString("plural"), namespaced,
                             v.FindPath({"subresources", "status"}) != nullptr});
      }
    }
  }
  return stored;
}

Result<Node> FakeClusterClient::Get(const ResourceId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = Record({"get", id.ToString(), "", ""}); e) return *e;
  Result<ResourceId> key = Normalize(id);
  if (!key) return std::move(key).error();
  auto it = objects_.find(*key);
  if (it == objects_.end()) return MakeError(ErrorCode::kNotFound, "get " + id.ToString() + ": not found");
  return it->second;
}

Result<Node> FakeClusterClient::GetStatus(const ResourceId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = Record({"get-status", id.ToString(), "", ""}); e) return *e;
  Result<ResourceId> key = Normalize(id);
  if (!key) return std::move(key).error();
  auto it = objects_.find(*key);
  if (it == objects_.end()) return MakeError(ErrorCode::kNotFound, "get status of " + id.ToString() + ": not found");
  return it->second;
}

Result<ListResult> FakeClusterClient::ListLocked(const GroupVersionKind& gvk, const ListOptions& options) const {
  Result<ResourceMapping> mapping = MapLocked(gvk);
  if (!mapping) return std::move(mapping).error();
  ListResult out;
  out.resource_version = std::to_string(next_version_ - 1);
  for (const auto& [id, object] : objects_) {
    if (id.group != gvk.group || id.version != gvk.version || id.kind != gvk.kind) continue;
    if (mapping->namespaced && !options.namespace_.empty() && id.namespace_ != options.namespace_) continue;
    if (!options.label_selector.empty()) {
      Result<bool> match = MatchesLabelSelector(object, options.label_selector);
      if (!match) return std::move(match).error();
      if (!*match) continue;
    }
    out.items.push_back(object);
  }
  return out;
}

Result<ListResult> FakeClusterClient::List(const GroupVersionKind& gvk, const ListOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = Record({"list", gvk.ToString(), "", options.namespace_ + ";" + options.label_selector}); e) return *e;
  return ListLocked(gvk, options);
}

Status FakeClusterClient::Watch(const GroupVersionKind& gvk, const WatchOptions& options, const WatchHandler& handler) {
  WatchEvent reset;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto e = Record({"watch", gvk.ToString(), "", options.namespace_ + ";" + options.label_selector}); e) return *e;
    ListOptions list;
    list.namespace_ = options.namespace_;
    list.label_selector = options.label_selector;
    Result<ListResult> listed = ListLocked(gvk, list);
    if (!listed) return std::move(listed).error();
    reset.type = WatchEventType::kReset;
    reset.items = std::move(listed->items);
    reset.resource_version = listed->resource_version;
  }
  handler(reset);  // called without the lock so the handler may call back
  return Status::Ok();
}

Result<bool> FakeClusterClient::Delete(const ResourceId& id, DeletePropagation propagation) {
  std::lock_guard<std::mutex> lock(mu_);
  const char* policy = propagation == DeletePropagation::kForeground ? "Foreground"
                       : propagation == DeletePropagation::kOrphan   ? "Orphan"
                                                                     : "Background";
  if (auto e = Record({"delete", id.ToString(), policy, ""}); e) return *e;
  Result<ResourceId> key = Normalize(id);
  if (!key) return std::move(key).error();
  return objects_.erase(*key) > 0;
}

}  // namespace keelson::cluster
