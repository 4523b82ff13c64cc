#include "renderers/helm/values.h"

#include <charconv>
#include <set>

#include "renderers/helm/semver.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

namespace {

// Fills dst with what src has and dst lacks; dst wins. Without keep_nulls
// a null in dst deletes the key (Helm's way to drop a default).
void CoalesceTables(Map& dst, Map& src, bool keep_nulls, int depth = 0) {
  if (depth > 1000) return;
  std::set<std::string> src_had;
  for (const auto& [k, v] : src) {
    if (!v.IsNil()) src_had.insert(k);
  }
  for (const auto& [k, v] : dst) {
    if (v.IsNil()) src[k] = Value();
  }
  for (auto& [k, sv] : src) {
    auto it = dst.find(k);
    bool present = it != dst.end();
    if (present && !keep_nulls && it->second.IsNil() && src_had.count(k)) {
      dst.erase(it);
    } else if (!present) {
      dst.emplace(k, sv);
    } else if (sv.IsMap()) {
      if (it->second.IsMap()) CoalesceTables(it->second.MutableMap(), sv.MutableMap(), keep_nulls, depth + 1);
    }
  }
}

bool IsDepName(const Chart& c, const std::string& key) {
  for (const auto& d : c.subcharts) {
    if (d->name == key) return true;
  }
  return false;
}

void PushGlobals(Map& child, Map& parent) {
  Value cg, pg;
  auto cit = child.find("global");
  if (cit == child.end()) cg = Value::NewMap();
  else if (cit->second.IsMap()) cg = cit->second;
  else return;
  auto pit = parent.find("global");
  if (pit == parent.end()) pg = Value::NewMap();
  else if (pit->second.IsMap()) pg = pit->second;
  else return;
  Map& cgm = cg.MutableMap();
  for (const auto& [k, v] : pg.AsMap()) {
    auto existing = cgm.find(k);
    if (v.IsMap()) {
      Value cp = Value::NewMap(v.AsMap());  // shallow, as Helm copies
      if (existing == cgm.end()) {
        cgm[k] = cp;
      } else if (existing->second.IsMap()) {
        CoalesceTables(cp.MutableMap(), existing->second.MutableMap(), true);
        existing->second = cp;
      }
    } else if (existing != cgm.end() && existing->second.IsMap()) {
      // A table in the child wins over a scalar in the parent.
    } else {
      cgm[k] = v;
    }
  }
  child["global"] = cg;
}

Status ApplyDefaults(const Chart& c, Map& dest, bool keep_nulls, int depth) {
  if (depth > 100) return MakeError(ErrorCode::kLimitExceeded, "subcharts nested too deeply");
  Value defaults = DeepCopy(c.values);
  for (auto& [k, dv] : defaults.MutableMap()) {
    auto it = dest.find(k);
    if (it == dest.end()) {
      dest.emplace(k, dv);
      continue;
    }
    if (it->second.IsNil() && !keep_nulls) {
      dest.erase(it);
      continue;
    }
    if (it->second.IsMap() && dv.IsMap()) {
      CoalesceTables(it->second.MutableMap(), dv.MutableMap(), keep_nulls || IsDepName(c, k));
    }
  }
  for (const auto& sc : c.subcharts) {
    auto it = dest.find(sc->name);
    if (it == dest.end()) it = dest.emplace(sc->name, Value::NewMap()).first;
    if (!it->second.IsMap()) {
      return MakeError(ErrorCode::kInvalidInput, "type mismatch on " + sc->name + ": %!t(" + it->second.TypeName() +
                                                     "=" + FormatValue(it->second) + ")");
    }
    Value sub = it->second;
    PushGlobals(sub.MutableMap(), dest);
    Status st = ApplyDefaults(*sc, sub.MutableMap(), keep_nulls, depth + 1);
    if (!st.ok()) return st;
    dest[sc->name] = sub;
  }
  return Status::Ok();
}

Result<Value> Coalesce(const Chart& c, const Value& user, bool keep_nulls) {
  Value dest = user.IsMap() ? DeepCopy(user) : Value::NewMap();
  Status st = ApplyDefaults(c, dest.MutableMap(), keep_nulls, 0);
  if (!st.ok()) return std::move(st).error();
  return dest;
}

std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = s.find('.', start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

const Map* LookupTable(const Map& v, const std::string& dotted) {
  const Map* cur = &v;
  for (const auto& part : SplitDots(dotted)) {
    auto it = cur->find(part);
    if (it == cur->end() || !it->second.IsMap()) return nullptr;
    cur = &it->second.AsMap();
  }
  return cur;
}

const Value* LookupLeaf(const Map& v, const std::string& dotted) {
  auto parts = SplitDots(dotted);
  const Map* t = &v;
  if (parts.size() > 1) {
    std::string head;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) head += (i ? "." : "") + parts[i];
    t = LookupTable(v, head);
    if (t == nullptr) return nullptr;
  }
  auto it = t->find(parts.back());
  if (it == t->end() || it->second.IsMap()) return nullptr;
  return &it->second;
}

bool VersionSatisfies(const std::string& constraint, const std::string& version) {
  auto v = ParseSemVersion(version);
  if (!v.ok()) return false;
  auto r = SemVerSatisfies(constraint, *v);
  return r.ok() && *r;
}

Status EnableDependencies(Chart& c, const Value& v, const std::string& prefix, int depth) {
  if (depth > 100) return MakeError(ErrorCode::kLimitExceeded, "subcharts nested too deeply");
  if (!c.has_dependencies) return Status::Ok();
  std::vector<std::shared_ptr<Chart>> kept;
  for (const auto& existing : c.subcharts) {
    bool matched = false;
    for (const auto& req : c.dependencies) {
      matched = matched || (existing->name == req.name && VersionSatisfies(req.version, existing->version));
    }
    if (!matched) kept.push_back(existing);
  }
  for (auto& req : c.dependencies) {
    for (const auto& sc : c.subcharts) {
      if (sc->name != req.name || !VersionSatisfies(req.version, sc->version)) continue;
      auto cp = std::make_shared<Chart>(*sc);
      if (!req.alias.empty()) {
        cp->name = req.alias;
        Map meta = cp->metadata.AsMap();
        meta["Name"] = Value::String(req.alias);
        cp->metadata = Value::NewMap(std::move(meta));
      }
      kept.push_back(cp);
      break;
    }
    if (!req.alias.empty()) req.name = req.alias;
  }
  c.subcharts = kept;
  for (auto& sc : c.subcharts) sc->parent = &c;
  for (auto& r : c.dependencies) r.enabled = true;
  auto cv = Coalesce(c, v, false);
  if (!cv.ok()) return std::move(cv).error();
  const Map& cvm = cv->AsMap();
  if (auto tags = cvm.find("tags"); tags != cvm.end() && tags->second.IsMap()) {
    for (auto& r : c.dependencies) {
      bool any_true = false, any_false = false;
      for (const auto& t : r.tags) {
        auto it = tags->second.AsMap().find(t);
        if (it != tags->second.AsMap().end() && it->second.IsBool()) {
          (it->second.AsBool() ? any_true : any_false) = true;
        }
      }
      r.enabled = !(!any_true && any_false);
    }
  }
  for (auto& r : c.dependencies) {
    std::string cond = r.condition;
    auto b = cond.find_first_not_of(" \t\r\n");
    auto e = cond.find_last_not_of(" \t\r\n");
    cond = b == std::string::npos ? "" : cond.substr(b, e - b + 1);
    std::size_t start = 0;
    while (true) {
      std::size_t comma = cond.find(',', start);
      std::string one = cond.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!one.empty()) {
        const Value* x = LookupLeaf(cvm, prefix + one);
        if (x != nullptr && x->IsBool()) {
          r.enabled = x->AsBool();
          break;
        }
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::set<std::string> disabled;
  for (const auto& r : c.dependencies) {
    if (!r.enabled) disabled.insert(r.name);
  }
  std::vector<std::shared_ptr<Chart>> deps;
  for (const auto& d : c.subcharts) {
    if (!disabled.count(d->name)) deps.push_back(d);
  }
  std::vector<Dependency> metas;
  for (const auto& r : c.dependencies) {
    if (!disabled.count(r.name)) metas.push_back(r);
  }
  for (const auto& d : deps) {
    Status st = EnableDependencies(*d, *cv, prefix + d->name + ".", depth + 1);
    if (!st.ok()) return st;
  }
  c.dependencies = metas;
  // Go keeps a nil slice when nothing survives.
  c.has_dependencies = !metas.empty();
  c.subcharts = deps;
  return Status::Ok();
}

Value NestUnder(const std::string& dotted, Value data) {
  if (dotted == ".") return data;
  auto parts = SplitDots(dotted);
  for (std::size_t i = parts.size(); i > 0; --i) {
    Map m;
    m[parts[i - 1]] = data;
    data = Value::NewMap(std::move(m));
  }
  return data;
}

Status ImportValues(Chart& c, int depth) {
  if (depth > 100) return MakeError(ErrorCode::kLimitExceeded, "subcharts nested too deeply");
  for (auto& d : c.subcharts) {
    Status st = ImportValues(*d, depth + 1);
    if (!st.ok()) return st;
  }
  if (!c.has_dependencies) return Status::Ok();
  auto cv = Coalesce(c, Value::NewMap(), true);
  if (!cv.ok()) return std::move(cv).error();
  Value imported = Value::NewMap();
  for (auto& r : c.dependencies) {
    if (!r.import_values.IsList()) continue;
    List normalized;
    for (const Value& iv : r.import_values.AsList()) {
      if (iv.IsMap()) {
        auto get = [&](const char* k) {
          auto it = iv.AsMap().find(k);
          return it == iv.AsMap().end() ? std::string("<nil>") : (it->second.IsString() ? it->second.AsString() : FormatValue(it->second));
        };
        std::string child = get("child"), parent = get("parent");
        normalized.push_back(Value::NewMap({{"child", Value::String(child)}, {"parent", Value::String(parent)}}));
        const Map* t = LookupTable(cv->AsMap(), r.name + "." + child);
        if (t == nullptr) continue;
        Value nested = NestUnder(parent, DeepCopy(Value::NewMap(*t)));
        CoalesceTables(imported.MutableMap(), nested.MutableMap(), true);
      } else if (iv.IsString()) {
        normalized.push_back(Value::NewMap({{"child", Value::String("exports." + iv.AsString())}, {"parent", Value::String(".")}}));
        const Map* t = LookupTable(cv->AsMap(), r.name + ".exports." + iv.AsString());
        if (t == nullptr) continue;
        Value copy = DeepCopy(Value::NewMap(*t));
        CoalesceTables(imported.MutableMap(), copy.MutableMap(), true);
      }
    }
    r.import_values = Value::NewList(std::move(normalized));
  }
  Value merged = DeepCopy(*cv);
  CoalesceTables(merged.MutableMap(), imported.MutableMap(), true);
  c.values = merged;
  return Status::Ok();
}

// --set parsing.

std::vector<std::string> SplitUnescaped(std::string_view s, char sep) {
  std::vector<std::string> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
    } else if (c == sep && depth == 0) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.emplace_back(s.substr(std::min(start, s.size())));
  return out;
}

std::size_t IndexUnescaped(std::string_view s, char c) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == c) return i;
  }
  return std::string_view::npos;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

