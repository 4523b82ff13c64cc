#include <algorithm>
#include <unordered_set>

#include "renderers/kustomize/internal.h"
#include "renderers/manifest/yaml.h"

namespace keelson::kustomize::internal {

std::string Gvk::ToString() const {
  return (kind.empty() ? "[noKind]" : kind) + "." + (version.empty() ? "[noVer]" : version) + "." +
         (group.empty() ? "[noGrp]" : group);
}

bool Gvk::IsSelectedBy(const Gvk& selector) const {
  if (!selector.group.empty() && selector.group != group) return false;
  if (!selector.version.empty() && selector.version != version) return false;
  if (!selector.kind.empty() && selector.kind != kind) return false;
  return true;
}

std::string ResId::ToString() const {
  return gvk.ToString() + "/" + name + "." + (ns.empty() ? "[noNs]" : ns);
}

ResId IdOf(const Node& node) {
  ResId id;
  manifest::SplitApiVersion(node.GetString("apiVersion"), &id.gvk.group, &id.gvk.version);
  id.gvk.kind = node.GetString("kind");
  if (const Node* meta = node.Find("metadata"); meta != nullptr && meta->IsMapping()) {
    if (const Node* n = meta->Find("name"); n != nullptr && n->IsScalar())
      id.name = n->ScalarText();
    if (const Node* n = meta->Find("namespace"); n != nullptr && n->IsScalar()) {
      id.ns = n->ScalarText();
    }
  }
  return id;
}

bool IsClusterScoped(const Gvk& gvk) {
  // Cluster-scoped built-in kinds and their groups; a kind of the same name
  // in another group (a CRD) is namespaced.
  static const std::unordered_map<std::string_view, std::vector<std::string_view>> kKinds = {
      {"APIService", {"apiregistration.k8s.io"}},
      {"CSIDriver", {"storage.k8s.io"}},
      {"CSINode", {"storage.k8s.io"}},
      {"CertificateSigningRequest", {"certificates.k8s.io"}},
      {"ClusterRole", {"rbac.authorization.k8s.io"}},
      {"ClusterRoleBinding", {"rbac.authorization.k8s.io"}},
      {"ClusterTrustBundle", {"certificates.k8s.io"}},
      {"ComponentStatus", {""}},
      {"CustomResourceDefinition", {"apiextensions.k8s.io"}},
      {"FlowSchema", {"flowcontrol.apiserver.k8s.io"}},
      {"IngressClass", {"networking.k8s.io"}},
      {"MutatingWebhookConfiguration", {"admissionregistration.k8s.io"}},
      {"Namespace", {""}},
      {"Node", {""}},
      {"PersistentVolume", {""}},
      {"PodSecurityPolicy", {"extensions", "policy"}},
      {"PriorityClass", {"scheduling.k8s.io"}},
      {"PriorityLevelConfiguration", {"flowcontrol.apiserver.k8s.io"}},
      {"RuntimeClass", {"node.k8s.io"}},
      {"SelfSubjectAccessReview", {"authorization.k8s.io"}},
      {"SelfSubjectReview", {"authentication.k8s.io"}},
      {"SelfSubjectRulesReview", {"authorization.k8s.io"}},
      {"StorageClass", {"storage.k8s.io"}},
      {"SubjectAccessReview", {"authorization.k8s.io"}},
      {"TokenReview", {"authentication.k8s.io"}},
      {"ValidatingAdmissionPolicy", {"admissionregistration.k8s.io"}},
      {"ValidatingAdmissionPolicyBinding", {"admissionregistration.k8s.io"}},
      {"ValidatingWebhookConfiguration", {"admissionregistration.k8s.io"}},
      {"VolumeAttachment", {"storage.k8s.io"}},
  };
  auto it = kKinds.find(gvk.kind);
  if (it == kKinds.end()) return false;
  return std::find(it->second.begin(), it->second.end(), gvk.group) != it->second.end();
}

void Resource::StorePreviousId() { previous_ids.push_back(CurId()); }

std::string Resource::Name() const {
  const Node* n = node.FindPath({"metadata", "name"});
  return n != nullptr && n->IsScalar() ? n->ScalarText() : "";
}

std::string Resource::Namespace() const {
  const Node* n = node.FindPath({"metadata", "namespace"});
  return n != nullptr && n->IsScalar() ? n->ScalarText() : "";
}

void Resource::SetName(const std::string& name) {
  Node& meta = node["metadata"];
  if (!meta.IsMapping()) meta = Node::Mapping();
  meta.Set("name", Node::String(name));
}

void Resource::SetNamespace(const std::string& ns) {
  Node& meta = node["metadata"];
  if (!meta.IsMapping()) meta = Node::Mapping();
  meta.Set("namespace", Node::String(ns));
}

std::vector<ResId> Resource::AllIds() const {
  std::vector<ResId> ids = previous_ids;
  ids.push_back(CurId());
  return ids;
}

Status ResourceList::Append(Resource r) {
  ResId id = r.CurId();
  std::string key = id.ToString();
  if (index_.contains(key)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "may not add resource with an already registered id: " + key);
  }
  index_.emplace(std::move(key), items_.size());
  items_.push_back(std::move(r));
  return Status::Ok();
}

