// The built-in transformers: namespace, prefix/suffix, labels and
// annotations, images, replicas, patches, name references and ordering.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "renderers/kustomize/internal.h"

namespace keelson::kustomize::internal {

namespace {

std::string EffectiveNamespace(const std::string& ns) { return ns.empty() ? "default" : ns; }

bool NsEquals(const std::string& a, const std::string& b) {
  return EffectiveNamespace(a) == EffectiveNamespace(b);
}

bool IdEquals(const ResId& a, const ResId& b) {
  return a.gvk == b.gvk && a.name == b.name && NsEquals(a.ns, b.ns);
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

void SetMapEntry(Node& map, const std::string& key, const std::string& value) {
  if (!map.IsMapping()) map = Node::Mapping();
  map.Set(key, Node::String(value));
}

}  // namespace

Result<Selector> ParseSelector(const Node& node, const std::string& file,
                               const std::string& field) {
  if (!node.IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "target must be a mapping",
                     Location{file, node.mark().line, node.mark().column, field});
  }
  Selector s;
  s.gvk.group = node.GetString("group");
  s.gvk.version = node.GetString("version");
  s.gvk.kind = node.GetString("kind");
  s.name = node.GetString("name");
  s.ns = node.GetString("namespace");
  s.label_selector = node.GetString("labelSelector");
  s.annotation_selector = node.GetString("annotationSelector");
  return s;
}

Result<std::vector<std::size_t>> Select(const ResourceList& list, const Selector& selector) {
  std::vector<std::size_t> out;
  NamePattern name_pattern(selector.name);
  NamePattern ns_pattern(selector.ns);
  for (std::size_t i = 0; i < list.items().size(); ++i) {
    const Resource& r = list.items()[i];
    ResId cur = r.CurId();
    ResId org = r.OrgId();
    if (!selector.ns.empty() && !ns_pattern.Matches(EffectiveNamespace(org.ns)) &&
        !ns_pattern.Matches(EffectiveNamespace(cur.ns))) {
      continue;
    }
    if (!selector.name.empty() && !name_pattern.Matches(org.name) &&
        !name_pattern.Matches(cur.name)) {
      continue;
    }
    if (!cur.gvk.IsSelectedBy(selector.gvk)) continue;
    if (!selector.label_selector.empty()) {
      Result<bool> m =
          MatchesSelector(r.node.FindPath({"metadata", "labels"}), selector.label_selector);
      if (!m.ok()) return std::move(m).error();
      if (!*m) continue;
    }
    if (!selector.annotation_selector.empty()) {
      Result<bool> m = MatchesSelector(r.node.FindPath({"metadata", "annotations"}),
                                       selector.annotation_selector);
      if (!m.ok()) return std::move(m).error();
      if (!*m) continue;
    }
    out.push_back(i);
  }
  return out;
}

Status ApplyNamespace(ResourceList& list, const std::string& ns,
                      const std::vector<FieldSpec>& specs, bool unset_only,
                      const std::string& subjects_mode) {
  auto setter = [&](Node& n) -> Status {
    if (unset_only && n.IsScalar() && !n.IsNull() && !n.ScalarText().empty()) return Status::Ok();
    if (!n.IsScalar()) return Invalid("namespace field specs must target scalar nodes");
    n = Node::String(ns);
    return Status::Ok();
  };
  for (Resource& r : list.items()) {
    if (r.node.empty()) continue;
    r.StorePreviousId();
    ResId id = r.CurId();
    if (!IsClusterScoped(id.gvk)) {
      FieldSpec meta{{}, "metadata/namespace", true};
      if (Status s = ApplyFieldSpec(r.node, meta, setter); !s) return s;
    }
    bool binding = id.gvk.kind == "RoleBinding" || id.gvk.kind == "ClusterRoleBinding";
    if (binding && subjects_mode != "none") {
      if (Node* subjects = r.node.Find("subjects"); subjects != nullptr && subjects->IsSequence()) {
        for (Node& subject : subjects->items()) {
          if (!subject.IsMapping()) continue;
          bool pick = subjects_mode == "allServiceAccounts"
                          ? subject.GetString("kind") == "ServiceAccount"
                          : subject.GetString("name") == "default";
          if (!pick) continue;
          if (Status s = setter(subject["namespace"]); !s) return s;
        }
      }
    }
    std::string api_version = r.node.GetString("apiVersion");
    for (const FieldSpec& fs : specs) {
      if (!id.gvk.IsSelectedBy(fs.gvk)) continue;
      if (fs.path == "metadata/namespace") continue;
      if (fs.path == "metadata/name" && api_version != "v1") continue;
      if (binding && fs.path == "subjects/namespace") continue;
      if (Status s = ApplyFieldSpec(r.node, fs, setter); !s) return s;
    }
  }
  list.Reindex();
  return Status::Ok();
}

Status ApplyPrefixSuffix(ResourceList& list, const std::string& prefix, const std::string& suffix,
                         const std::vector<FieldSpec>& specs) {
  for (Resource& r : list.items()) {
    ResId id = r.CurId();
    if (id.gvk.kind == "CustomResourceDefinition" || id.gvk.kind == "Namespace" ||
        (id.gvk.kind == "APIService" && id.gvk.group == "apiregistration.k8s.io")) {
      continue;
    }
    bool touched = false;
    for (const FieldSpec& fs : specs) {
      if (!id.gvk.IsSelectedBy(fs.gvk)) continue;
      if (!touched) {
        r.StorePreviousId();
        if (!prefix.empty()) r.prefixes.push_back(prefix);
        if (!suffix.empty()) r.suffixes.push_back(suffix);
        touched = true;
      }
      Status s = ApplyFieldSpec(r.node, fs, [&](Node& n) -> Status {
        if (!n.IsScalar()) return Status::Ok();
        n = Node::String(prefix + n.ScalarText() + suffix);
        return Status::Ok();
      });
      if (!s) return s;
    }
  }
  list.Reindex();
  return Status::Ok();
}

Status ApplyStringMap(ResourceList& list, const Node& pairs, const std::vector<FieldSpec>& specs) {
  if (!pairs.IsMapping() || pairs.empty()) return Status::Ok();
  for (Resource& r : list.items()) {
    ResId id = r.CurId();
    Status s = ApplyFieldSpecs(r.node, id, specs, [&](Node& n) -> Status {
      if (!n.IsMapping() && !n.IsNull()) {
        return Invalid("expected a mapping at a label or annotation field of " + id.ToString());
      }
      for (const Node::Entry& e : pairs.entries()) {
        SetMapEntry(n, e.key, e.value.IsScalar() ? e.value.ScalarText() : "");
      }
      return Status::Ok();
    });
    if (!s) return s;
  }
  return Status::Ok();
}

namespace {

void SplitImage(const std::string& image, std::string* name, std::string* tag,
                std::string* digest) {
  tag->clear();
  digest->clear();
  std::size_t slash = image.find('/');
  std::size_t base = slash != std::string::npos && slash > 0 ? slash : 0;
  std::string search = image.substr(base);
  std::size_t at = search.find('@');
  std::size_t colon = search.find(':');
  if (at == std::string::npos && colon == std::string::npos) {
    *name = image;
    return;
  }
  if (at != std::string::npos && (colon == std::string::npos || at < colon)) {
    *name = image.substr(0, base + at);
    *digest = image.substr(base + at + 1);
    return;
  }
  if (at != std::string::npos) {
    *name = image.substr(0, base + colon);
    *tag = image.substr(base + colon + 1, at - colon - 1);
    *digest = image.substr(base + at + 1);
    return;
  }
  *name = image.substr(0, base + colon);
  *tag = image.substr(base + colon + 1);
}

bool ImageMatches(const std::string& image, const std::string& name) {
  if (!image.starts_with(name)) return false;
  std::string rest = image.substr(name.size());
  if (rest.starts_with("@sha256")) rest = rest.substr(7);
  if (rest.empty()) return true;
  if (rest[0] != ':') return false;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    char c = rest[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '{' ||
          c == '}' || c == '-')) {
      return false;
    }
  }
  return true;
}