Value TypedValue(const std::string& s, SetKind kind) {
  if (kind == SetKind::kString) return Value::String(s);
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return Value::Bool(true);
  if (lower == "false") return Value::Bool(false);
  if (lower == "null") return Value();
  if (s == "0") return Value::Int64(0);
  if (!s.empty() && s[0] != '0') {
    std::int64_t n = 0;
    const char* b = s.data();
    if (*b == '+') ++b;
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size() && b != s.data() + s.size()) return Value::Int64(n);
  }
  return Value::String(s);
}

struct KeyPart {
  std::string name;
  std::int64_t index = -1;
};

Result<std::vector<KeyPart>> SplitKey(std::string_view k) {
  std::vector<KeyPart> parts;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) {
      parts.push_back(KeyPart{cur, -1});
      cur.clear();
    }
  };
  for (std::size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    if (c == '\\') {
      if (i + 1 < k.size()) cur += k[++i];
    } else if (c == '.') {
      flush();
    } else if (c == '[') {
      flush();
      std::size_t close = k.find(']', i);
      if (close == std::string_view::npos) return MakeError(ErrorCode::kInvalidInput, "missing ] in key " + std::string(k));
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(k.data() + i + 1, k.data() + close, n);
      if (ec != std::errc() || p != k.data() + close || n < 0 || n > 65536) {
        return MakeError(ErrorCode::kInvalidInput, "invalid list index in key " + std::string(k));
      }
      parts.push_back(KeyPart{"", n});
      i = close;
    } else {
      cur += c;
    }
  }
  flush();
  return parts;
}

