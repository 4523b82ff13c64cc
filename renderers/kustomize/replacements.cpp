// Field paths, replacements and (deprecated) vars.
#include <map>

#include "renderers/kustomize/internal.h"

namespace keelson::kustomize::internal {

namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

// Splits "a.b.[c.d=e].f" on dots outside brackets.
std::vector<std::string> SplitSmart(std::string_view path) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : path) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == '.' && depth == 0) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(std::move(cur));
  // "containers[name=x]" → "containers", "[name=x]"
  std::vector<std::string> split;
  for (std::string& seg : out) {
    std::size_t b = seg.find('[');
    if (b != std::string::npos && b > 0 && seg.back() == ']') {
      split.push_back(seg.substr(0, b));
      split.push_back(seg.substr(b));
    } else {
      split.push_back(std::move(seg));
    }
  }
  return split;
}

bool IsIndex(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Collects nodes at the path; with create, makes what is missing.
Status Walk(Node& node, const std::vector<std::string>& segs, std::size_t i, bool create,
            std::vector<Node*>& out) {
  if (i == segs.size()) {
    out.push_back(&node);
    return Status::Ok();
  }
  const std::string& seg = segs[i];
  if (seg == "*") {
    if (node.IsSequence()) {
      for (Node& item : node.items()) {
        if (Status s = Walk(item, segs, i + 1, create, out); !s) return s;
      }
    } else if (node.IsMapping()) {
      for (Node::Entry& e : node.entries()) {
        if (Status s = Walk(e.value, segs, i + 1, create, out); !s) return s;
      }
    }
    return Status::Ok();
  }
  if (seg.size() >= 2 && seg.front() == '[' && seg.back() == ']') {
    std::string inner = seg.substr(1, seg.size() - 2);
    std::size_t eq = inner.find('=');
    if (eq == std::string::npos) {
      if (IsIndex(inner) && node.IsSequence()) {
        std::size_t idx = std::stoul(inner);
        if (idx < node.items().size()) return Walk(node.items()[idx], segs, i + 1, create, out);
        return Status::Ok();
      }
      // A bracketed map key such as [app.kubernetes.io/name].
      if (node.IsNull() && create) node = Node::Mapping();
      if (!node.IsMapping()) return Status::Ok();
      Node* child = node.Find(inner);
      if (child == nullptr) {
        if (!create) return Status::Ok();
        node.Set(inner, i + 1 == segs.size() ? Node() : Node::Mapping());
        child = node.Find(inner);
      }
      return Walk(*child, segs, i + 1, create, out);
    }
    std::string key = inner.substr(0, eq);
    std::string value = inner.substr(eq + 1);
    if (!node.IsSequence()) return Status::Ok();
    bool found = false;
    for (Node& item : node.items()) {
      if (!item.IsMapping()) continue;
      const Node* v = item.Find(key);
      if (v != nullptr && v->IsScalar() && v->ScalarText() == value) {
        found = true;
        if (Status s = Walk(item, segs, i + 1, create, out); !s) return s;
      }
    }
    if (!found && create) {
      Node item = Node::Mapping();
      item.Set(key, Node::String(value));
      node.Append(std::move(item));
      return Walk(node.items().back(), segs, i + 1, create, out);
    }
    return Status::Ok();
  }
  if (node.IsSequence() && IsIndex(seg)) {
    std::size_t idx = std::stoul(seg);
    if (idx < node.items().size()) return Walk(node.items()[idx], segs, i + 1, create, out);
    return Status::Ok();
  }
  if (node.IsNull() && create) node = Node::Mapping();
  if (!node.IsMapping()) return Status::Ok();
  Node* child = node.Find(seg);
  if (child == nullptr) {
    if (!create) return Status::Ok();
    node.Set(seg, i + 1 == segs.size() ? Node() : Node::Mapping());
    child = node.Find(seg);
  }
  return Walk(*child, segs, i + 1, create, out);
}

std::vector<std::string> SplitString(const std::string& s, const std::string& delim) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t next = s.find(delim, pos);
    if (next == std::string::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, next - pos));
    pos = next + delim.size();
  }
}

std::string Join(const std::vector<std::string>& parts, const std::string& delim) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += delim;
    out += parts[i];
  }
  return out;
}

Result<Selector> SelectorOf(const Node& node) {
  Result<Selector> s = ParseSelector(node, "", "");
  if (!s.ok()) return s;
  // apiVersion-style fields are accepted too.
  if (std::string av = node.GetString("apiVersion"); !av.empty()) {
    manifest::SplitApiVersion(av, &s->gvk.group, &s->gvk.version);
  }
  return s;
}

