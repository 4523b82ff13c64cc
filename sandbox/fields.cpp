#include "sandbox/fields.h"

#include <algorithm>
#include <map>

namespace keelson::sandbox {

namespace {

// Fields the server owns; they never enter a field set.
bool ServerOwnedMetadata(const std::string& key) {
  static const std::set<std::string> kOwned = {"uid",          "resourceVersion", "generation",
                                               "creationTimestamp", "managedFields", "deletionTimestamp",
                                               "deletionGracePeriodSeconds", "selfLink", "name", "namespace"};
  return kOwned.count(key) != 0;
}

enum class ListShape { kAtomic, kKeyed, kSet };

struct ListInfo {
  ListShape shape = ListShape::kAtomic;
  std::vector<std::string> keys;
};

ListInfo ListInfoFor(const FieldPath& path, const Json& items, bool custom) {
  ListInfo info;
  if (path.empty()) return info;
  const std::string& last = path.back();
  if (path.size() == 2 && path[0] == "f:metadata" && last == "f:finalizers") {
    info.shape = ListShape::kSet;
    return info;
  }
  if (custom) return info;
  static const std::map<std::string, std::vector<std::string>> kKeys = {
      {"f:containers", {"name"}},
      {"f:initContainers", {"name"}},
      {"f:ephemeralContainers", {"name"}},
      {"f:env", {"name"}},
      {"f:volumes", {"name"}},
      {"f:volumeMounts", {"mountPath"}},
      {"f:imagePullSecrets", {"name"}},
      {"f:conditions", {"type"}},
      {"f:hostAliases", {"ip"}},
      {"f:ownerReferences", {"uid"}},
      {"f:resourceClaims", {"name"}},
      {"f:topologySpreadConstraints", {"topologyKey", "whenUnsatisfiable"}},
  };
  std::vector<std::string> keys;
  if (last == "f:ports") {
    bool container = !items.empty() && items[0].is_object() && items[0].contains("containerPort");
    keys = container ? std::vector<std::string>{"containerPort", "protocol"}
                     : std::vector<std::string>{"port", "protocol"};
  } else if (last == "f:versions" && path.size() == 2 && path[0] == "f:spec") {
    keys = {"name"};
  } else {
    auto it = kKeys.find(last);
    if (it == kKeys.end()) return info;
    keys = it->second;
  }
  for (const Json& item : items) {
    if (!item.is_object() || !item.contains(keys[0])) return info;
  }
  info.shape = ListShape::kKeyed;
  info.keys = std::move(keys);
  return info;
}

// "k:" element for an item of a keyed list; protocol defaults to TCP as the
// server defaults it before computing keys.
std::string ItemKey(const Json& item, const std::vector<std::string>& keys) {
  // JSON with the key names sorted, as Go marshals a map.
  std::vector<const std::string*> sorted;
  for (const std::string& k : keys) sorted.push_back(&k);
  std::sort(sorted.begin(), sorted.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  std::string out = "k:{";
  bool first = true;
  for (const std::string* k : sorted) {
    auto it = item.find(*k);
    std::string value;
    if (it != item.end()) {
      value = it->dump();
    } else if (*k == "protocol") {
      value = "\"TCP\"";
    } else {
      continue;
    }
    if (!first) out += ",";
    first = false;
    out += Json(*k).dump() + ":" + value;
  }
  return out + "}";
}

std::string SetItemKey(const Json& item) { return "v:" + item.dump(); }

void Collect(const Json& value, FieldPath& path, FieldSet& out, bool custom) {
  if (value.is_object()) {
    if (value.empty()) {
      out.insert(path);
      return;
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      path.push_back("f:" + it.key());
      Collect(it.value(), path, out, custom);
      path.pop_back();
    }
    return;
  }
  if (value.is_array()) {
    ListInfo info = ListInfoFor(path, value, custom);
    if (info.shape == ListShape::kSet) {
      for (const Json& item : value) {
        path.push_back(SetItemKey(item));
        out.insert(path);
        path.pop_back();
      }
      return;
    }
    if (info.shape == ListShape::kKeyed) {
      for (const Json& item : value) {
        path.push_back(ItemKey(item, info.keys));
        out.insert(path);
        for (auto it = item.begin(); it != item.end(); ++it) {
          path.push_back("f:" + it.key());
          Collect(it.value(), path, out, custom);
          path.pop_back();
        }
        path.pop_back();
      }
      return;
    }
  }
  out.insert(path);
}

// Finds the item of a list that an element names.
Json* FindItem(Json& list, const std::string& element, const FieldPath& list_path, bool custom) {
  if (!list.is_array()) return nullptr;
  ListInfo info = ListInfoFor(list_path, list, custom);
  for (Json& item : list) {
    if (element.starts_with("k:") && info.shape == ListShape::kKeyed && ItemKey(item, info.keys) == element) {
      return &item;
    }
    if (element.starts_with("v:") && SetItemKey(item) == element) return &item;
  }
  return nullptr;
}

void RemovePath(Json& object, const FieldPath& path, bool custom) {
  Json* node = &object;
  FieldPath walked;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const std::string& e = path[i];
    if (e.starts_with("f:")) {
      if (!node->is_object()) return;
      auto it = node->find(e.substr(2));
      if (it == node->end()) return;
      node = &*it;
    } else {
      node = FindItem(*node, e, walked, custom);
      if (node == nullptr) return;
    }
    walked.push_back(e);
  }
  const std::string& last = path.back();
  if (last.starts_with("f:")) {
    if (node->is_object()) node->erase(last.substr(2));
    return;
  }
  if (!node->is_array()) return;
  ListInfo info = ListInfoFor(walked, *node, custom);
  for (auto it = node->begin(); it != node->end(); ++it) {
    bool match = last.starts_with("v:") ? SetItemKey(*it) == last
                                        : info.shape == ListShape::kKeyed && ItemKey(*it, info.keys) == last;
    if (match) {
      node->erase(it);
      return;
    }
  }
}

Json MergeApplied(const Json& live, const Json& config, FieldPath& path, bool custom) {
  if (config.is_object() && live.is_object() && !config.empty()) {
    Json result = live;
    for (auto it = config.begin(); it != config.end(); ++it) {
      path.push_back("f:" + it.key());
      auto existing = result.find(it.key());
      result[it.key()] = MergeApplied(existing == result.end() ? Json() : *existing, it.value(), path, custom);
      path.pop_back();
    }
    return result;
  }
  if (config.is_array() && live.is_array()) {
    ListInfo info = ListInfoFor(path, config, custom);
    ListInfo live_info = ListInfoFor(path, live, custom);
    if (info.shape == ListShape::kSet) {
      Json result = live;
      for (const Json& item : config) {
        if (std::find(result.begin(), result.end(), item) == result.end()) result.push_back(item);
      }
      return result;
    }
    if (info.shape == ListShape::kKeyed && live_info.shape == ListShape::kKeyed) {
      Json result = live;
      for (const Json& item : config) {
        std::string key = ItemKey(item, info.keys);
        path.push_back(key);
        bool merged = false;
        for (Json& existing : result) {
          if (ItemKey(existing, info.keys) == key) {
            existing = MergeApplied(existing, item, path, custom);
            merged = true;
            break;
          }
        }
        if (!merged) result.push_back(item);
        path.pop_back();
      }
      return result;
    }
  }
  return config;
}

bool IsLeafMember(const FieldPath& path) { return !path.empty() && path.back().starts_with("f:"); }

std::string Entry(const Json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : "";
}

Json MakeEntry(const std::string& manager, const std::string& operation, const std::string& api_version,
               const std::string& now, const std::string& subresource, const FieldSet& set) {
  Json entry = Json::object();
  entry["manager"] = manager;
  entry["operation"] = operation;
  entry["apiVersion"] = api_version;
  entry["time"] = now;
  entry["fieldsType"] = "FieldsV1";
  entry["fieldsV1"] = EncodeFieldSet(set);
  if (!subresource.empty()) entry["subresource"] = subresource;
  return entry;
}

}  // namespace

FieldSet FieldSetOf(const Json& object, bool custom) {
  FieldSet out;
  if (!object.is_object()) return out;
  FieldPath path;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (key == "apiVersion" || key == "kind") continue;
    if (key == "metadata" && it->is_object()) {
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (ServerOwnedMetadata(m.key())) continue;
        path = {"f:metadata", "f:" + m.key()};
        Collect(m.value(), path, out, custom);
      }
      continue;
    }
    path = {"f:" + key};
    Collect(it.value(), path, out, custom);
  }
  return out;
}