Value SetIn(Value cur, const std::vector<KeyPart>& ps, std::size_t i, const Value& val) {
  const KeyPart& p = ps[i];
  if (p.index >= 0) {
    List list = cur.IsList() ? cur.AsList() : List{};
    while (static_cast<std::int64_t>(list.size()) <= p.index) list.push_back(Value());
    auto idx = static_cast<std::size_t>(p.index);
    list[idx] = i + 1 == ps.size() ? val : SetIn(list[idx], ps, i + 1, val);
    return Value::NewList(std::move(list));
  }
  Value m = cur.IsMap() ? cur : Value::NewMap();
  Value next = i + 1 == ps.size() ? val : SetIn(m.AsMap().count(p.name) ? m.AsMap().at(p.name) : Value(), ps, i + 1, val);
  m.MutableMap()[p.name] = next;
  return m;
}

}  // namespace

Result<Value> ParseValuesFile(std::string_view text, const std::string& file) {
  auto node = ParseFirstYamlDocument(text, file);
  if (!node.ok()) return std::move(node).error();
  if (node->IsNull()) return Value::NewMap();
  if (!node->IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "the top level must be a mapping", Location{file, 1, 1, ""});
  }
  if (Status s = CheckJsonFloats(*node, file); !s) return std::move(s).error();
  return FromNodeAsJson(*node);
}