long ResourceList::Find(const ResId& id) const {
  auto it = index_.find(id.ToString());
  return it == index_.end() ? -1 : static_cast<long>(it->second);
}

void ResourceList::Reindex() {
  index_.clear();
  for (std::size_t i = 0; i < items_.size(); ++i) {
    index_.emplace(items_[i].CurId().ToString(), i);
  }
}

std::vector<std::string> SplitFieldPath(std::string_view path) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size() && path[i + 1] == '/') {
      cur += '/';
      ++i;
    } else if (path[i] == '/') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += path[i];
    }
  }
  out.push_back(std::move(cur));
  return out;
}

namespace {

Status ApplyAt(Node& node, const std::vector<std::string>& segs, std::size_t i, bool create,
               const std::function<Status(Node&)>& fn) {
  if (i == segs.size()) return fn(node);
  if (node.IsSequence()) {
    for (Node& item : node.items()) {
      if (Status s = ApplyAt(item, segs, i, create, fn); !s) return s;
    }
    return Status::Ok();
  }
  std::string seg = segs[i];
  bool list = false;
  if (seg.ends_with("[]")) {
    seg.resize(seg.size() - 2);
    list = true;
  }
  if (!node.IsMapping()) return Status::Ok();
  Node* child = node.Find(seg);
  if (child == nullptr || child->IsNull()) {
    if (!create) return Status::Ok();
    if (list) return Status::Ok();
    // Nothing is created on the way to a list: there would be no element
    // to set the field in.
    for (std::size_t j = i + 1; j < segs.size(); ++j) {
      if (segs[j].ends_with("[]")) return Status::Ok();
    }
    if (i + 1 == segs.size()) {
      Node& created = node[seg];
      return fn(created);
    }
    node.Set(seg, Node::Mapping());
    child = node.Find(seg);
  }
  if (list) {
    if (!child->IsSequence()) return Status::Ok();
    for (Node& item : child->items()) {
      if (Status s = ApplyAt(item, segs, i + 1, create, fn); !s) return s;
    }
    return Status::Ok();
  }
  return ApplyAt(*child, segs, i + 1, create, fn);
}

std::vector<FieldSpec> ParseSpecList(const Node* list) {
  std::vector<FieldSpec> out;
  if (list == nullptr || !list->IsSequence()) return out;
  for (const Node& item : list->items()) {
    if (!item.IsMapping()) continue;
    FieldSpec fs;
    fs.gvk.group = item.GetString("group");
    fs.gvk.version = item.GetString("version");
    fs.gvk.kind = item.GetString("kind");
    fs.path = item.GetString("path");
    if (const Node* c = item.Find("create"); c != nullptr && c->IsBool()) fs.create = c->AsBool();
    out.push_back(std::move(fs));
  }
  return out;
}

// Kustomize's order of field specs: kinds in the legacy resource order,
// then group, version and kind with empty parts last.
bool GvkLess(const Gvk& a, const Gvk& b) {
  auto order = [](const std::string& kind) {
    const std::vector<std::string>& first = DefaultOrderFirst();
    const std::vector<std::string>& last = DefaultOrderLast();
    for (std::size_t i = 0; i < first.size(); ++i) {
      if (first[i] == kind) return -static_cast<int>(first.size()) + static_cast<int>(i);
    }
    for (std::size_t i = 0; i < last.size(); ++i) {
      if (last[i] == kind) return 1 + static_cast<int>(i);
    }
    return 0;
  };
  int oa = order(a.kind), ob = order(b.kind);
  if (oa != ob) return oa < ob;
  auto key = [](const Gvk& g) {
    return (g.group.empty() ? "~G" : g.group) + "_" + (g.version.empty() ? "~V" : g.version) + "_" +
           (g.kind.empty() ? "~K" : g.kind);
  };
  return key(a) < key(b);
}

// Adds the specs of `from` that are not "effectively equal" to one already
// there: same path, and the existing spec's kind is selected by the new
// one's. (A general spec is dropped when a more specific one with its path
// came first, as Kustomize does.) The result is kept in Kustomize's order.
void MergeSpecs(std::vector<FieldSpec>& into, const std::vector<FieldSpec>& from) {
  std::unordered_map<std::string, std::vector<const Gvk*>> by_path;
  std::vector<FieldSpec> added;
  for (const FieldSpec& fs : into) by_path[fs.path].push_back(&fs.gvk);
  for (const FieldSpec& fs : from) {
    bool dup = false;
    if (auto it = by_path.find(fs.path); it != by_path.end()) {
      for (const Gvk* g : it->second) dup = dup || g->IsSelectedBy(fs.gvk);
    }
    for (const FieldSpec& a : added) dup = dup || (a.path == fs.path && a.gvk.IsSelectedBy(fs.gvk));
    if (!dup) added.push_back(fs);
  }
  if (added.empty()) return;
  into.insert(into.end(), added.begin(), added.end());
  std::stable_sort(into.begin(), into.end(),
                   [](const FieldSpec& a, const FieldSpec& b) { return GvkLess(a.gvk, b.gvk); });
}

}  // namespace