// A selector picks a resource by any name or namespace it has had.
bool Matches(const Resource& r, const Selector& s) {
  ResId cur = r.CurId();
  if (!cur.gvk.IsSelectedBy(s.gvk)) return false;
  bool name_ok = s.name.empty(), ns_ok = s.ns.empty();
  for (const ResId& id : r.AllIds()) {
    name_ok = name_ok || id.name == s.name;
    ns_ok = ns_ok || id.ns == s.ns;
  }
  if (!name_ok || !ns_ok) return false;
  if (!s.label_selector.empty()) {
    Result<bool> m = MatchesSelector(r.node.FindPath({"metadata", "labels"}), s.label_selector);
    if (!m.ok() || !*m) return false;
  }
  if (!s.annotation_selector.empty()) {
    Result<bool> m =
        MatchesSelector(r.node.FindPath({"metadata", "annotations"}), s.annotation_selector);
    if (!m.ok() || !*m) return false;
  }
  return true;
}

}  // namespace

Result<const Node*> LookupFieldPath(const Node& node, std::string_view path) {
  std::vector<Node*> found;
  Node& mutable_node = const_cast<Node&>(node);  // Walk without create never mutates.
  if (Status s = Walk(mutable_node, SplitSmart(path), 0, false, found); !s)
    return std::move(s).error();
  if (found.empty()) return static_cast<const Node*>(nullptr);
  return static_cast<const Node*>(found.front());
}

Status ApplyReplacements(ResourceList& list, const Node& replacements, const std::string& file) {
  if (!replacements.IsSequence()) return Invalid("replacements must be a list");
  for (const Node& rep : replacements.items()) {
    const Node* source = rep.Find("source");
    const Node* targets = rep.Find("targets");
    if (source == nullptr || !source->IsMapping())
      return Invalid(file + ": replacement has no source");
    Result<Selector> ssel = SelectorOf(*source);
    if (!ssel.ok()) return std::move(ssel).error();
    std::vector<const Resource*> picked;
    for (const Resource& r : list.items()) {
      if (Matches(r, *ssel)) picked.push_back(&r);
    }
    if (picked.size() > 1) {
      return Invalid("multiple matches for selector " + ssel->gvk.ToString() + "/" + ssel->name);
    }
    if (picked.empty()) {
      return Invalid("nothing selected by " + ssel->gvk.ToString() + "/" + ssel->name);
    }
    std::string field_path = source->GetString("fieldPath");
    if (field_path.empty()) field_path = "metadata.name";
    Result<const Node*> value = LookupFieldPath(picked[0]->node, field_path);
    if (!value.ok()) return std::move(value).error();
    if (*value == nullptr) {
      return Invalid("fieldPath `" + field_path + "` is missing for replacement source " +
                     picked[0]->CurId().ToString());
    }
    Node source_value = **value;
    if (const Node* opts = source->Find("options"); opts != nullptr && opts->IsMapping()) {
      std::string delim = opts->GetString("delimiter");
      if (!delim.empty()) {
        long index = 0;
        if (const Node* idx = opts->Find("index"); idx != nullptr && idx->IsInt())
          index = idx->AsInt();
        std::vector<std::string> parts = SplitString(source_value.ScalarText(), delim);
        if (index < 0 || index >= static_cast<long>(parts.size())) {
          return Invalid("options.index " + std::to_string(index) + " is out of bounds for value " +
                         source_value.ScalarText());
        }
        source_value = Node::String(parts[static_cast<std::size_t>(index)]);
      }
    }
    if (targets == nullptr || !targets->IsSequence()) continue;
    for (const Node& target : targets->items()) {
      const Node* select = target.Find("select");
      if (select == nullptr) return Invalid("target must specify resources to select");
      Result<Selector> tsel = SelectorOf(*select);
      if (!tsel.ok()) return std::move(tsel).error();
      std::vector<Selector> rejects;
      if (const Node* rej = target.Find("reject"); rej != nullptr && rej->IsSequence()) {
        for (const Node& r : rej->items()) {
          Result<Selector> rs = SelectorOf(r);
          if (!rs.ok()) return std::move(rs).error();
          rejects.push_back(*rs);
        }
      }
      std::string delim;
      long index = 0;
      bool create = false;
      if (const Node* opts = target.Find("options"); opts != nullptr && opts->IsMapping()) {
        delim = opts->GetString("delimiter");
        if (const Node* idx = opts->Find("index"); idx != nullptr && idx->IsInt())
          index = idx->AsInt();
        if (const Node* c = opts->Find("create"); c != nullptr && c->IsBool()) create = c->AsBool();
      }
      for (Resource& r : list.items()) {
        if (!Matches(r, *tsel)) continue;
        bool rejected = false;
        for (const Selector& rs : rejects) {
          // An empty reject selector rejects nothing.
          bool empty = rs.gvk == Gvk{} && rs.name.empty() && rs.ns.empty() &&
                       rs.label_selector.empty() && rs.annotation_selector.empty();
          if (!empty && Matches(r, rs)) rejected = true;
        }
        if (rejected) continue;
        const std::string id = r.CurId().ToString();
        std::vector<std::string> paths;
        if (const Node* fps = target.Find("fieldPaths"); fps != nullptr && fps->IsSequence()) {
          for (const Node& fp : fps->items()) paths.push_back(fp.ScalarText());
        }
        if (paths.empty()) paths.push_back("metadata.name");
        for (const std::string& p : paths) {
          std::vector<Node*> nodes;
          if (Status s = Walk(r.node, SplitSmart(p), 0, create, nodes); !s) return s;
          if (nodes.empty() && !create) {
            return Invalid("unable to find field \"" + p + "\" in replacement target " +
                           r.CurId().ToString());
          }
          for (Node* n : nodes) {
            if (!delim.empty()) {
              std::vector<std::string> parts =
                  SplitString(n->IsScalar() ? n->ScalarText() : "", delim);
              if (index < 0) {
                parts.insert(parts.begin(), source_value.ScalarText());
              } else if (index >= static_cast<long>(parts.size())) {
                parts.push_back(source_value.ScalarText());
              } else {
                parts[static_cast<std::size_t>(index)] = source_value.ScalarText();
              }
              *n = Node::String(Join(parts, delim));
            } else {
              *n = source_value;
            }
          }
        }
        if (r.Name().empty()) {
          return Invalid("replacement left " + id + " with no metadata.name");
        }
      }
    }
  }
  list.Reindex();
  return Status::Ok();
}