Value MergeUserValues(const Value& a, const Value& b) {
  Map out = a.IsMap() ? a.AsMap() : Map{};
  if (b.IsMap()) {
    for (const auto& [k, v] : b.AsMap()) {
      auto it = out.find(k);
      if (v.IsMap() && it != out.end() && it->second.IsMap()) {
        it->second = MergeUserValues(it->second, v);
      } else {
        out[k] = v;
      }
    }
  }
  return Value::NewMap(std::move(out));
}

Status ApplySetValue(Value& dest, std::string_view key, Value value) {
  auto parts = SplitKey(key);
  if (!parts.ok()) return std::move(parts).error();
  if (parts->empty()) return Status::Ok();
  if ((*parts)[0].index >= 0) return MakeError(ErrorCode::kInvalidInput, "key cannot start with a list index");
  if (!dest.IsMap()) dest = Value::NewMap();
  Map& m = dest.MutableMap();
  const std::string& first = (*parts)[0].name;
  if (parts->size() == 1) {
    m[first] = value;
    return Status::Ok();
  }
  m[first] = SetIn(m.count(first) ? m[first] : Value(), *parts, 1, value);
  return Status::Ok();
}

Status ApplySet(Value& dest, std::string_view arg, SetKind kind) {
  for (const auto& pair : SplitUnescaped(arg, ',')) {
    if (pair.empty()) continue;
    std::size_t eq = IndexUnescaped(pair, '=');
    if (eq == std::string_view::npos) return MakeError(ErrorCode::kInvalidInput, "key \"" + pair + "\" has no value");
    std::string key = pair.substr(0, eq), raw = pair.substr(eq + 1);
    Value val;
    if (raw.size() >= 2 && raw.front() == '{' && raw.back() == '}') {
      List list;
      std::string inner = raw.substr(1, raw.size() - 2);
      if (!inner.empty()) {
        for (const auto& item : SplitUnescaped(inner, ',')) list.push_back(TypedValue(Unescape(item), kind));
      }
      val = Value::NewList(std::move(list));
    } else {
      val = TypedValue(Unescape(raw), kind);
    }
    Status st = ApplySetValue(dest, key, val);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status ProcessDependencies(Chart& chart, const Value& user_values) {
  Status st = EnableDependencies(chart, user_values, "", 0);
  if (!st.ok()) return st;
  return ImportValues(chart, 0);
}

Result<Value> CoalesceValues(const Chart& chart, const Value& user_values) {
  return Coalesce(chart, user_values, false);
}

}  // namespace keelson::helm
