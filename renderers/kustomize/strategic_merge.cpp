// Strategic merge patches, following the Kubernetes patch-merge keys of the
// built-in kinds. Lists without a merge strategy are replaced; lists with
// one are merged element by element, the patch's elements first, as
// Kustomize orders them.
#include <algorithm>

#include "renderers/kustomize/internal.h"

namespace keelson::kustomize::internal {

namespace {

bool IsBuiltinApiGroup(const std::string& group) {
  static const std::set<std::string, std::less<>> kGroups = {
      "",
      "admissionregistration.k8s.io",
      "apiextensions.k8s.io",
      "apiregistration.k8s.io",
      "apps",
      "autoscaling",
      "batch",
      "certificates.k8s.io",
      "coordination.k8s.io",
      "discovery.k8s.io",
      "events.k8s.io",
      "extensions",
      "flowcontrol.apiserver.k8s.io",
      "networking.k8s.io",
      "node.k8s.io",
      "policy",
      "rbac.authorization.k8s.io",
      "scheduling.k8s.io",
      "storage.k8s.io",
  };
  return kGroups.contains(group);
}

struct ListRule {
  bool merge = false;
  std::string key;  // "" with merge: a list of scalars merged as a set
};

// The merge rule for the list at `field`, whose parent mapping sits at
// `path` (field names from the object root).
ListRule BuiltinListRule(const std::vector<std::string>& path, const std::string& field,
                         const std::string& kind) {
  static const std::map<std::string, std::string, std::less<>> kByName = {
      {"containers", "name"},
      {"initContainers", "name"},
      {"ephemeralContainers", "name"},
      {"volumes", "name"},
      {"env", "name"},
      {"imagePullSecrets", "name"},
      {"volumeMounts", "mountPath"},
      {"volumeDevices", "devicePath"},
      {"hostAliases", "ip"},
      {"ownerReferences", "uid"},
      {"conditions", "type"},
      {"topologySpreadConstraints", "topologyKey"},
      {"resourceClaims", "name"},
      {"schedulingGates", "name"},
  };
  if (field == "finalizers" && path.size() == 1 && path[0] == "metadata") return {true, ""};
  if (field == "secrets" && kind == "ServiceAccount" && path.empty()) return {true, "name"};
  if (field == "ports") {
    if (kind == "Service" && path.size() == 1 && path[0] == "spec") return {true, "port"};
    if (!path.empty() && (path.back() == "containers" || path.back() == "initContainers" ||
                          path.back() == "ephemeralContainers")) {
      return {true, "containerPort"};
    }
    return {};
  }
  if (auto it = kByName.find(field); it != kByName.end()) {
    // Only inside pod specs and metadata, where these names have the strategy.
    return {true, it->second};
  }
  return {};
}

struct MergeContext {
  std::string kind;
  bool builtin = false;
  const MergeSchema* custom = nullptr;
};

std::string JoinPath(const std::vector<std::string>& path, const std::string& field) {
  std::string out;
  for (const std::string& p : path) {
    out += p;
    out += '.';
  }
  return out + field;
}

ListRule RuleFor(const MergeContext& ctx, const std::vector<std::string>& path,
                 const std::string& field) {
  if (ctx.custom != nullptr) {
    if (auto it = ctx.custom->keys_by_kind.find(ctx.kind); it != ctx.custom->keys_by_kind.end()) {
      std::string full = JoinPath(path, field);
      if (auto k = it->second.find(full); k != it->second.end()) {
        return {true, k->second};
      }
      if (auto b = ctx.custom->builtin_paths_by_kind.find(ctx.kind);
          b != ctx.custom->builtin_paths_by_kind.end()) {
        for (const std::string& prefix : b->second) {
          if (full.starts_with(prefix + ".")) return BuiltinListRule(path, field, ctx.kind);
        }
      }
      return {};
    }
  }
  if (!ctx.builtin) return {};
  return BuiltinListRule(path, field, ctx.kind);
}

std::string Directive(const Node& node) {
  if (!node.IsMapping()) return "";
  const Node* d = node.Find("$patch");
  return d != nullptr && d->IsString() ? d->AsString() : "";
}

// A patch value placed where the target has nothing: directives and nulls
// removed.
Node CleanPatchValue(const Node& patch) {
  if (patch.IsMapping()) {
    Node out = Node::Mapping();
    for (const Node::Entry& e : patch.entries()) {
      if (e.key == "$patch" || e.key.starts_with("$setElementOrder") || e.key == "$retainKeys") {
        continue;
      }
      if (e.value.IsNull()) continue;
      if (Directive(e.value) == "delete") continue;
      out.entries().push_back(Node::Entry{e.key, CleanPatchValue(e.value), e.key_mark});
    }
    out.set_mark(patch.mark());
    return out;
  }
  if (patch.IsSequence()) {
    Node out = Node::Sequence();
    for (const Node& item : patch.items()) {
      std::string d = Directive(item);
      if (d == "delete" || d == "replace") continue;
      out.Append(CleanPatchValue(item));
    }
    out.set_mark(patch.mark());
    return out;
  }
  return patch;
}

Status MergeMap(Node& target, const Node& patch, const MergeContext& ctx,
                std::vector<std::string>& path);

std::string KeyValue(const Node& item, const std::string& key) {
  if (!item.IsMapping()) return "";
  const Node* v = item.Find(key);
  return v != nullptr && v->IsScalar() ? v->ScalarText() : "";
}

// Merges the list `patch` into `target` by `rule`.
Status MergeList(Node& target, const Node& patch, const ListRule& rule, const MergeContext& ctx,
                 std::vector<std::string>& path) {
  // A `$patch: replace` element replaces the whole list.
  for (const Node& item : patch.items()) {
    if (Directive(item) == "replace") {
      target = CleanPatchValue(patch);
      return Status::Ok();
    }
  }
  if (rule.key.empty()) {
    std::vector<Node> out;
    auto seen = [&](const Node& v) {
      return std::any_of(out.begin(), out.end(), [&](const Node& o) { return o == v; });
    };
    for (const Node& item : patch.items()) {
      if (item.IsMapping()) continue;
      if (!seen(item)) out.push_back(item);
    }
    for (const Node& item : target.items()) {
      if (!seen(item)) out.push_back(item);
    }
    target.items() = std::move(out);
    return Status::Ok();
  }
  // Key values in merge order: the patch's first, then the target's.
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::vector<Node> keyless_patch_items;
  for (const Node& item : patch.items()) {
    std::string k = KeyValue(item, rule.key);
    if (k.empty()) {
      if (item.IsMapping() && Directive(item).empty()) keyless_patch_items.push_back(item);
      continue;
    }
    if (seen.insert(k).second) order.push_back(k);
  }
  for (const Node& item : target.items()) {
    std::string k = KeyValue(item, rule.key);
    if (k.empty()) continue;
    if (seen.insert(k).second) order.push_back(k);
  }
  std::vector<Node> result;
  // Keyless target elements, found before any element is moved out.
  std::vector<Node> keyless_target_items;
  for (const Node& item : target.items()) {
    if (KeyValue(item, rule.key).empty()) keyless_target_items.push_back(item);
  }
  for (const std::string& k : order) {
    const Node* p = nullptr;
    for (const Node& item : patch.items()) {
      if (KeyValue(item, rule.key) == k) p = &item;
    }
    Node* t = nullptr;
    for (Node& item : target.items()) {
      if (KeyValue(item, rule.key) == k) {
        t = &item;
        break;
      }
    }
    if (p != nullptr && Directive(*p) == "delete") continue;
    if (t == nullptr) {
      result.push_back(CleanPatchValue(*p));
      continue;
    }
    if (p == nullptr) {
      result.push_back(std::move(*t));
      continue;
    }
    Node merged = std::move(*t);
    if (Directive(*p) == "replace") {
      merged = CleanPatchValue(*p);
    } else if (merged.IsMapping() && p->IsMapping()) {
      if (Status s = MergeMap(merged, *p, ctx, path); !s) return s;
    } else {
      merged = CleanPatchValue(*p);
    }
    result.push_back(std::move(merged));
  }
  // Target elements without the key keep their place at the end.
  for (Node& item : keyless_target_items) result.push_back(std::move(item));
  for (const Node& item : keyless_patch_items) result.push_back(CleanPatchValue(item));
  target.items() = std::move(result);
  return Status::Ok();
}

Status MergeValue(Node& target, const Node& patch, const std::string& field,
                  const MergeContext& ctx, std::vector<std::string>& path) {
  if (patch.IsMapping()) {
    std::string d = Directive(patch);
    if (d == "replace") {
      target = CleanPatchValue(patch);
      return Status::Ok();
    }
    if (!target.IsMapping()) {
      target = CleanPatchValue(patch);
      return Status::Ok();
    }
    path.push_back(field);
    Status s = MergeMap(target, patch, ctx, path);
    path.pop_back();
    return s;
  }
  if (patch.IsSequence()) {
    if (!target.IsSequence()) {
      target = CleanPatchValue(patch);
      return Status::Ok();
    }
    ListRule rule = RuleFor(ctx, path, field);
    if (!rule.merge) {
      target = CleanPatchValue(patch);
      return Status::Ok();
    }
    path.push_back(field);
    Status s = MergeList(target, patch, rule, ctx, path);
    path.pop_back();
    return s;
  }
  target = patch;
  return Status::Ok();
}

Status MergeMap(Node& target, const Node& patch, const MergeContext& ctx,
                std::vector<std::string>& path) {
  for (const Node::Entry& e : patch.entries()) {
    if (e.key == "$patch" || e.key.starts_with("$setElementOrder") || e.key == "$retainKeys") {
      continue;
    }
    if (e.value.IsNull() || Directive(e.value) == "delete") {
      target.Erase(e.key);
      continue;
    }
    Node* existing = target.Find(e.key);
    if (existing == nullptr) {
      target.entries().push_back(Node::Entry{e.key, CleanPatchValue(e.value), e.key_mark});
      continue;
    }
    if (Status s = MergeValue(*existing, e.value, e.key, ctx, path); !s) return s;
  }
  return Status::Ok();
}

}  // namespace

Status StrategicMerge(Node& target, const Node& patch, const MergeSchema* custom, bool* keep) {
  *keep = true;
  if (!patch.IsMapping() || !target.IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "a strategic merge patch must be a mapping");
  }
  std::string d = Directive(patch);
  if (d == "delete") {
    *keep = false;
    return Status::Ok();
  }
  MergeContext ctx;
  ctx.kind = target.GetString("kind");
  std::string group, version;
  manifest::SplitApiVersion(target.GetString("apiVersion"), &group, &version);
  ctx.builtin = IsBuiltinApiGroup(group);
  ctx.custom = custom;
  if (d == "replace") {
    target = CleanPatchValue(patch);
    return Status::Ok();
  }
  std::vector<std::string> path;
  return MergeMap(target, patch, ctx, path);
}

