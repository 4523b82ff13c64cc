#include "renderers/helm/renderer.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "renderers/helm/block_yaml.h"
#include "renderers/helm/functions.h"
#include "renderers/helm/schema.h"
#include "renderers/helm/semver.h"
#include "renderers/helm/values.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

namespace {

const char* const kDefaultApiVersions[] = {
    "v1",
    "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1", "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1", "apps/v1beta1", "apps/v1beta2",
    "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
    "autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2",
    "batch/v1", "batch/v1beta1",
    "certificates.k8s.io/v1", "certificates.k8s.io/v1alpha1", "certificates.k8s.io/v1beta1",
    "coordination.k8s.io/v1", "coordination.k8s.io/v1alpha2", "coordination.k8s.io/v1beta1",
    "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1", "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1", "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1", "networking.k8s.io/v1alpha1", "networking.k8s.io/v1beta1",
    "node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
    "policy/v1", "policy/v1beta1",
    "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1alpha1", "rbac.authorization.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3", "resource.k8s.io/v1beta1",
    "scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1",
    "storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storage.k8s.io/v1beta1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1",
};

const char* const kInstallOrder[] = {
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
};

int KindRank(const std::string& kind) {
  for (std::size_t i = 0; i < std::size(kInstallOrder); ++i) {
    if (kind == kInstallOrder[i]) return static_cast<int>(i);
  }
  return -1;
}

bool KindLess(const std::string& a, const std::string& b) {
  int ra = KindRank(a), rb = KindRank(b);
  if (ra < 0 && rb < 0) return a < b;
  if (ra < 0) return false;
  if (rb < 0) return true;
  return ra < rb;
}

// gobwas/glob with '/' as separator: * and ? stay within a segment, **
// crosses them, [...] classes and {a,b} alternatives.
bool GlobMatch(std::string_view pat, std::string_view s, int depth = 0) {
  if (depth > 64) return false;
  while (!pat.empty()) {
    char c = pat[0];
    if (c == '*') {
      bool super = pat.size() > 1 && pat[1] == '*';
      std::string_view rest = pat.substr(super ? 2 : 1);
      for (std::size_t i = 0; i <= s.size(); ++i) {
        if (GlobMatch(rest, s.substr(i), depth + 1)) return true;
        if (i < s.size() && !super && s[i] == '/') return false;
      }
      return false;
    }
    if (c == '{') {
      std::size_t close = pat.find('}');
      if (close == std::string_view::npos) return false;
      std::string_view alts = pat.substr(1, close - 1);
      std::string_view rest = pat.substr(close + 1);
      std::size_t start = 0;
      while (true) {
        std::size_t comma = alts.find(',', start);
        std::string alt(alts.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (GlobMatch(alt + std::string(rest), s, depth + 1)) return true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      return false;
    }
    if (s.empty()) return false;
    if (c == '?') {
      if (s[0] == '/') return false;
    } else if (c == '[') {
      std::size_t close = pat.find(']', 1);
      if (close == std::string_view::npos) return false;
      std::string_view cls = pat.substr(1, close - 1);
      bool negate = !cls.empty() && cls[0] == '!';
      if (negate) cls.remove_prefix(1);
      bool hit = false;
      for (std::size_t i = 0; i < cls.size(); ++i) {
        if (i + 2 < cls.size() && cls[i + 1] == '-') {
          hit = hit || (s[0] >= cls[i] && s[0] <= cls[i + 2]);
          i += 2;
        } else {
          hit = hit || s[0] == cls[i];
        }
      }
      if (hit == negate) return false;
      pat.remove_prefix(close);
    } else if (c == '\\' && pat.size() > 1) {
      pat.remove_prefix(1);
      if (pat[0] != s[0]) return false;
    } else if (c != s[0]) {
      return false;
    }
    pat.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

// A chart's files by name, pointing at the chart's own entries: .Files
// reads only what templates ask for (a chart directory also holds READMEs,
// images and CI values nobody renders), and most are not even read from
// disk until then (see DeferredFile).
using FileIndex = std::map<std::string, const ChartFile*, std::less<>>;

// The bytes of `name`, "" when there is no such file (as Helm says).
Result<std::string> FileBytes(const FileIndex& files, const std::string& name) {
  auto it = files.find(name);
  if (it == files.end()) return std::string();
  auto bytes = it->second->Contents();
  if (!bytes.ok()) return std::move(bytes).error();
  return std::string(*bytes);
}

std::string BaseName(const std::string& p) {
  std::size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

Result<Value> FilesAsMap(const FileIndex& files, bool base64) {
  Map m;
  for (const auto& [k, f] : files) {
    auto bytes = f->Contents();
    if (!bytes.ok()) return std::move(bytes).error();
    m[BaseName(k)] = Value::String(base64 ? Base64Encode(*bytes) : std::string(*bytes));
  }
  return Value::NewMap(std::move(m));
}

// Go's chart.Files (a map[string][]byte with methods). The map itself, for
// `range` and `len`, is built on first use.
class FilesObject final : public Object {
 public:
  explicit FilesObject(std::shared_ptr<const FileIndex> files);
  std::string TypeName() const override { return methods_.TypeName(); }
  const Value* Field(std::string_view name) const override { return methods_.Field(name); }
  const Method* FindMethod(std::string_view name) const override { return methods_.FindMethod(name); }
  std::string Print() const override { return methods_.Print(); }
  const Value* Collection() const override {
    if (!collection_) {
      Map all;
      for (const auto& [k, f] : *files_) {
        auto bytes = f->Contents();
        if (!bytes.ok()) throw ValueFailure{bytes.error().ToString()};
        all[k] = Value::String(std::string(*bytes));
      }
      collection_ = Value::NewMap(std::move(all));
    }
    return &*collection_;
  }

 private:
  std::shared_ptr<const FileIndex> files_;
  TableObject methods_{"chart.Files"};
  mutable std::optional<Value> collection_;
};

Value MakeFilesObject(std::shared_ptr<const FileIndex> files) {
  return Value::FromObject(std::make_shared<FilesObject>(std::move(files)));
}

FilesObject::FilesObject(std::shared_ptr<const FileIndex> files) : files_(files) {
  auto str_arg = [](const std::vector<Value>& a, std::size_t i) {
    return i < a.size() && a[i].IsString() ? a[i].AsString() : std::string();
  };
  methods_.SetMethod("Get", [files, str_arg](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for Get: want 1 got " + std::to_string(a.size()));
    auto bytes = FileBytes(*files, str_arg(a, 0));
    if (!bytes.ok()) return std::move(bytes).error();
    return Value::String(std::move(bytes).value());
  });
  methods_.SetMethod("GetBytes", [files, str_arg](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for GetBytes: want 1 got " + std::to_string(a.size()));
    auto bytes = FileBytes(*files, str_arg(a, 0));
    if (!bytes.ok()) return std::move(bytes).error();
    return Value::String(std::move(bytes).value());
  });
  methods_.SetMethod("Glob", [files, str_arg](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for Glob: want 1 got " + std::to_string(a.size()));
    std::string pat = str_arg(a, 0);
    auto out = std::make_shared<FileIndex>();
    for (const auto& [k, v] : *files) {
      if (GlobMatch(pat, k)) out->emplace(k, v);
    }
    return MakeFilesObject(out);
  });
  methods_.SetMethod("Lines", [files, str_arg](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for Lines: want 1 got " + std::to_string(a.size()));
    auto bytes = FileBytes(*files, str_arg(a, 0));
    if (!bytes.ok()) return std::move(bytes).error();
    List out;
    if (bytes->empty()) return Value::NewList();
    std::string_view s = *bytes;
    if (s.back() == '\n') s.remove_suffix(1);
    std::size_t start = 0;
    while (true) {
      std::size_t nl = s.find('\n', start);
      out.push_back(Value::String(std::string(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start))));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return Value::NewList(std::move(out));
  });
  methods_.SetMethod("AsConfig", [files](const std::vector<Value>&) -> Result<Value> {
    auto m = FilesAsMap(*files, false);
    if (!m.ok()) return std::move(m).error();
    return Value::String(ToYamlText(*m));
  });
  methods_.SetMethod("AsSecrets", [files](const std::vector<Value>&) -> Result<Value> {
    auto m = FilesAsMap(*files, true);
    if (!m.ok()) return std::move(m).error();
    return Value::String(ToYamlText(*m));
  });
}

Result<Value> MakeCapabilities(const RenderOptions& options) {
  std::string s = options.kube_version;
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == 'v') ++i;
  std::uint64_t nums[3] = {0, 0, 0};
  int count = 0;
  for (; count < 3; ++count) {
    std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) break;
    std::from_chars(s.data() + start, s.data() + i, nums[count]);
    if (i < s.size() && s[i] == '.' && count < 2) {
      ++i;
    } else {
      ++count;
      break;
    }
  }
  if (count < 2) return MakeError(ErrorCode::kInvalidInput, "invalid kube version '" + options.kube_version + "'");
  std::string version = "v" + std::to_string(nums[0]) + "." + std::to_string(nums[1]) + "." + std::to_string(nums[2]);
  auto kube = std::make_shared<TableObject>("chartutil.KubeVersion");
  kube->SetField("Version", Value::String(version));
  kube->SetField("Major", Value::String(std::to_string(nums[0])));
  kube->SetField("Minor", Value::String(std::to_string(nums[1])));
  kube->SetMethod("String", [version](const std::vector<Value>&) -> Result<Value> { return Value::String(version); });
  kube->SetMethod("GitVersion", [version](const std::vector<Value>&) -> Result<Value> { return Value::String(version); });
  kube->SetStringer("String");

  auto versions = std::make_shared<std::vector<std::string>>();
  for (const char* v : kDefaultApiVersions) versions->push_back(v);
  for (const auto& v : options.api_versions) versions->push_back(v);
  auto api = std::make_shared<TableObject>("chartutil.VersionSet");
  api->SetMethod("Has", [versions](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for Has: want 1 got " + std::to_string(a.size()));
    std::string want = a[0].IsString() ? a[0].AsString() : FormatValue(a[0]);
    return Value::Bool(std::find(versions->begin(), versions->end(), want) != versions->end());
  });
  std::string printed = "[";
  for (std::size_t k = 0; k < versions->size(); ++k) printed += (k ? " " : "") + (*versions)[k];
  printed += "]";
  api->SetMethod("String", [printed](const std::vector<Value>&) -> Result<Value> { return Value::String(printed); });
  api->SetStringer("String");

  auto helm = std::make_shared<TableObject>("chartutil.HelmBuildInfo");
  helm->SetField("Version", Value::String("v3.17.0"));
  helm->SetField("GitCommit", Value::String(""));
  helm->SetField("GitTreeState", Value::String("clean"));
  helm->SetField("GoVersion", Value::String("go1.23"));

  auto caps = std::make_shared<TableObject>("*chartutil.Capabilities");
  caps->SetField("KubeVersion", Value::FromObject(kube));
  caps->SetField("APIVersions", Value::FromObject(api));
  caps->SetField("HelmVersion", Value::FromObject(helm));
  return Value::FromObject(caps);
}

Value MakeChartObject(const Chart& c) {
  auto obj = std::make_shared<TableObject>("chart.Metadata");
  const Map& meta = c.metadata.AsMap();
  static const char* const kFields[] = {"Name", "Home", "Sources", "Version", "Description", "Keywords",
                                        "Maintainers", "Icon", "APIVersion", "Condition", "Tags", "AppVersion",
                                        "Deprecated", "Annotations", "KubeVersion", "Dependencies", "Type"};
  for (const char* f : kFields) {
    auto it = meta.find(f);
    if (std::string_view(f) == "Dependencies") {
      if (c.dependencies.empty()) {
        obj->SetField(f, Value());
        continue;
      }
      List deps;
      for (const auto& d : c.dependencies) {
        List tags;
        for (const auto& t : d.tags) tags.push_back(Value::String(t));
        deps.push_back(Value::NewMap({{"Name", Value::String(d.name)},
                                      {"Version", Value::String(d.version)},
                                      {"Repository", Value::String(d.repository)},
                                      {"Condition", Value::String(d.condition)},
                                      {"Tags", tags.empty() ? Value() : Value::NewList(std::move(tags))},
                                      {"Enabled", Value::Bool(d.enabled)},
                                      {"ImportValues", d.import_values},
                                      {"Alias", Value::String(d.alias)}}));
      }
      obj->SetField(f, Value::NewList(std::move(deps)));
      continue;
    }
    if (it != meta.end()) {
      obj->SetField(f, it->second);
    } else if (std::string_view(f) == "Deprecated") {
      obj->SetField(f, Value::Bool(false));
    } else if (std::string_view(f) == "Sources" || std::string_view(f) == "Keywords" ||
               std::string_view(f) == "Maintainers" || std::string_view(f) == "Annotations") {
      obj->SetField(f, Value());
    } else {
      obj->SetField(f, Value::String(""));
    }
  }
  obj->SetField("IsRoot", Value::Bool(c.parent == nullptr));
  return Value::FromObject(obj);
}

struct Job {
  std::string_view source;  // the chart's template text
  Value data;  // the chart's data map; .Template is set before each run
  std::string base_path;
};

Value CollectTemplates(const Chart& c, const Value& parent_data, std::map<std::string, Job>& jobs, int depth) {
  Value subs = Value::NewMap();
  Value data = Value::NewMap();
  Map& d = data.MutableMap();
  d["Chart"] = MakeChartObject(c);
  auto files = std::make_shared<FileIndex>();
  for (const auto& f : c.files) (*files)[f.name] = &f;
  d["Files"] = MakeFilesObject(files);
  const Map& pd = parent_data.AsMap();
  d["Release"] = pd.count("Release") ? pd.at("Release") : Value();
  d["Capabilities"] = pd.count("Capabilities") ? pd.at("Capabilities") : Value();
  d["Values"] = Value::NewMap();
  d["Subcharts"] = subs;
  if (c.parent == nullptr) {
    d["Values"] = pd.count("Values") ? pd.at("Values") : Value::NewMap();
  } else if (auto pv = pd.find("Values"); pv != pd.end() && pv->second.IsMap()) {
    auto sv = pv->second.AsMap().find(c.name);
    if (sv != pv->second.AsMap().end() && sv->second.IsMap()) d["Values"] = sv->second;
  }
  if (depth < 100) {
    for (const auto& sc : c.subcharts) subs.MutableMap()[sc->name] = CollectTemplates(*sc, data, jobs, depth + 1);
  }
  std::string full = c.FullPath();
  for (const auto& t : c.templates) {
    if (c.IsLibrary() && !BaseName(t.name).starts_with("_")) continue;
    jobs[full + "/" + t.name] = Job{t.data, data, full + "/templates"};
  }
  return data;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view TrimSpace(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Splits rendered text on the separator pattern `(?:^|\s*\n)---\s*`.
std::vector<std::string_view> SplitDocuments(std::string_view text) {
  std::string_view s = TrimSpace(text);
  std::vector<std::string_view> out;
  std::size_t piece_start = 0;
  std::size_t search = 0;
  auto skip_space = [&](std::size_t p) {
    while (p < s.size() && IsSpace(s[p])) ++p;
    return p;
  };
  if (s.starts_with("---")) {
    piece_start = skip_space(3);
    out.emplace_back("");
    search = piece_start;
  }
  while (true) {
    std::size_t nl = s.find("\n---", search);
    if (nl == std::string_view::npos) break;
    // The match starts at the beginning of the whitespace run ending here,
    // but never before the current piece.
    std::size_t start = nl;
    while (start > piece_start && IsSpace(s[start - 1])) --start;
    out.push_back(s.substr(piece_start, start - piece_start));
    piece_start = skip_space(nl + 4);
    search = piece_start;
    if (search >= s.size()) break;
  }
  out.push_back(s.substr(std::min(piece_start, s.size())));
  std::vector<std::string_view> docs;
  for (std::string_view d : out) {
    if (d.empty()) continue;
    docs.push_back(TrimSpace(d));
  }
  return docs;
}

bool IsHookEvent(const std::string& e) {
  static const char* const kEvents[] = {"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
                                        "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success"};
  for (const char* k : kEvents) {
    if (e == k) return true;
  }
  return false;
}

// One rendered document after splitting; views into the rendered texts.
struct RenderedDocument {
  std::string_view source;   // "chart/templates/file.yaml"
  std::string_view content;  // trimmed YAML text
  std::string kind;
  bool hook = false;
  bool test = false;
};

Status SortManifests(const std::map<std::string, std::string>& rendered, std::vector<RenderedDocument>& hooks,
                     std::vector<RenderedDocument>& generic) {
  for (const auto& [name, content] : rendered) {
    if (BaseName(name).starts_with("_") || TrimSpace(content).empty()) continue;
    for (std::string_view doc : SplitDocuments(content)) {
      manifest::ParseOptions opts;
      opts.file = name;
      opts.schema = manifest::Schema::kYaml11;
      // Helm decodes each document only for its kind and annotations, but
      // a document that is not valid YAML still fails the render.
      std::optional<manifest::Node> fast = TryParseBlockYamlHead(doc, opts);
      auto node = fast ? Result<manifest::Node>(std::move(*fast)) : manifest::ParseYaml(doc, opts);
      if (!node.ok()) {
        Error e = std::move(node).error();
        e.message = "YAML parse error on " + name + ": " + e.message;
        return e;
      }
      RenderedDocument rd;
      rd.source = name;
      rd.content = doc;
      if (node->IsMapping()) {
        rd.kind = node->GetString("kind");
        const manifest::Node* ann = node->FindPath({"metadata", "annotations"});
        const manifest::Node* hook = ann && ann->IsMapping() ? ann->Find("helm.sh/hook") : nullptr;
        if (hook != nullptr) {
          std::string events = hook->ScalarText();
          bool known = true;
          std::size_t start = 0;
          while (true) {
            std::size_t comma = events.find(',', start);
            std::string ev(TrimSpace(std::string_view(events).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
            std::transform(ev.begin(), ev.end(), ev.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (!IsHookEvent(ev)) {
              known = false;
              break;
            }
            if (ev == "test" || ev == "test-success") rd.test = true;
            if (comma == std::string::npos) break;
            start = comma + 1;
          }
          if (!known) continue;
          rd.hook = true;
          hooks.push_back(std::move(rd));
          continue;
        }
      } else if (!node->IsNull()) {
        return MakeError(ErrorCode::kInvalidInput, "YAML parse error on " + name + ": document is not a mapping");
      }
      generic.push_back(std::move(rd));
    }
  }
  auto by_kind = [](const RenderedDocument& a, const RenderedDocument& b) { return KindLess(a.kind, b.kind); };
  std::stable_sort(generic.begin(), generic.end(), by_kind);
  std::stable_sort(hooks.begin(), hooks.end(), by_kind);
  return Status::Ok();
}

void Append(std::string& out, std::initializer_list<std::string_view> pieces) {
  for (std::string_view p : pieces) out.append(p);
}

Status CollectCrds(const Chart& c, std::string& out) {
  std::vector<const ChartFile*> files;
  for (const auto& f : c.files) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const ChartFile* a, const ChartFile* b) { return a->name < b->name; });
  for (const ChartFile* f : files) {
    if (!f->name.starts_with("crds/")) continue;
    std::string ext = f->name.substr(f->name.rfind('.') == std::string::npos ? f->name.size() : f->name.rfind('.'));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (ext != ".yaml" && ext != ".yml" && ext != ".json") continue;
    auto bytes = f->Contents();
    if (!bytes.ok()) return std::move(bytes).error();
    Append(out, {"---\n# Source: ", c.FullPath(), "/", f->name, "\n", *bytes, "\n"});
  }
  for (const auto& d : c.subcharts) {
    Status st = CollectCrds(*d, out);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

std::string ReplaceNoValue(std::string s) {
  static const std::string kNoValue = "<no value>";
  std::size_t p = s.find(kNoValue);
  if (p == std::string::npos) return s;
  std::string out;
  std::size_t start = 0;
  while (p != std::string::npos) {
    out.append(s, start, p - start);
    start = p + kNoValue.size();
    p = s.find(kNoValue, start);
  }
  out.append(s, start, std::string::npos);
  return out;
}

}  // namespace

Result<std::string> RenderChart(Chart& chart, const Value& user_values, const RenderOptions& options) {
  if (chart.IsLibrary()) return MakeError(ErrorCode::kInvalidInput, "library charts are not installable");
  Status st = ProcessDependencies(chart, user_values);
  if (!st.ok()) return std::move(st).error();
  auto caps = MakeCapabilities(options);
  if (!caps.ok()) return std::move(caps).error();
  // As Helm: values are coalesced and checked against the charts'
  // schemas before the chart's kubeVersion is.
  auto values = CoalesceValues(chart, user_values);
  if (!values.ok()) return std::move(values).error();
  st = ValidateChartValues(chart, *values);
  if (!st.ok()) return std::move(st).error();
  if (!chart.kube_version.empty()) {
    const Value* v = caps->AsObject().Field("KubeVersion")->AsObject().Field("Version");
    auto kv = ParseSemVersion(v->AsString());
    auto ok = kv.ok() ? SemVerSatisfies(chart.kube_version, *kv) : Result<bool>(false);
    if (!ok.ok() || !*ok) {
      return MakeError(ErrorCode::kInvalidInput, "chart requires kubeVersion: " + chart.kube_version +
                                                     " which is incompatible with Kubernetes " + v->AsString());
    }
  }

  Value top = Value::NewMap();
  top.MutableMap()["Capabilities"] = *caps;
  top.MutableMap()["Release"] = Value::NewMap({{"Name", Value::String(options.release_name)},
                                               {"Namespace", Value::String(options.release_namespace)},
                                               {"IsUpgrade", Value::Bool(options.is_upgrade)},
                                               {"IsInstall", Value::Bool(!options.is_upgrade)},
                                               {"Revision", Value::Int(1)},
                                               {"Service", Value::String("Helm")}});
  top.MutableMap()["Values"] = *values;

  std::map<std::string, Job> jobs;
  CollectTemplates(chart, top, jobs, 0);
  std::vector<std::string> order;
  for (const auto& [name, job] : jobs) order.push_back(name);
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    auto da = std::count(a.begin(), a.end(), '/'), db = std::count(b.begin(), b.end(), '/');
    if (da != db) return da > db;
    return a > b;
  });

  static const FunctionTable functions = MakeHelmFunctions();
  TemplateSet set;
  for (const auto& name : order) {
    Status parsed = set.Parse(name, jobs[name].source, functions, options.limits);
    if (!parsed.ok()) return std::move(parsed).error();
  }
  Executor executor(functions, options.limits);
  std::map<std::string, std::string> rendered;
  for (const auto& name : order) {
    if (BaseName(name).starts_with("_")) continue;
    Job& job = jobs[name];
    job.data.MutableMap()["Template"] =
        Value::NewMap({{"Name", Value::String(name)}, {"BasePath", Value::String(job.base_path)}});
    auto out = executor.Execute(set, name, job.data);
    if (!out.ok()) return std::move(out).error();
    rendered[name] = ReplaceNoValue(std::move(out).value());
  }
  for (auto it = rendered.begin(); it != rendered.end();) {
    it = it->first.ends_with("NOTES.txt") ? rendered.erase(it) : std::next(it);
  }
  std::vector<RenderedDocument> hooks, generic;
  st = SortManifests(rendered, hooks, generic);
  if (!st.ok()) return std::move(st).error();
  // One buffer sized up front: outputs with CRDs run to megabytes.
  std::size_t size = 1;
  for (const auto* docs : {&generic, &hooks}) {
    for (const auto& d : *docs) size += d.source.size() + d.content.size() + 16;
  }
  std::string out;
  out.reserve(size);
  if (options.include_crds) {
    Status crds = CollectCrds(chart, out);
    if (!crds.ok()) return std::move(crds).error();
  }
  for (const auto& d : generic) Append(out, {"---\n# Source: ", d.source, "\n", d.content, "\n"});
  // The non-hook block is trimmed and ends with one newline.
  std::string_view trimmed = TrimSpace(out);
  std::size_t begin = static_cast<std::size_t>(trimmed.data() - out.data());
  out.resize(begin + trimmed.size());
  out.erase(0, begin);
  out += '\n';
  for (const auto& h : hooks) {
    if (options.skip_tests && h.test) continue;
    Append(out, {"---\n# Source: ", h.source, "\n", h.content, "\n"});
  }
  return out;
}

}  // namespace keelson::helm