Json EncodeFieldSet(const FieldSet& set) {
  Json root = Json::object();
  for (const FieldPath& path : set) {
    Json* node = &root;
    for (const std::string& e : path) node = &(*node)[e];
    if (node->is_null()) *node = Json::object();
  }
  // A member that also has children is marked with ".".
  for (const FieldPath& path : set) {
    Json* node = &root;
    for (const std::string& e : path) node = &(*node)[e];
    if (!node->empty() && !node->contains(".")) {
      Json marked = Json::object();
      marked["."] = Json::object();
      for (auto it = node->begin(); it != node->end(); ++it) marked[it.key()] = it.value();
      *node = std::move(marked);
    }
  }
  return root;
}

namespace {
void Decode(const Json& node, FieldPath& path, FieldSet& out, int depth) {
  if (!node.is_object() || depth > 64) return;
  if (node.empty() && !path.empty()) {
    out.insert(path);
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == ".") {
      if (!path.empty()) out.insert(path);
      continue;
    }
    path.push_back(it.key());
    Decode(it.value(), path, out, depth + 1);
    path.pop_back();
  }
}
}  // namespace

FieldSet DecodeFieldSet(const Json& fields_v1) {
  FieldSet out;
  FieldPath path;
  Decode(fields_v1, path, out, 0);
  return out;
}