struct ImageEdit {
  std::string name, new_name, new_tag, digest, tag_suffix;
};

void UpdateImage(Node& n, const ImageEdit& edit) {
  if (!n.IsString()) return;
  const std::string& value = n.AsString();
  if (!ImageMatches(value, edit.name)) return;
  std::string name, tag, digest;
  SplitImage(value, &name, &tag, &digest);
  if (!edit.new_name.empty()) name = edit.new_name;
  if (!edit.new_tag.empty() && !edit.digest.empty()) {
    tag = edit.new_tag;
    digest = edit.digest;
  } else if (!edit.new_tag.empty()) {
    tag = edit.new_tag;
    digest.clear();
  } else if (!edit.digest.empty()) {
    tag.clear();
    digest = edit.digest;
  }
  if (!edit.tag_suffix.empty()) tag += edit.tag_suffix;
  std::string out = name;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  n = Node::String(out);
}

void UpdateContainersEverywhere(Node& node, const ImageEdit& edit) {
  if (node.IsMapping()) {
    for (Node::Entry& e : node.entries()) {
      if ((e.key == "containers" || e.key == "initContainers") && e.value.IsSequence()) {
        for (Node& c : e.value.items()) {
          if (Node* image = c.IsMapping() ? c.Find("image") : nullptr; image != nullptr) {
            UpdateImage(*image, edit);
          }
        }
      } else {
        UpdateContainersEverywhere(e.value, edit);
      }
    }
  } else if (node.IsSequence()) {
    for (Node& item : node.items()) UpdateContainersEverywhere(item, edit);
  }
}

}  // namespace