Status ApplyFieldSpec(Node& object, const FieldSpec& spec, const std::function<Status(Node&)>& fn) {
  return ApplyAt(object, SplitFieldPath(spec.path), 0, spec.create, fn);
}

Status ApplyFieldSpecs(Node& object, const ResId& id, const std::vector<FieldSpec>& specs,
                       const std::function<Status(Node&)>& fn) {
  for (const FieldSpec& fs : specs) {
    if (!id.gvk.IsSelectedBy(fs.gvk)) continue;
    if (Status s = ApplyFieldSpec(object, fs, fn); !s) return s;
  }
  return Status::Ok();
}

void TransformerConfig::Merge(const TransformerConfig& other) {
  MergeSpecs(name_prefix, other.name_prefix);
  MergeSpecs(name_suffix, other.name_suffix);
  MergeSpecs(common_labels, other.common_labels);
  MergeSpecs(template_labels, other.template_labels);
  MergeSpecs(labels, other.labels);
  MergeSpecs(common_annotations, other.common_annotations);
  MergeSpecs(name_space, other.name_space);
  MergeSpecs(var_reference, other.var_reference);
  MergeSpecs(images, other.images);
  MergeSpecs(replicas, other.replicas);
  for (const NameReference& ref : other.name_reference) {
    bool merged = false;
    for (NameReference& have : name_reference) {
      if (have.referral == ref.referral) {
        MergeSpecs(have.field_specs, ref.field_specs);
        merged = true;
        break;
      }
    }
    if (!merged) name_reference.push_back(ref);
  }
  std::stable_sort(name_reference.begin(), name_reference.end(),
                   [](const NameReference& a, const NameReference& b) {
                     return GvkLess(a.referral, b.referral);
                   });
}