const Json* ResolvePath(const Json& object, const FieldPath& path, bool custom) {
  const Json* node = &object;
  FieldPath walked;
  for (const std::string& e : path) {
    if (e.starts_with("f:")) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(e.substr(2));
      if (it == node->end()) return nullptr;
      node = &*it;
    } else {
      node = FindItem(const_cast<Json&>(*node), e, walked, custom);
      if (node == nullptr) return nullptr;
    }
    walked.push_back(e);
  }
  return node;
}

std::string PathToString(const FieldPath& path) {
  std::string out;
  for (const std::string& e : path) {
    if (e.starts_with("f:")) {
      out += "." + e.substr(2);
    } else if (e.starts_with("k:")) {
      nlohmann::json key = nlohmann::json::parse(e.substr(2), nullptr, false);
      out += "[";
      bool first = true;
      if (key.is_object()) {
        for (auto it = key.begin(); it != key.end(); ++it) {
          if (!first) out += ",";
          first = false;
          out += it.key() + "=" + it.value().dump();
        }
      }
      out += "]";
    } else {
      out += "[=" + e.substr(2) + "]";
    }
  }
  return out;
}

ApplyOutcome ServerSideApply(const Json& live, const Json& config, const std::string& manager, bool force,
                             const std::string& api_version, bool custom, const std::string& now) {
  ApplyOutcome outcome;
  FieldSet config_set = FieldSetOf(config, custom);
  const Json empty_list = Json::array();
  const Json* managed = &empty_list;
  if (live.is_object() && live.contains("metadata") && live["metadata"].contains("managedFields") &&
      live["metadata"]["managedFields"].is_array()) {
    managed = &live["metadata"]["managedFields"];
  }

  struct Owner {
    Json entry;
    FieldSet set;
    bool self = false;
  };
  std::vector<Owner> owners;
  for (const Json& entry : *managed) {
    if (!entry.is_object()) continue;
    Owner owner{entry, DecodeFieldSet(entry.contains("fieldsV1") ? entry["fieldsV1"] : Json()), false};
    owner.self = Entry(entry, "manager") == manager && Entry(entry, "operation") == "Apply" &&
                 Entry(entry, "subresource").empty();
    owners.push_back(std::move(owner));
  }

  const Json base = live.is_object() ? live : Json::object();
  std::map<const Owner*, FieldSet> lost;
  for (const Owner& owner : owners) {
    if (owner.self) continue;
    for (const FieldPath& p : config_set) {
      if (!IsLeafMember(p) || owner.set.count(p) == 0) continue;
      const Json* want = ResolvePath(config, p, custom);
      const Json* have = ResolvePath(base, p, custom);
      if (want != nullptr && have != nullptr && *want == *have) continue;
      outcome.conflicts.push_back(ApplyConflict{Entry(owner.entry, "manager"), PathToString(p)});
      lost[&owner].insert(p);
    }
  }
  if (!outcome.conflicts.empty() && !force) return outcome;
  outcome.conflicts.clear();

  FieldSet previous;
  FieldSet others;
  for (const Owner& owner : owners) {
    if (owner.self) {
      previous = owner.set;
    } else {
      for (const FieldPath& p : owner.set) {
        if (lost.count(&owner) == 0 || lost[&owner].count(p) == 0) others.insert(p);
      }
    }
  }
  Json result = base;
  std::vector<FieldPath> removals;
  for (const FieldPath& p : previous) {
    if (config_set.count(p) == 0 && others.count(p) == 0) removals.push_back(p);
  }
  // Shallowest first: a removed list item takes its fields with it, and
  // emptying an item first would leave it without the key that finds it.
  std::sort(removals.begin(), removals.end(),
            [](const FieldPath& a, const FieldPath& b) { return a.size() < b.size(); });
  std::vector<FieldPath> removed;
  for (const FieldPath& p : removals) {
    bool under_removed = std::any_of(removed.begin(), removed.end(), [&](const FieldPath& r) {
      return r.size() < p.size() && std::equal(r.begin(), r.end(), p.begin());
    });
    if (under_removed) continue;
    RemovePath(result, p, custom);
    removed.push_back(p);
  }

  Json body = config;
  if (body.contains("metadata") && body["metadata"].is_object()) {
    for (const char* k : {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                          "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}) {
      body["metadata"].erase(k);
    }
  }
  FieldPath path;
  result = MergeApplied(result, body, path, custom);

  Json entries = Json::array();
  bool wrote_self = false;
  for (const Owner& owner : owners) {
    if (owner.self) {
      entries.push_back(MakeEntry(manager, "Apply", api_version, now, "", config_set));
      wrote_self = true;
      continue;
    }
    FieldSet kept;
    for (const FieldPath& p : owner.set) {
      if ((lost.count(&owner) == 0 || lost[&owner].count(p) == 0) && ResolvePath(result, p, custom) != nullptr) {
        kept.insert(p);
      }
    }
    if (kept.empty()) continue;
    Json entry = owner.entry;
    entry["fieldsV1"] = EncodeFieldSet(kept);
    entries.push_back(std::move(entry));
  }
  if (!wrote_self) entries.push_back(MakeEntry(manager, "Apply", api_version, now, "", config_set));
  result["metadata"]["managedFields"] = std::move(entries);
  outcome.object = std::move(result);
  return outcome;
}

Json TrackUpdate(const Json& before, const Json& after, const Json& managed_fields, const std::string& manager,
                 const std::string& subresource, const std::string& api_version, bool custom,
                 const std::string& now) {
  FieldSet after_set = FieldSetOf(after, custom);
  FieldSet changed;
  const Json empty = Json::object();
  const Json& old = before.is_object() ? before : empty;
  for (const FieldPath& p : after_set) {
    const Json* was = ResolvePath(old, p, custom);
    const Json* now_value = ResolvePath(after, p, custom);
    if (was == nullptr) {
      changed.insert(p);
    } else if (IsLeafMember(p) && now_value != nullptr && !(*was == *now_value)) {
      changed.insert(p);
    }
  }
  Json entries = Json::array();
  bool wrote_self = false;
  if (managed_fields.is_array()) {
    for (const Json& entry : managed_fields) {
      if (!entry.is_object()) continue;
      FieldSet set = DecodeFieldSet(entry.contains("fieldsV1") ? entry["fieldsV1"] : Json());
      bool self = Entry(entry, "manager") == manager && Entry(entry, "operation") == "Update" &&
                  Entry(entry, "subresource") == subresource;
      FieldSet kept;
      for (const FieldPath& p : set) {
        if (after_set.count(p) != 0 && (self || changed.count(p) == 0)) kept.insert(p);
      }
      if (self) {
        kept.insert(changed.begin(), changed.end());
        wrote_self = true;
        if (kept.empty()) continue;
        entries.push_back(MakeEntry(manager, "Update", api_version, now, subresource, kept));
        continue;
      }
      if (kept.empty()) continue;
      Json copy = entry;
      copy["fieldsV1"] = EncodeFieldSet(kept);
      entries.push_back(std::move(copy));
    }
  }
  if (!wrote_self && !changed.empty()) {
    entries.push_back(MakeEntry(manager, "Update", api_version, now, subresource, changed));
  }
  return entries;
}

Json MergePatch(const Json& original, const Json& patch) {
  Json result = original;
  result.merge_patch(patch);
  return result;
}

namespace {

std::string SmpMergeKey(const std::string& field, const Json& items) {
  static const std::map<std::string, std::string> kKeys = {
      {"containers", "name"},       {"initContainers", "name"},   {"ephemeralContainers", "name"},
      {"env", "name"},              {"volumes", "name"},          {"volumeMounts", "mountPath"},
      {"imagePullSecrets", "name"}, {"conditions", "type"},       {"hostAliases", "ip"},
      {"ownerReferences", "uid"},   {"topologySpreadConstraints", "topologyKey"},
      {"resourceClaims", "name"},
  };
  if (field == "ports") {
    for (const Json& item : items) {
      if (item.is_object() && item.contains("containerPort")) return "containerPort";
    }
    return "port";
  }
  auto it = kKeys.find(field);
  return it == kKeys.end() ? "" : it->second;
}

bool IsDirective(const std::string& key) { return !key.empty() && key[0] == '$'; }

Json StripDirectives(const Json& value) {
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!IsDirective(it.key())) out[it.key()] = StripDirectives(it.value());
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& item : value) {
      if (item.is_object() && item.contains("$patch")) continue;
      out.push_back(StripDirectives(item));
    }
    return out;
  }
  return value;
}