Status ApplyImage(ResourceList& list, const Node& image, const std::vector<FieldSpec>& specs) {
  ImageEdit edit;
  edit.name = image.GetString("name");
  edit.new_name = image.GetString("newName");
  if (const Node* t = image.Find("newTag"); t != nullptr && t->IsScalar()) {
    edit.new_tag = t->ScalarText();
  }
  edit.digest = image.GetString("digest");
  edit.tag_suffix = image.GetString("tagSuffix");
  if (edit.name.empty()) return Status::Ok();
  for (Resource& r : list.items()) {
    UpdateContainersEverywhere(r.node, edit);
    ResId id = r.CurId();
    Status s = ApplyFieldSpecs(r.node, id, specs, [&](Node& n) -> Status {
      if (n.IsNull()) return Status::Ok();
      UpdateImage(n, edit);
      return Status::Ok();
    });
    if (!s) return s;
  }
  return Status::Ok();
}

Status ApplyReplicas(ResourceList& list, const std::string& name, const Node& count,
                     const std::vector<FieldSpec>& specs) {
  for (Resource& r : list.items()) {
    bool match = false;
    for (const ResId& id : r.AllIds()) match = match || id.name == name;
    if (!match) continue;
    ResId id = r.CurId();
    Status s = ApplyFieldSpecs(r.node, id, specs, [&](Node& n) -> Status {
      n = count;
      return Status::Ok();
    });
    if (!s) return s;
  }
  return Status::Ok();
}

Status ApplyStrategicPatch(ResourceList& list, const Node& patch, const Selector* target,
                           const PatchOptions& options, const MergeSchema* schema) {
  std::vector<std::size_t> picked;
  Node patch_copy = patch;
  if (target == nullptr) {
    ResId pid = IdOf(patch);
    for (std::size_t i = 0; i < list.items().size(); ++i) {
      for (const ResId& id : list.items()[i].AllIds()) {
        if (IdEquals(id, pid)) {
          picked.push_back(i);
          break;
        }
      }
    }
    if (picked.size() != 1) {
      std::string why = picked.empty() ? "no matches" : "multiple matches";
      return MakeError(picked.empty() ? ErrorCode::kNotFound : ErrorCode::kInvalidInput,
                       "no resource matches strategic merge patch \"" + pid.ToString() +
                           "\": " + why + " for Id " + pid.ToString() +
                           "; failed to find unique target for patch " + pid.ToString());
    }
  } else {
    Result<std::vector<std::size_t>> sel = Select(list, *target);
    if (!sel.ok()) return std::move(sel).error();
    picked = std::move(sel).value();
  }
  std::vector<std::size_t> deleted;
  for (std::size_t i : picked) {
    Resource& r = list.items()[i];
    Node p = patch_copy;
    if (target != nullptr && p.IsMapping()) {
      // A targeted patch takes the apiVersion of each resource it patches.
      p.Set("apiVersion", Node::String(r.node.GetString("apiVersion")));
    }
    std::string name = r.Name(), ns = r.Namespace(), kind = r.node.GetString("kind");
    if (options.allow_name_change || options.allow_kind_change) r.StorePreviousId();
    bool keep = true;
    if (Status s = StrategicMerge(r.node, p, schema, &keep); !s) return s;
    if (!keep || r.node.empty()) {
      deleted.push_back(i);
      continue;
    }
    if (!options.allow_kind_change) r.node.Set("kind", Node::String(kind));
    if (!options.allow_name_change) r.SetName(name);
    if (ns.empty()) {
      if (Node* meta = r.node.Find("metadata"); meta != nullptr && meta->IsMapping()) {
        meta->Erase("namespace");
      }
    } else {
      r.SetNamespace(ns);
    }
  }
  for (auto it = deleted.rbegin(); it != deleted.rend(); ++it) {
    list.items().erase(list.items().begin() + static_cast<long>(*it));
  }
  list.Reindex();
  return Status::Ok();
}