Result<TransformerConfig> ParseTransformerConfig(const Node& doc, const std::string& file) {
  TransformerConfig c;
  if (doc.IsNull()) return c;
  if (!doc.IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "transformer configuration must be a mapping",
                     Location{file, doc.mark().line, doc.mark().column, {}});
  }
  c.name_prefix = ParseSpecList(doc.Find("namePrefix"));
  c.name_suffix = ParseSpecList(doc.Find("nameSuffix"));
  c.common_labels = ParseSpecList(doc.Find("commonLabels"));
  c.template_labels = ParseSpecList(doc.Find("templateLabels"));
  c.labels = ParseSpecList(doc.Find("labels"));
  c.common_annotations = ParseSpecList(doc.Find("commonAnnotations"));
  c.name_space = ParseSpecList(doc.Find("namespace"));
  c.var_reference = ParseSpecList(doc.Find("varReference"));
  c.images = ParseSpecList(doc.Find("images"));
  c.replicas = ParseSpecList(doc.Find("replicas"));
  for (std::vector<FieldSpec>* list :
       {&c.name_prefix, &c.name_suffix, &c.common_labels, &c.template_labels, &c.labels,
        &c.common_annotations, &c.name_space, &c.var_reference, &c.images, &c.replicas}) {
    std::stable_sort(list->begin(), list->end(),
                     [](const FieldSpec& a, const FieldSpec& b) { return GvkLess(a.gvk, b.gvk); });
  }
  if (const Node* refs = doc.Find("nameReference"); refs != nullptr && refs->IsSequence()) {
    for (const Node& item : refs->items()) {
      if (!item.IsMapping()) continue;
      TransformerConfig::NameReference ref;
      ref.referral.group = item.GetString("group");
      ref.referral.version = item.GetString("version");
      ref.referral.kind = item.GetString("kind");
      ref.field_specs = ParseSpecList(item.Find("fieldSpecs"));
      TransformerConfig one;
      one.name_reference.push_back(std::move(ref));
      c.Merge(one);
    }
  }
  return c;
}

namespace {

void LoadCrdType(TransformerConfig& config, const Gvk& gvk, const Node& api_map,
                 const std::string& type_name, const std::string& path, int depth) {
  if (depth > 32) return;
  const Node* api = api_map.Find(type_name);
  const Node* props = api != nullptr ? api->FindPath({"Schema", "properties"}) : nullptr;
  if (props == nullptr || !props->IsMapping()) return;
  for (const Node::Entry& e : props->entries()) {
    const Node& prop = e.value;
    if (!prop.IsMapping()) continue;
    std::string prop_path = path.empty() ? e.key : path + "/" + e.key;
    TransformerConfig one;
    if (prop.Find("x-kubernetes-annotation") != nullptr) {
      one.common_annotations.push_back(FieldSpec{gvk, prop_path, false});
    }
    if (prop.Find("x-kubernetes-label-selector") != nullptr) {
      one.common_labels.push_back(FieldSpec{gvk, prop_path, false});
    }
    if (prop.Find("x-kubernetes-identity") != nullptr) {
      one.name_prefix.push_back(FieldSpec{gvk, prop_path, false});
    }
    const Node* version = prop.Find("x-kubernetes-object-ref-api-version");
    const Node* kind = prop.Find("x-kubernetes-object-ref-kind");
    if (version != nullptr && kind != nullptr) {
      std::string name_key = prop.GetString("x-kubernetes-object-ref-name-key");
      if (name_key.empty()) name_key = "name";
      TransformerConfig::NameReference ref;
      ref.referral = Gvk{"", version->ScalarText(), kind->ScalarText()};
      ref.field_specs.push_back(FieldSpec{gvk, prop_path + "/" + name_key, false});
      one.name_reference.push_back(std::move(ref));
    }
    config.Merge(one);
    if (const Node* ref = prop.Find("$ref"); ref != nullptr && ref->IsString()) {
      LoadCrdType(config, gvk, api_map, ref->AsString(), prop_path, depth + 1);
    }
  }
}

}  // namespace