struct Deleted {};

Result<Json> SmpValue(const Json& original, const Json& patch, const std::string& field, int depth);

Result<Json> SmpList(const Json& original, const Json& patch, const std::string& field, int depth) {
  for (const Json& item : patch) {
    if (item.is_object() && item.contains("$patch") && item["$patch"] == "replace") return StripDirectives(patch);
  }
  if (!original.is_array()) return StripDirectives(patch);
  if (field == "finalizers") {
    Json result = original;
    for (const Json& item : patch) {
      if (std::find(result.begin(), result.end(), item) == result.end()) result.push_back(item);
    }
    return result;
  }
  std::string key = SmpMergeKey(field, patch.empty() ? original : patch);
  if (key.empty()) return StripDirectives(patch);
  Json result = original;
  for (const Json& item : patch) {
    if (!item.is_object() || !item.contains(key)) {
      return MakeError(ErrorCode::kInvalidInput, "list item without its merge key \"" + key + "\"",
                       {"", 0, 0, field});
    }
    auto match = std::find_if(result.begin(), result.end(), [&](const Json& existing) {
      return existing.is_object() && existing.contains(key) && existing[key] == item[key];
    });
    if (item.contains("$patch") && item["$patch"] == "delete") {
      if (match != result.end()) result.erase(match);
      continue;
    }
    if (match == result.end()) {
      result.push_back(StripDirectives(item));
    } else {
      Result<Json> merged = SmpValue(*match, item, field, depth + 1);
      if (!merged.ok()) return merged;
      *match = std::move(merged).value();
    }
  }
  return result;
}