Status ApplyJson6902(ResourceList& list, const Node& operations, const Selector& target) {
  Result<std::vector<std::size_t>> sel = Select(list, target);
  if (!sel.ok()) return std::move(sel).error();
  for (std::size_t i : *sel) {
    Resource& r = list.items()[i];
    r.StorePreviousId();
    // Kustomize keeps its bookkeeping in metadata.annotations, so during a
    // build that map always exists and patches may add to it.
    Node* meta = r.node.Find("metadata");
    bool added_annotations = false;
    if (meta != nullptr && meta->IsMapping() && meta->Find("annotations") == nullptr) {
      meta->Set("annotations", Node::Mapping());
      added_annotations = true;
    }
    if (Status s = ApplyJsonPatch(r.node, operations); !s) {
      Error e = std::move(s).error();
      e.message = "unable to apply JSON patch to " + r.CurId().ToString() + ": " + e.message;
      return e;
    }
    if (r.Name().empty()) {
      return MakeError(ErrorCode::kInvalidInput,
                       "JSON patch to " + r.previous_ids.back().ToString() +
                           " left a resource with no metadata.name");
    }
    if (added_annotations) {
      meta = r.node.Find("metadata");
      if (meta != nullptr && meta->IsMapping()) {
        if (const Node* a = meta->Find("annotations");
            a != nullptr && a->IsMapping() && a->empty()) {
          meta->Erase("annotations");
        }
      }
    }
  }
  list.Reindex();
  return Status::Ok();
}

namespace {

bool SameEndingSubSlice(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::size_t n = std::min(a.size(), b.size());
  if (n == 0) return a.empty() && b.empty();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[a.size() - 1 - i] != b[b.size() - 1 - i]) return false;
  }
  return true;
}

bool PrefixesSuffixesEqual(const Resource& r, const Resource& o, bool allow_empty) {
  if (allow_empty) {
    bool prefix_ok =
        r.prefixes.empty() || o.prefixes.empty() || SameEndingSubSlice(r.prefixes, o.prefixes);
    bool suffix_ok =
        r.suffixes.empty() || o.suffixes.empty() || SameEndingSubSlice(r.suffixes, o.suffixes);
    return prefix_ok && suffix_ok;
  }
  return SameEndingSubSlice(r.prefixes, o.prefixes) && SameEndingSubSlice(r.suffixes, o.suffixes);
}

// Lookups for name references, built once per pass: names never change
// while references are fixed, only the referring fields do.
struct ReferenceIndex {
  std::vector<ResId> cur_ids;
  std::vector<bool> cluster_scoped;
  // Resources by a name they had before: all, namespaced ones by that name
  // and their current (effective) namespace, cluster-scoped ones.
  std::unordered_map<std::string, std::vector<std::size_t>> by_previous_name;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_and_namespace;
  std::unordered_map<std::string, std::vector<std::size_t>> cluster_scoped_by_name;
  // "original namespace \0 current namespace" pairs present, and original
  // namespaces that hold a cluster-scoped resource.
  std::unordered_set<std::string> org_cur_namespaces;
  std::unordered_set<std::string> org_namespaces_with_cluster_scoped;
  std::unordered_set<std::string> org_namespaces;

  static std::string Key(const std::string& a, const std::string& b) { return a + '\0' + b; }
};

struct Referral {
  ResourceList* list;
  const ReferenceIndex* index;
  std::size_t referrer_index;
  const Resource* referrer;
  std::set<std::string> binding_namespaces;  // subjects' namespaces of a RoleBinding
  Gvk target;
  std::string path;