TransformerConfig TransformerConfigFromCrds(const Node& api_map) {
  TransformerConfig config;
  if (!api_map.IsMapping()) return config;
  for (const Node::Entry& e : api_map.entries()) {
    const Node* props = e.value.FindPath({"Schema", "properties"});
    if (props == nullptr || !props->IsMapping() || props->Find("kind") == nullptr ||
        props->Find("apiVersion") == nullptr || props->Find("metadata") == nullptr) {
      continue;
    }
    std::size_t dot = e.key.rfind('.');
    Gvk gvk{"", "", dot == std::string::npos ? e.key : e.key.substr(dot + 1)};
    LoadCrdType(config, gvk, api_map, e.key, "", 0);
  }
  return config;
}

const TransformerConfig& DefaultTransformerConfig() {
  static const TransformerConfig kConfig = [] {
    manifest::ParseOptions options;
    options.file = "default field specs";
    Result<Node> doc = manifest::ParseYaml(DefaultFieldSpecsYaml(), options);
    assert(doc.ok());
    Result<TransformerConfig> c = ParseTransformerConfig(*doc, options.file);
    assert(c.ok());
    return std::move(c).value();
  }();
  return kConfig;
}

namespace {

std::string Trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> SplitTopLevelCommas(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!Trim(cur).empty() || !out.empty()) out.push_back(Trim(cur));
  return out;
}

}  // namespace

Result<bool> MatchesSelector(const Node* labels, std::string_view selector) {
  auto get = [&](const std::string& key) -> std::optional<std::string> {
    if (labels == nullptr || !labels->IsMapping()) return std::nullopt;
    const Node* v = labels->Find(key);
    if (v == nullptr || !v->IsScalar()) return std::nullopt;
    return v->ScalarText();
  };
  for (const std::string& req : SplitTopLevelCommas(selector)) {
    if (req.empty()) continue;
    std::size_t in_pos = req.find(" in ");
    std::size_t notin_pos = req.find(" notin ");
    if (in_pos != std::string::npos || notin_pos != std::string::npos) {
      bool negate = notin_pos != std::string::npos;
      std::size_t pos = negate ? notin_pos : in_pos;
      std::string key = Trim(req.substr(0, pos));
      std::size_t open = req.find('(');
      std::size_t close = req.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close < open) {
        return MakeError(ErrorCode::kInvalidInput,
                         "invalid label selector: " + std::string(selector));
      }
      std::set<std::string> values;
      for (const std::string& v : SplitTopLevelCommas(req.substr(open + 1, close - open - 1))) {
        values.insert(v);
      }
      std::optional<std::string> have = get(key);
      bool member = have && values.contains(*have);
      if (negate ? member : !member) return false;
      continue;
    }
    std::size_t neq = req.find("!=");
    if (neq != std::string::npos) {
      std::optional<std::string> have = get(Trim(req.substr(0, neq)));
      if (have && *have == Trim(req.substr(neq + 2))) return false;
      continue;
    }
    std::size_t eq = req.find('=');
    if (eq != std::string::npos) {
      std::string key = Trim(req.substr(0, eq));
      std::size_t vstart = eq + 1;
      if (vstart < req.size() && req[vstart] == '=') ++vstart;
      std::optional<std::string> have = get(key);
      if (!have || *have != Trim(req.substr(vstart))) return false;
      continue;
    }
    if (req[0] == '!') {
      if (get(Trim(req.substr(1)))) return false;
      continue;
    }
    if (!get(req)) return false;
  }
  return true;
}

}  // namespace keelson::kustomize::internal