void ApplyOrder(Json& list, const Json& order, const std::string& field) {
  if (!list.is_array() || !order.is_array()) return;
  std::string key = SmpMergeKey(field, list);
  auto identity = [&](const Json& item) -> Json {
    if (!key.empty() && item.is_object() && item.contains(key)) return item[key];
    return item;
  };
  Json sorted = Json::array();
  std::vector<bool> used(list.size(), false);
  for (const Json& wanted : order) {
    Json want = identity(wanted);
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!used[i] && identity(list[i]) == want) {
        sorted.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!used[i]) sorted.push_back(list[i]);
  }
  list = std::move(sorted);
}

Result<Json> SmpValue(const Json& original, const Json& patch, const std::string& field, int depth) {
  if (depth > 100) return MakeError(ErrorCode::kLimitExceeded, "patch nested too deeply");
  if (patch.is_array()) return SmpList(original, patch, field, depth);
  if (!patch.is_object()) return patch;
  if (patch.contains("$patch")) {
    if (patch["$patch"] == "replace") return StripDirectives(patch);
    if (patch["$patch"] == "delete") return Json();  // caller removes the field
  }
  Json result = original.is_object() ? original : Json::object();
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    Json kept = Json::object();
    for (auto it = result.begin(); it != result.end(); ++it) {
      const Json& retain = patch["$retainKeys"];
      if (std::find(retain.begin(), retain.end(), it.key()) != retain.end()) kept[it.key()] = it.value();
    }
    result = std::move(kept);
  }
  std::vector<std::pair<std::string, const Json*>> orders;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k.starts_with("$setElementOrder/")) {
      orders.emplace_back(k.substr(17), &it.value());
      continue;
    }
    if (k.starts_with("$deleteFromPrimitiveList/")) {
      std::string target = k.substr(25);
      if (result.contains(target) && result[target].is_array() && it->is_array()) {
        Json kept = Json::array();
        for (const Json& v : result[target]) {
          if (std::find(it->begin(), it->end(), v) == it->end()) kept.push_back(v);
        }
        result[target] = std::move(kept);
      }
      continue;
    }
    if (IsDirective(k)) continue;
    if (it->is_null()) {
      result.erase(k);
      continue;
    }
    if (it->is_object() && it->contains("$patch") && (*it)["$patch"] == "delete") {
      result.erase(k);
      continue;
    }
    auto existing = result.find(k);
    Result<Json> merged = SmpValue(existing == result.end() ? Json() : *existing, it.value(), k, depth + 1);
    if (!merged.ok()) return merged;
    result[k] = std::move(merged).value();
  }
  for (const auto& [target, order] : orders) {
    if (result.contains(target)) ApplyOrder(result[target], *order, target);
  }
  return result;
}

}  // namespace

Result<Json> StrategicMergePatch(const Json& original, const Json& patch) {
  if (!patch.is_object()) return MakeError(ErrorCode::kInvalidInput, "a strategic merge patch must be an object");
  return SmpValue(original, patch, "", 0);
}

Result<Json> JsonPatch(const Json& original, const Json& patch) {
  if (!patch.is_array()) return MakeError(ErrorCode::kInvalidInput, "a JSON patch must be an array of operations");
  try {
    return original.patch(patch);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("JSON patch failed: ") + e.what());
  }
}

int JsonDepth(const Json& value, int limit) {
  if (limit < 0) return 1;
  int deepest = 0;
  if (value.is_object() || value.is_array()) {
    for (const Json& child : value) {
      deepest = std::max(deepest, JsonDepth(child, limit - 1));
      if (deepest > limit) break;
    }
    return deepest + 1;
  }
  return 0;
}

}  // namespace keelson::sandbox