  // Kustomize's rule for which resources a referrer may refer to.
  bool MayReferTo(std::size_t i) const {
    if (index->cluster_scoped[referrer_index]) return true;
    const ResId& id = index->cur_ids[i];
    return index->cluster_scoped[i] || NsEquals(id.ns, index->cur_ids[referrer_index].ns) ||
           binding_namespaces.contains(id.ns);
  }

  // Resources once named `name` that this referrer may refer to, in list
  // order, found through the index rather than by scanning everything.
  std::vector<std::size_t> Candidates(const std::string& name) const {
    std::vector<std::size_t> out;
    if (index->cluster_scoped[referrer_index]) {
      if (auto it = index->by_previous_name.find(name); it != index->by_previous_name.end()) {
        out = it->second;
      }
      return out;
    }
    auto add = [&](const std::unordered_map<std::string, std::vector<std::size_t>>& map,
                   const std::string& key) {
      if (auto it = map.find(key); it != map.end())
        out.insert(out.end(), it->second.begin(), it->second.end());
    };
    add(index->cluster_scoped_by_name, name);
    std::set<std::string> namespaces = {EffectiveNamespace(index->cur_ids[referrer_index].ns)};
    for (const std::string& ns : binding_namespaces) namespaces.insert(EffectiveNamespace(ns));
    for (const std::string& ns : namespaces)
      add(index->by_name_and_namespace, ReferenceIndex::Key(name, ns));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Whether some resource this referrer may refer to was originally in `ns`.
  bool AnyReferableInOrgNamespace(const std::string& ns) const {
    if (index->cluster_scoped[referrer_index]) return index->org_namespaces.contains(ns);
    if (index->org_namespaces_with_cluster_scoped.contains(ns)) return true;
    if (index->org_cur_namespaces.contains(
            ReferenceIndex::Key(ns, EffectiveNamespace(index->cur_ids[referrer_index].ns)))) {
      return true;
    }
    for (const std::string& b : binding_namespaces) {
      if (index->org_cur_namespaces.contains(ReferenceIndex::Key(ns, EffectiveNamespace(b))))
        return true;
    }
    return false;
  }
};

// Picks the resource a name refers to. `namespace_filter` narrows the pool
// when the reference carries a namespace.
Result<long> SelectReferral(const Referral& ref, const std::string& old_name,
                            const std::string* namespace_filter, bool compare_namespaces) {
  auto& items = ref.list->items();
  bool use_org_namespace =
      namespace_filter != nullptr && ref.AnyReferableInOrgNamespace(*namespace_filter);
  std::vector<std::size_t> c;
  for (std::size_t i : ref.Candidates(old_name)) {
    if (!ref.MayReferTo(i)) continue;
    if (namespace_filter != nullptr) {
      const std::string& ns = use_org_namespace ? items[i].OrgId().ns : ref.index->cur_ids[i].ns;
      if (EffectiveNamespace(ns) != *namespace_filter) continue;
    }
    bool gvk_ok = false;
    for (const ResId& id : items[i].previous_ids)
      gvk_ok = gvk_ok || id.gvk.IsSelectedBy(ref.target);
    if (gvk_ok) c.push_back(i);
  }
  if (ref.path.ends_with("roleRef/name")) {
    const Node* role_ref = ref.referrer->node.Find("roleRef");
    if (role_ref != nullptr && role_ref->IsMapping() && role_ref->Find("apiGroup") != nullptr &&
        role_ref->Find("kind") != nullptr) {
      Gvk want{role_ref->GetString("apiGroup"), "", role_ref->GetString("kind")};
      std::vector<std::size_t> kept;
      for (std::size_t i : c) {
        for (const ResId& id : items[i].previous_ids) {
          if (id.gvk.IsSelectedBy(want)) {
            kept.push_back(i);
            break;
          }
        }
      }
      c = std::move(kept);
    }
  }
  const ResId& referrer_id = ref.index->cur_ids[ref.referrer_index];
  if (!IsClusterScoped(referrer_id.gvk)) {
    std::vector<std::size_t> kept;
    for (std::size_t i : c) {
      const ResId& id = ref.index->cur_ids[i];
      if (IsClusterScoped(id.gvk) || id.gvk.kind == "ServiceAccount" ||
          NsEquals(id.ns, referrer_id.ns)) {
        kept.push_back(i);
      }
    }
    c = std::move(kept);
  }
  if (c.size() == 1) return static_cast<long>(c[0]);
  auto sieve = [&](bool allow_empty) {
    std::vector<std::size_t> kept;
    for (std::size_t i : c) {
      if (PrefixesSuffixesEqual(items[i], *ref.referrer, allow_empty)) kept.push_back(i);
    }
    c = std::move(kept);
  };
  sieve(true);
  if (c.size() > 1) sieve(false);
  if (c.size() == 1) return static_cast<long>(c[0]);
  if (c.empty()) return -1;
  bool identical = true;
  for (std::size_t i : c) {
    identical = identical && items[i].Name() == items[c[0]].Name() &&
                (!compare_namespaces || items[i].Namespace() == items[c[0]].Namespace());
  }
  if (identical) return static_cast<long>(c[0]);
  std::string ids;
  for (std::size_t i : c) {
    if (!ids.empty()) ids += ", ";
    ids += ref.index->cur_ids[i].ToString();
  }
  return Invalid("found multiple possible referrals: " + ids);
}

Status SetReference(const Referral& ref, Node& n) {
  auto& items = ref.list->items();
  if (n.IsNull()) return Status::Ok();
  if (n.IsScalar()) {
    Result<long> pick = SelectReferral(ref, n.ScalarText(), nullptr, false);
    if (!pick.ok()) return std::move(pick).error();
    if (*pick < 0) return Status::Ok();
    std::string name = items[static_cast<std::size_t>(*pick)].Name();
    if (name != n.ScalarText()) n = Node::String(name);
    return Status::Ok();
  }
  if (n.IsMapping()) {
    const Node* name_node = n.Find("name");
    if (name_node == nullptr) {
      return Invalid("path config error; no 'name' field in node");
    }
    std::optional<std::string> want_ns;
    if (const Node* ns_node = n.Find("namespace"); ns_node != nullptr && ns_node->IsScalar()) {
      want_ns = ns_node->ScalarText();
      if (want_ns->empty()) {
        return Invalid("Invalid Input: namespace is blank for resource \"" +
                       ref.referrer->CurId().ToString() + "\"");
      }
    }
    std::string old_name = name_node->IsScalar() ? name_node->ScalarText() : "";
    Result<long> pick = SelectReferral(ref, old_name, want_ns ? &*want_ns : nullptr, true);
    if (!pick.ok()) return std::move(pick).error();
    if (*pick < 0) return Status::Ok();
    const Resource& target = items[static_cast<std::size_t>(*pick)];
    std::string ns = target.Namespace();
    if (target.Name() == old_name && ns.empty()) return Status::Ok();
    n.Set("name", Node::String(target.Name()));
    if (!ns.empty()) n.Set("namespace", Node::String(ns));
    return Status::Ok();
  }
  if (n.IsSequence()) {
    for (Node& item : n.items()) {
      if (Status s = SetReference(ref, item); !s) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

Status FixNameReferences(ResourceList& list, const TransformerConfig& config) {
  auto& items = list.items();
  ReferenceIndex index;
  index.cur_ids.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    index.cur_ids.push_back(items[i].CurId());
    bool cluster = IsClusterScoped(index.cur_ids[i].gvk);
    index.cluster_scoped.push_back(cluster);
    std::string cur_ns = EffectiveNamespace(index.cur_ids[i].ns);
    std::string org_ns = EffectiveNamespace(items[i].OrgId().ns);
    std::set<std::string> names;
    for (const ResId& id : items[i].previous_ids) names.insert(id.name);
    for (const std::string& name : names) {
      index.by_previous_name[name].push_back(i);
      if (cluster) {
        index.cluster_scoped_by_name[name].push_back(i);
      } else {
        index.by_name_and_namespace[ReferenceIndex::Key(name, cur_ns)].push_back(i);
      }
    }
    index.org_namespaces.insert(org_ns);
    index.org_cur_namespaces.insert(ReferenceIndex::Key(org_ns, cur_ns));
    if (cluster) index.org_namespaces_with_cluster_scoped.insert(org_ns);
  }
  for (std::size_t ri = 0; ri < items.size(); ++ri) {
    ResId org = items[ri].OrgId();
    std::optional<Referral> ref;
    for (const TransformerConfig::NameReference& back_ref : config.name_reference) {
      for (const FieldSpec& fs : back_ref.field_specs) {
        if (!org.gvk.IsSelectedBy(fs.gvk)) continue;
        if (!ref) {
          ref.emplace();
          ref->list = &list;
          ref->index = &index;
          ref->referrer_index = ri;
          ref->referrer = &items[ri];
          if (index.cur_ids[ri].gvk.kind == "RoleBinding") {
            if (const Node* subjects = items[ri].node.Find("subjects");
                subjects != nullptr && subjects->IsSequence()) {
              for (const Node& subject : subjects->items()) {
                if (subject.IsMapping())
                  ref->binding_namespaces.insert(subject.GetString("namespace"));
              }
            }
          }
        }
        ref->target = back_ref.referral;
        ref->path = fs.path;
        FieldSpec spec = fs;
        spec.create = false;
        Status s =
            ApplyFieldSpec(items[ri].node, spec, [&](Node& n) { return SetReference(*ref, n); });
        if (!s) {
          Error e = std::move(s).error();
          e.message = "updating name reference in '" + fs.path + "' field of '" +
                      index.cur_ids[ri].ToString() + "': " + e.message;
          return e;
        }
      }
    }
  }
  return Status::Ok();
}

const std::vector<std::string>& DefaultOrderFirst() {
  static const std::vector<std::string> kOrder = {"Namespace",
                                                  "ResourceQuota",
                                                  "StorageClass",
                                                  "CustomResourceDefinition",
                                                  "ServiceAccount",
                                                  "PodSecurityPolicy",
                                                  "Role",
                                                  "ClusterRole",
                                                  "RoleBinding",
                                                  "ClusterRoleBinding",
                                                  "ConfigMap",
                                                  "Secret",
                                                  "Endpoints",
                                                  "Service",
                                                  "LimitRange",
                                                  "PriorityClass",
                                                  "PersistentVolume",
                                                  "PersistentVolumeClaim",
                                                  "Deployment",
                                                  "StatefulSet",
                                                  "CronJob",
                                                  "PodDisruptionBudget"};
  return kOrder;
}

const std::vector<std::string>& DefaultOrderLast() {
  static const std::vector<std::string> kOrder = {"MutatingWebhookConfiguration",
                                                  "ValidatingWebhookConfiguration"};
  return kOrder;
}

void SortLegacy(std::vector<Resource>& items, const std::vector<std::string>& order_first,
                const std::vector<std::string>& order_last) {
  std::map<std::string, int> orders;
  for (std::size_t i = 0; i < order_first.size(); ++i) {
    orders[order_first[i]] = -static_cast<int>(order_first.size()) + static_cast<int>(i);
  }
  for (std::size_t i = 0; i < order_last.size(); ++i)
    orders[order_last[i]] = 1 + static_cast<int>(i);
  struct Key {
    int order;
    std::string gvk;  // legacy gvk sort string
    std::string id;   // legacy id sort string
    bool namespace_core;
  };
  std::vector<std::pair<Key, std::size_t>> keys;
  for (std::size_t i = 0; i < items.size(); ++i) {
    ResId id = items[i].CurId();
    auto it = orders.find(id.gvk.kind);
    Key k;
    k.order = it == orders.end() ? 0 : it->second;
    k.gvk = (id.gvk.group.empty() ? "~G" : id.gvk.group) + "_" +
            (id.gvk.version.empty() ? "~V" : id.gvk.version) + "_" +
            (id.gvk.kind.empty() ? "~K" : id.gvk.kind);
    k.id = id.gvk.ToString() + "|" + (id.ns.empty() ? "~X" : id.ns) + "|" +
           (id.name.empty() ? "~N" : id.name);
    k.namespace_core = id.gvk.kind == "Namespace";
    keys.emplace_back(std::move(k), i);
  }
  auto less = [](const std::pair<Key, std::size_t>& a, const std::pair<Key, std::size_t>& b) {
    const Key& x = a.first;
    const Key& y = b.first;
    if (x.gvk != y.gvk) {
      if (x.order != y.order) return x.order < y.order;
      bool either_core = x.gvk.starts_with("~G_") || y.gvk.starts_with("~G_");
      if (x.namespace_core && y.namespace_core && either_core) return x.gvk > y.gvk;
      return x.gvk < y.gvk;
    }
    return x.id < y.id;
  };
  std::stable_sort(keys.begin(), keys.end(), less);
  std::vector<Resource> sorted;
  sorted.reserve(items.size());
  for (auto& [k, i] : keys) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

}  // namespace keelson::kustomize::internal