namespace {

const Node* ResolveRef(const Node& schema, const Node& definitions) {
  const Node* ref = schema.Find("$ref");
  if (ref == nullptr || !ref->IsString()) return &schema;
  constexpr std::string_view kPrefix = "#/definitions/";
  if (!ref->AsString().starts_with(kPrefix)) return nullptr;
  return definitions.Find(ref->AsString().substr(kPrefix.size()));
}

void CollectMergeKeys(const Node& schema, const Node& definitions, const std::string& path,
                      int depth, std::map<std::string, std::string>& out,
                      std::set<std::string>& builtin) {
  if (depth > 32) return;
  const Node* resolved = ResolveRef(schema, definitions);
  if (resolved == nullptr) {
    const Node* ref = schema.Find("$ref");
    if (ref != nullptr && ref->IsString() && ref->AsString().find("io.k8s.") != std::string::npos) {
      builtin.insert(path);
    }
    return;
  }
  if (!resolved->IsMapping()) return;
  const Node* props = resolved->Find("properties");
  if (props == nullptr || !props->IsMapping()) return;
  for (const Node::Entry& e : props->entries()) {
    const Node* field = ResolveRef(e.value, definitions);
    std::string unresolved_path = path.empty() ? e.key : path + "." + e.key;
    if (field == nullptr) {
      CollectMergeKeys(e.value, definitions, unresolved_path, depth + 1, out, builtin);
      continue;
    }
    if (!field->IsMapping()) continue;
    std::string field_path = path.empty() ? e.key : path + "." + e.key;
    if (field->GetString("type") == "array") {
      std::string strategy = field->GetString("x-kubernetes-patch-strategy");
      std::string key = field->GetString("x-kubernetes-patch-merge-key");
      if (strategy.find("merge") != std::string::npos) out[field_path] = key;
      if (const Node* items = field->Find("items"); items != nullptr) {
        CollectMergeKeys(*items, definitions, field_path, depth + 1, out, builtin);
      }
    } else {
      CollectMergeKeys(*field, definitions, field_path, depth + 1, out, builtin);
    }
  }
}

}  // namespace

Result<MergeSchema> ParseMergeSchema(const Node& document, const std::string& file) {
  const Node* definitions = document.IsMapping() ? document.Find("definitions") : nullptr;
  if (definitions == nullptr || !definitions->IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "OpenAPI schema has no `definitions`",
                     Location{file, document.mark().line, document.mark().column, "definitions"});
  }
  MergeSchema schema;
  for (const Node::Entry& def : definitions->entries()) {
    const Node* gvks = def.value.Find("x-kubernetes-group-version-kind");
    if (gvks == nullptr || !gvks->IsSequence()) continue;
    std::map<std::string, std::string> keys;
    std::set<std::string> builtin;
    CollectMergeKeys(def.value, *definitions, "", 0, keys, builtin);
    for (const Node& gvk : gvks->items()) {
      if (!gvk.IsMapping()) continue;
      schema.keys_by_kind[gvk.GetString("kind")] = keys;
      schema.builtin_paths_by_kind[gvk.GetString("kind")] = builtin;
    }
  }
  return schema;
}

}  // namespace keelson::kustomize::internal