namespace {

// Replaces $(NAME) in one string; "$$" escapes a dollar.
Node Expand(const Node& n, const std::map<std::string, Node>& values) {
  if (!n.IsString()) return n;
  const std::string& s = n.AsString();
  if (s.size() > 3 && s.starts_with("$(") && s.back() == ')' &&
      s.find("$(", 2) == std::string::npos) {
    auto it = values.find(s.substr(2, s.size() - 3));
    if (it != values.end()) return it->second.IsScalar() ? it->second : n;
  }
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size()) {
      if (s[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (s[i + 1] == '(') {
        std::size_t close = s.find(')', i + 2);
        if (close != std::string::npos) {
          auto it = values.find(s.substr(i + 2, close - i - 2));
          if (it != values.end()) {
            out += it->second.ScalarText();
            i = close;
            continue;
          }
        }
      }
    }
    out += s[i];
  }
  return Node::String(out);
}

void ExpandAll(Node& n, const std::map<std::string, Node>& values) {
  if (n.IsString()) {
    n = Expand(n, values);
  } else if (n.IsSequence()) {
    for (Node& item : n.items()) ExpandAll(item, values);
  } else if (n.IsMapping()) {
    for (Node::Entry& e : n.entries()) ExpandAll(e.value, values);
  }
}

}  // namespace

const Node* FindField(const Node& map, std::string_view key) {
  if (!map.IsMapping()) return nullptr;
  if (const Node* exact = map.Find(key)) return exact;
  for (const Node::Entry& e : map.entries()) {
    if (e.key.size() != key.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < key.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(e.key[i])) ==
             std::tolower(static_cast<unsigned char>(key[i]));
    }
    if (same) return &e.value;
  }
  return nullptr;
}

Status BindVars(ResourceList& list, const std::vector<Var>& vars) {
  for (const Var& v : vars) {
    std::vector<Resource*> matches;
    for (Resource& r : list.items()) {
      for (const ResId& id : r.AllIds()) {
        bool gvk_ok = id.gvk.kind == v.gvk.kind && id.gvk.group == v.gvk.group &&
                      (v.gvk.version.empty() || id.gvk.version == v.gvk.version);
        bool ns_ok =
            v.obj_namespace.empty() || (id.ns.empty() ? "default" : id.ns) == v.obj_namespace;
        if (gvk_ok && ns_ok && id.name == v.obj_name) {
          matches.push_back(&r);
          break;
        }
      }
    }
    if (matches.size() > 1) {
      return Invalid("found " + std::to_string(matches.size()) + " resId matches for var " +
                     v.name + " (unable to disambiguate)");
    }
    if (matches.size() == 1) matches[0]->ref_var_names.push_back(v.name);
  }
  return Status::Ok();
}

Status ResolveVars(ResourceList& list, const std::vector<Var>& vars,
                   const std::vector<FieldSpec>& specs) {
  if (vars.empty()) return Status::Ok();
  std::map<std::string, Node> values;
  for (const Var& v : vars) {
    const Resource* holder = nullptr;
    for (const Resource& r : list.items()) {
      for (const std::string& name : r.ref_var_names) {
        if (name == v.name && holder == nullptr) holder = &r;
      }
    }
    if (holder == nullptr) {
      return Invalid("var '" + v.name +
                     "' cannot be mapped to a field in the set of known resources");
    }
    Result<const Node*> value = LookupFieldPath(holder->node, v.field_path);
    if (!value.ok()) return std::move(value).error();
    if (*value == nullptr) {
      return Invalid("field specified in var '" + v.name + "' (" + v.field_path +
                     ") not found in corresponding resource");
    }
    values[v.name] = **value;
  }
  for (Resource& r : list.items()) {
    ResId id = r.CurId();
    Status s = ApplyFieldSpecs(r.node, id, specs, [&](Node& n) -> Status {
      ExpandAll(n, values);
      return Status::Ok();
    });
    if (!s) return s;
  }
  return Status::Ok();
}

}  // namespace keelson::kustomize::internal
