// Building a kustomization: loading, accumulating resources from files,
// bases and components, generating, transforming, and the final steps
// (hash suffixes, name references, vars, ordering) done once at the top.
#include "renderers/kustomize/kustomize.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "renderers/kustomize/internal.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

namespace keelson::kustomize {

using internal::FieldSpec;
using internal::Gvk;
using internal::ResId;
using internal::Resource;
using internal::ResourceList;
using internal::TransformerConfig;
using manifest::Node;

namespace {

// What one kustomization contributes, and the config accumulated with it.
struct Accumulator {
  ResourceList resources;
  TransformerConfig config;
  std::vector<internal::Var> vars;
};

const std::vector<std::string>& KnownFields() {
  static const std::vector<std::string> kFields = {"apiVersion",
                                                   "kind",
                                                   "metadata",
                                                   "resources",
                                                   "bases",
                                                   "components",
                                                   "namespace",
                                                   "namePrefix",
                                                   "nameSuffix",
                                                   "commonLabels",
                                                   "labels",
                                                   "commonAnnotations",
                                                   "images",
                                                   "imageTags",
                                                   "replicas",
                                                   "patches",
                                                   "patchesStrategicMerge",
                                                   "patchesJson6902",
                                                   "configMapGenerator",
                                                   "secretGenerator",
                                                   "generatorOptions",
                                                   "replacements",
                                                   "vars",
                                                   "configurations",
                                                   "crds",
                                                   "openapi",
                                                   "sortOptions",
                                                   "buildMetadata",
                                                   "generators",
                                                   "transformers",
                                                   "validators",
                                                   "helmCharts",
                                                   "helmGlobals",
                                                   "helmChartInflationGenerator"};
  return kFields;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsRemote(std::string_view ref) {
  return ref.find("://") != std::string_view::npos || ref.starts_with("github.com/") ||
         ref.starts_with("git@") || ref.starts_with("gitlab.com/") ||
         ref.starts_with("bitbucket.org/");
}

std::string DisplayPath(const manifest::FileSystem& fs, std::string_view rel) {
  std::string root = fs.Describe();
  if (root == "memory") root.clear();
  if (!root.empty() && root.back() == '/') root.pop_back();
  return root + "/" + std::string(rel);
}

// Documents of a resource file: empty ones dropped, `kind: *List`
// documents flattened into their items.
Result<std::vector<Node>> ParseResources(std::string_view text, const std::string& file) {
  manifest::ParseOptions options;
  options.file = file;
  Result<std::vector<Node>> docs = manifest::ParseYamlStream(text, options);
  if (!docs.ok()) return std::move(docs).error();
  std::vector<Node> out;
  for (Node& doc : *docs) {
    if (doc.IsNull()) continue;
    if (!doc.IsMapping()) {
      return MakeError(ErrorCode::kInvalidInput, "a resource must be a mapping",
                       Location{file, doc.mark().line, doc.mark().column, {}});
    }
    const Node* items = doc.Find("items");
    if (doc.GetString("kind").ends_with("List") && items != nullptr) {
      if (!items->IsSequence()) {
        return MakeError(ErrorCode::kInvalidInput, "items of a List must be a list",
                         Location{file, items->mark().line, items->mark().column, "items"});
      }
      for (const Node& item : items->items()) {
        if (!item.IsMapping()) {
          return MakeError(ErrorCode::kInvalidInput, "a List item must be a mapping",
                           Location{file, item.mark().line, item.mark().column, "items"});
        }
        out.push_back(item);
      }
      continue;
    }
    out.push_back(std::move(doc));
  }
  return out;
}

// The path of `path` seen from directory `dir` (both clean and relative
// to the root), with ".." steps as needed.
std::string RelativePath(std::string_view dir, std::string_view path) {
  auto split = [](std::string_view p) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start < p.size()) {
      std::size_t slash = p.find('/', start);
      if (slash == std::string_view::npos) slash = p.size();
      if (slash > start) parts.emplace_back(p.substr(start, slash - start));
      start = slash + 1;
    }
    return parts;
  };
  std::vector<std::string> from = split(dir), to = split(path);
  std::size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (std::size_t i = common; i < from.size(); ++i) out += "../";
  for (std::size_t i = common; i < to.size(); ++i) {
    out += to[i];
    if (i + 1 < to.size()) out += '/';
  }
  return out;
}

class Builder {
 public:
  Builder(const manifest::FileSystem& fs, const BuildLimits& limits) : fs_(fs), limits_(limits) {}

  // Builds the top-level kustomization.
  Result<std::vector<Node>> Build(const std::string& dir);

 private:
  struct Kustomization {
    std::string dir;   // clean relative directory
    std::string file;  // clean relative path of the kustomization file
    Node doc;
  };

  Result<Kustomization> Load(const std::string& dir);
  Result<Kustomization> LoadUncached(const std::string& dir);
  // Parsed resource documents of a file, cached for the build.
  Result<std::vector<Node>> LoadResourceFile(const std::string& path);
  // Runs the whole pipeline of one kustomization into `acc`.
  Status Accumulate(const Kustomization& k, Accumulator& acc);
  Status AccumulateResources(const Kustomization& k, Accumulator& acc, const Node& list,
                             const std::string& field);
  Status AccumulateDirectory(const Kustomization& k, const std::string& path, Accumulator& acc,
                             const std::string& field, bool is_component);
  Status RunGenerators(const Kustomization& k, Accumulator& acc);
  Status Generate(const Kustomization& k, const Node& args, bool secret, const Node* options,
                  const std::string& field, ResourceList& out,
                  const std::string& configured_in = "", const std::string& config_name = "");
  Status RunTransformers(const Kustomization& k, Accumulator& acc);
  // Notes that a built-in transformer ran over every resource in `acc`.
  void Record(Accumulator& acc, const std::string& configured_in, const std::string& kind,
              const std::string& name = "", const std::string& ns = "") const {
    if (!record_transformations_) return;
    for (Resource& r : acc.resources.items()) {
      r.transformations.push_back(Resource::Transformation{configured_in, kind, name, ns});
    }
  }
  Status RunPluginTransformer(const Kustomization& k, const Node& config, Accumulator& acc,
                              const std::string& field);
  Status AbsorbGenerated(ResourceList& into, ResourceList generated);
  // The built-in IAMPolicyGenerator: a ServiceAccount bound to a cloud
  // identity (GKE workload identity only).
  Status GenerateIamPolicy(const Kustomization& k, const Node& config, const std::string& field,
                           ResourceList& out);
  Status Finish(const Kustomization& k, Accumulator& acc, std::vector<Node>* out);

  // Reads a file that kustomization k refers to, enforcing the restrictor.
  Result<std::string> ReadOwnFile(const Kustomization& k, std::string_view ref,
                                  const std::string& field);
  Result<std::string> ResolveOwnPath(const Kustomization& k, std::string_view ref,
                                     const std::string& field);
  Error At(const Kustomization& k, const Node* node, const std::string& field, ErrorCode code,
           std::string message) const {
    Location where{DisplayPath(fs_, k.file), node != nullptr ? node->mark().line : 0,
                   node != nullptr ? node->mark().column : 0, field};
    return MakeError(code, std::move(message), where);
  }
  Result<std::vector<Node>> LoadPatchDocs(const Kustomization& k, const Node& entry,
                                          const std::string& field, bool allow_inline_guess);
  // Generator or transformer configurations: inline, a file, or the output
  // of a kustomization directory.
  Result<std::vector<Node>> LoadPluginConfigs(const Kustomization& k, const Node& entry,
                                              const std::string& field);

  const manifest::FileSystem& fs_;
  BuildLimits limits_;
  internal::MergeSchema schema_;  // from `openapi:`, for custom kinds
  std::unordered_map<std::string, Kustomization> load_cache_;
  std::unordered_map<std::string, std::vector<Node>> resource_cache_;
  bool has_schema_ = false;
  bool record_transformations_ = false;  // the top asks for transformerAnnotations
  std::vector<std::string> stack_;
};

Result<Builder::Kustomization> Builder::Load(const std::string& dir) {
  // A base reused by many overlays is read and parsed once per build.
  if (auto it = load_cache_.find(dir); it != load_cache_.end()) return it->second;
  Result<Kustomization> k = LoadUncached(dir);
  if (k.ok()) load_cache_.emplace(dir, *k);
  return k;
}

Result<Builder::Kustomization> Builder::LoadUncached(const std::string& dir) {
  std::string found;
  int count = 0;
  for (std::string_view name : kKustomizationFileNames) {
    Result<std::string> path = manifest::JoinPath(dir, name);
    if (!path.ok()) return std::move(path).error();
    if (fs_.Type(*path) == manifest::FileType::kFile) {
      if (found.empty()) found = *path;
      ++count;
    }
  }
  if (count > 1) {
    return MakeError(ErrorCode::kInvalidInput,
                     "Found multiple kustomization files under: " + DisplayPath(fs_, dir));
  }
  if (found.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "unable to find one of 'kustomization.yaml', 'kustomization.yml' or "
                     "'Kustomization' in directory '" +
                         DisplayPath(fs_, dir) + "'");
  }
  Result<std::string> text = fs_.ReadFile(found);
  if (!text.ok()) return std::move(text).error();
  manifest::ParseOptions options;
  options.file = DisplayPath(fs_, found);
  options.duplicate_keys_last_wins = true;
  Result<Node> doc = manifest::ParseYaml(*text, options);
  if (!doc.ok()) return std::move(doc).error();
  Kustomization k{dir, found, std::move(doc).value()};
  if (k.doc.IsNull()) k.doc = Node::Mapping();
  if (!k.doc.IsMapping()) {
    return At(k, &k.doc, "", ErrorCode::kInvalidInput, "a kustomization must be a mapping");
  }
  // Field names match case-insensitively, as Go's JSON decoding does.
  Node normalized = Node::Mapping();
  for (Node::Entry& e : k.doc.entries()) {
    const std::string* canonical = nullptr;
    for (const std::string& f : KnownFields()) {
      if (f == e.key) {
        canonical = &f;
        break;
      }
    }
    if (canonical == nullptr) {
      for (const std::string& f : KnownFields()) {
        if (EqualsIgnoreCase(f, e.key)) {
          canonical = &f;
          break;
        }
      }
    }
    if (canonical == nullptr) {
      Node key_pos;
      key_pos.set_mark(e.key_mark);
      return At(k, &key_pos, e.key, ErrorCode::kInvalidInput,
                "invalid Kustomization: json: unknown field \"" + e.key + "\"");
    }
    normalized.Set(*canonical, std::move(e.value));
  }
  normalized.set_mark(k.doc.mark());
  k.doc = std::move(normalized);
  return k;
}

Result<std::string> Builder::ResolveOwnPath(const Kustomization& k, std::string_view ref,
                                            const std::string& field) {
  if (IsRemote(ref)) {
    return At(k, nullptr, field, ErrorCode::kInvalidInput,
              "remote file references are not supported: " + std::string(ref));
  }
  if (ref.starts_with("/")) {
    return At(k, nullptr, field, ErrorCode::kAccessDenied,
              "security; absolute path '" + std::string(ref) + "' is outside the repository");
  }
  Result<std::string> path = manifest::JoinPath(k.dir, ref);
  if (!path.ok()) {
    return At(k, nullptr, field, ErrorCode::kAccessDenied,
              "security; file '" + std::string(ref) + "' is outside the readable root '" +
                  fs_.Describe() + "'");
  }
  bool inside = k.dir.empty() || *path == k.dir || path->starts_with(k.dir + "/");
  if (!inside) {
    return At(k, nullptr, field, ErrorCode::kAccessDenied,
              "security; file '" + DisplayPath(fs_, *path) + "' is not in or below '" +
                  DisplayPath(fs_, k.dir) + "'");
  }
  return path;
}

Result<std::string> Builder::ReadOwnFile(const Kustomization& k, std::string_view ref,
                                         const std::string& field) {
  Result<std::string> path = ResolveOwnPath(k, ref, field);
  if (!path.ok()) return std::move(path).error();
  Result<std::string> text = fs_.ReadFile(*path);
  if (!text.ok()) {
    Error e = std::move(text).error();
    if (e.code == ErrorCode::kNotFound) {
      return At(k, nullptr, field, ErrorCode::kNotFound,
                "file '" + DisplayPath(fs_, *path) + "' doesn't exist");
    }
    return e.At(Location{DisplayPath(fs_, k.file), 0, 0, field});
  }
  return text;
}

Result<std::vector<Node>> Builder::LoadResourceFile(const std::string& path) {
  if (auto it = resource_cache_.find(path); it != resource_cache_.end()) return it->second;
  Result<std::string> text = fs_.ReadFile(path);
  if (!text.ok()) return std::move(text).error();
  Result<std::vector<Node>> objects = ParseResources(*text, DisplayPath(fs_, path));
  if (objects.ok()) resource_cache_.emplace(path, *objects);
  return objects;
}

Status Builder::AccumulateDirectory(const Kustomization& k, const std::string& path,
                                    Accumulator& acc, const std::string& field, bool is_component) {
  if (std::find(stack_.begin(), stack_.end(), path) != stack_.end()) {
    return At(k, nullptr, field, ErrorCode::kInvalidInput,
              "cycle detected: '" + DisplayPath(fs_, path) +
                  "' includes itself through its resources or components");
  }
  if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
    return At(k, nullptr, field, ErrorCode::kLimitExceeded, "kustomizations nested too deeply");
  }
  Result<Kustomization> sub = Load(path);
  if (!sub.ok()) {
    Error e = std::move(sub).error();
    e.message = "accumulating resources from '" + DisplayPath(fs_, path) + "': " + e.message;
    return e.At(Location{DisplayPath(fs_, k.file), 0, 0, field});
  }
  std::string kind = sub->doc.GetString("kind");
  if (is_component && kind != "Component") {
    return At(k, nullptr, field, ErrorCode::kInvalidInput,
              "accumulating components: '" + DisplayPath(fs_, path) +
                  "' must have kind Component, not '" + (kind.empty() ? "Kustomization" : kind) +
                  "'");
  }
  if (!is_component && kind == "Component") {
    return At(k, nullptr, field, ErrorCode::kInvalidInput,
              "accumulating resources: expected kind != 'Component' for path '" +
                  DisplayPath(fs_, path) + "'");
  }
  stack_.push_back(path);
  Status s;
  if (is_component) {
    s = Accumulate(*sub, acc);
  } else {
    Accumulator sub_acc;
    s = Accumulate(*sub, sub_acc);
    if (s) {
      for (Resource& r : sub_acc.resources.items()) {
        if (Status a = acc.resources.Append(std::move(r)); !a) {
          s = At(k, nullptr, field, ErrorCode::kInvalidInput,
                 "accumulating resources: " + a.error().message);
          break;
        }
      }
      if (s) {
        acc.config.Merge(sub_acc.config);
        for (internal::Var& v : sub_acc.vars) {
          for (const internal::Var& have : acc.vars) {
            if (have.name == v.name) {
              s = At(k, nullptr, field, ErrorCode::kInvalidInput,
                     "var '" + v.name + "' already encountered");
            }
          }
          if (!s) break;
          acc.vars.push_back(std::move(v));
        }
      }
    }
  }
  stack_.pop_back();
  return s;
}

Status Builder::AccumulateResources(const Kustomization& k, Accumulator& acc, const Node& list,
                                    const std::string& field) {
  if (list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) {
    return At(k, &list, field, ErrorCode::kInvalidInput, "must be a list of paths");
  }
  for (std::size_t i = 0; i < list.items().size(); ++i) {
    const Node& item = list.items()[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (!item.IsString()) return At(k, &item, f, ErrorCode::kInvalidInput, "must be a path");
    const std::string& ref = item.AsString();
    if (IsRemote(ref)) {
      return At(k, &item, f, ErrorCode::kInvalidInput,
                "accumulating resources: remote resource '" + ref +
                    "' is not supported; vendor it into the repository");
    }
    Result<std::string> path = manifest::JoinPath(k.dir, ref);
    if (!path.ok() || ref.starts_with("/")) {
      return At(k, &item, f, ErrorCode::kAccessDenied,
                "accumulating resources: security; '" + ref + "' is outside the readable root '" +
                    fs_.Describe() + "'");
    }
    manifest::FileType type = fs_.Type(*path);
    if (type == manifest::FileType::kDirectory) {
      if (Status s = AccumulateDirectory(k, *path, acc, f, false); !s) {
        Error e = std::move(s).error();
        if (e.where.line == 0 && e.where.file == DisplayPath(fs_, k.file)) {
          e.where.line = item.mark().line;
          e.where.column = item.mark().column;
        }
        return e;
      }
      continue;
    }
    if (type == manifest::FileType::kMissing) {
      return At(
          k, &item, f, ErrorCode::kNotFound,
          "accumulating resources: '" + DisplayPath(fs_, *path) + "': no such file or directory");
    }
    if (Result<std::string> allowed = ResolveOwnPath(k, ref, f); !allowed.ok()) {
      Error e = std::move(allowed).error();
      e.message = "accumulating resources: " + e.message;
      return e;
    }
    Result<std::vector<Node>> objects = LoadResourceFile(*path);
    if (!objects.ok()) {
      Error e = std::move(objects).error();
      e.At(Location{DisplayPath(fs_, k.file), item.mark().line, item.mark().column, f});
      e.message = "accumulating resources: " + e.message;
      return e;
    }
    for (Node& object : *objects) {
      manifest::Object o{std::move(object), {}, {}};
      // Labels and annotations are string maps in Kubernetes.
      if (Node* meta = o.node.Find("metadata"); meta != nullptr && meta->IsMapping()) {
        for (const char* key : {"labels", "annotations"}) {
          if (Node* m = meta->Find(key); m != nullptr && m->IsMapping()) {
            for (Node::Entry& e : m->entries()) {
              if (e.value.IsScalar() && !e.value.IsString()) {
                e.value = Node::String(e.value.ScalarText());
              }
            }
          }
        }
      }
      Resource r;
      r.node = std::move(o.node);
      r.origin_path = *path;
      if (acc.resources.size() >= limits_.max_resources) {
        return At(k, &item, f, ErrorCode::kLimitExceeded, "too many resources");
      }
      if (Status s = acc.resources.Append(std::move(r)); !s) {
        return At(k, &item, f, ErrorCode::kInvalidInput,
                  "accumulating resources: " + s.error().message);
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<Node>> Builder::LoadPatchDocs(const Kustomization& k, const Node& entry,
                                                 const std::string& field,
                                                 bool allow_inline_guess) {
  std::string text;
  std::string file;
  if (entry.IsString()) {
    const std::string& s = entry.AsString();
    bool inline_patch = allow_inline_guess && (s.find('\n') != std::string::npos);
    if (!inline_patch) {
      Result<std::string> path = ResolveOwnPath(k, s, field);
      if (path.ok() && fs_.Type(*path) == manifest::FileType::kFile) {
        Result<std::string> t = ReadOwnFile(k, s, field);
        if (!t.ok()) return std::move(t).error();
        text = std::move(t).value();
        file = DisplayPath(fs_, *path);
      } else if (allow_inline_guess && s.find(':') != std::string::npos &&
                 (path.ok() || path.error().code != ErrorCode::kAccessDenied)) {
        text = s;
      } else if (!path.ok()) {
        return std::move(path).error();
      } else {
        return At(k, &entry, field, ErrorCode::kNotFound,
                  "file '" + DisplayPath(fs_, *path) + "' doesn't exist");
      }
    } else {
      text = s;
    }
  } else {
    return At(k, &entry, field, ErrorCode::kInvalidInput, "must be a path or an inline patch");
  }
  manifest::ParseOptions options;
  options.file = file.empty() ? DisplayPath(fs_, k.file) : file;
  Result<std::vector<Node>> docs = manifest::ParseYamlStream(text, options);
  if (!docs.ok()) return std::move(docs).error();
  std::vector<Node> out;
  for (Node& d : *docs) {
    if (!d.IsNull()) out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Node>> Builder::LoadPluginConfigs(const Kustomization& k, const Node& entry,
                                                     const std::string& field) {
  if (entry.IsString() && entry.AsString().find('\n') == std::string::npos) {
    Result<std::string> path = manifest::JoinPath(k.dir, entry.AsString());
    if (path.ok() && fs_.Type(*path) == manifest::FileType::kDirectory) {
      Accumulator sub;
      if (Status s = AccumulateDirectory(k, *path, sub, field, false); !s) {
        return std::move(s).error();
      }
      std::vector<Node> out;
      for (Resource& r : sub.resources.items()) out.push_back(std::move(r.node));
      return out;
    }
  }
  return LoadPatchDocs(k, entry, field, true);
}

// Turns "key=value" into its parts; values may be quoted.
bool SplitLiteral(const std::string& source, std::string* key, std::string* value) {
  std::size_t eq = source.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *key = source.substr(0, eq);
  *value = source.substr(eq + 1);
  if (value->size() >= 2 && ((value->front() == '"' && value->back() == '"') ||
                             (value->front() == '\'' && value->back() == '\''))) {
    *value = value->substr(1, value->size() - 2);
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80             ? 1
                    : (c & 0xE0) == 0xC0 ? 2
                    : (c & 0xF0) == 0xE0 ? 3
                    : (c & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t j = 1; j < n; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Base64 broken into 70-column lines, each ending in a newline, once the
// text is longer than one line (how Kustomize encodes generated data).
std::string WrappedBase64(std::string_view value) {
  constexpr std::size_t kLine = 70;
  std::string encoded = internal::Base64Encode(value);
  if (encoded.size() / kLine + 1 <= 1) return encoded;
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += kLine) {
    out += encoded.substr(i, kLine);
    out += '\n';
  }
  return out;
}

std::string BaseName(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Status Builder::Generate(const Kustomization& k, const Node& args, bool secret, const Node* options,
                         const std::string& field, ResourceList& out,
                         const std::string& configured_in, const std::string& config_name) {
  if (!args.IsMapping()) return At(k, &args, field, ErrorCode::kInvalidInput, "must be a mapping");
  std::string name = args.GetString("name");
  std::string behavior = args.GetString("behavior");
  if (behavior.empty()) behavior = "create";
  if (behavior != "create" && behavior != "merge" && behavior != "replace") {
    return At(k, &args, field + ".behavior", ErrorCode::kInvalidInput,
              "unknown generator behavior '" + behavior + "'; use create, merge or replace");
  }
  // Key/value pairs in the order Kustomize adds them: envs, literals, files.
  std::vector<std::pair<std::string, std::string>> pairs;
  auto add = [&](const std::string& key, std::string value, const Node* at,
                 const std::string& f) -> Status {
    for (const auto& [kk, vv] : pairs) {
      if (kk == key) {
        return At(k, at, f, ErrorCode::kInvalidInput,
                  "configmap " + name + " illegally repeats the key `" + key + "`");
      }
    }
    pairs.emplace_back(key, std::move(value));
    return Status::Ok();
  };
  auto env_file = [&](const Node& item, const std::string& f) -> Status {
    if (!item.IsString()) return At(k, &item, f, ErrorCode::kInvalidInput, "must be a path");
    Result<std::string> text = ReadOwnFile(k, item.AsString(), f);
    if (!text.ok()) return std::move(text).error();
    std::string content = std::move(text).value();
    if (content.starts_with("\xEF\xBB\xBF")) content = content.substr(3);
    std::size_t pos = 0;
    int line_no = 0;
    while (pos <= content.size()) {
      std::size_t nl = content.find('\n', pos);
      std::string line =
          content.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? content.size() + 1 : nl + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos) continue;
      line = line.substr(start);
      if (line[0] == '#') continue;
      std::size_t eq = line.find('=');
      if (eq == std::string::npos) {
        return At(k, &item, f, ErrorCode::kInvalidInput,
                  "invalid env line " + std::to_string(line_no) + " in " + item.AsString() +
                      ": missing '='");
      }
      std::string key = line.substr(0, eq);
      while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
      std::string value = line.substr(eq + 1);
      if (Status s = add(key, value, &item, f); !s) return s;
    }
    return Status::Ok();
  };
  if (const Node* envs = args.Find("envs"); envs != nullptr && envs->IsSequence()) {
    for (std::size_t i = 0; i < envs->items().size(); ++i) {
      if (Status s = env_file(envs->items()[i], field + ".envs[" + std::to_string(i) + "]"); !s) {
        return s;
      }
    }
  }
  if (const Node* env = args.Find("env"); env != nullptr && env->IsString()) {
    if (Status s = env_file(*env, field + ".env"); !s) return s;
  }
  if (const Node* literals = args.Find("literals"); literals != nullptr && literals->IsSequence()) {
    for (std::size_t i = 0; i < literals->items().size(); ++i) {
      const Node& item = literals->items()[i];
      std::string f = field + ".literals[" + std::to_string(i) + "]";
      std::string key, value;
      if (!item.IsScalar() || !SplitLiteral(item.ScalarText(), &key, &value)) {
        return At(k, &item, f, ErrorCode::kInvalidInput,
                  "invalid literal source " + (item.IsScalar() ? item.ScalarText() : "") +
                      ", expected key=value");
      }
      if (Status s = add(key, value, &item, f); !s) return s;
    }
  }
  if (const Node* files = args.Find("files"); files != nullptr && files->IsSequence()) {
    for (std::size_t i = 0; i < files->items().size(); ++i) {
      const Node& item = files->items()[i];
      std::string f = field + ".files[" + std::to_string(i) + "]";
      if (!item.IsString()) return At(k, &item, f, ErrorCode::kInvalidInput, "must be a path");
      std::string source = item.AsString();
      std::string key, path = source;
      if (std::size_t eq = source.find('='); eq != std::string::npos) {
        key = source.substr(0, eq);
        path = source.substr(eq + 1);
        if (key.empty() || path.empty()) {
          return At(k, &item, f, ErrorCode::kInvalidInput,
                    "key or file path is missing in '" + source + "'");
        }
      } else {
        key = BaseName(path);
      }
      Result<std::string> text = ReadOwnFile(k, path, f);
      if (!text.ok()) return std::move(text).error();
      if (Status s = add(key, std::move(text).value(), &item, f); !s) return s;
    }
  }

  Node object = Node::Mapping();
  object.Set("apiVersion", Node::String("v1"));
  object.Set("kind", Node::String(secret ? "Secret" : "ConfigMap"));
  Node meta = Node::Mapping();
  meta.Set("name", Node::String(name));
  if (std::string ns = args.GetString("namespace"); !ns.empty())
    meta.Set("namespace", Node::String(ns));
  object.Set("metadata", std::move(meta));
  Node data = Node::Mapping();
  Node binary = Node::Mapping();
  for (auto& [key, value] : pairs) {
    if (secret) {
      data.Set(key, Node::String(WrappedBase64(value)));
    } else if (IsValidUtf8(value)) {
      data.Set(key, Node::String(value));
    } else {
      binary.Set(key, Node::String(WrappedBase64(value)));
    }
  }
  if (!data.empty()) object.Set("data", std::move(data));
  if (!binary.empty()) object.Set("binaryData", std::move(binary));
  if (secret) {
    std::string type = args.GetString("type");
    object.Set("type", Node::String(type.empty() ? "Opaque" : type));
  }

  // Options: the kustomization's generatorOptions, then the generator's own.
  bool disable_hash = false;
  Node labels = Node::Mapping(), annotations = Node::Mapping();
  std::optional<bool> immutable;
  auto apply_options = [&](const Node* o) {
    if (o == nullptr || !o->IsMapping()) return;
    if (const Node* l = o->Find("labels"); l != nullptr && l->IsMapping()) {
      for (const Node::Entry& e : l->entries())
        labels.Set(e.key, Node::String(e.value.ScalarText()));
    }
    if (const Node* a = o->Find("annotations"); a != nullptr && a->IsMapping()) {
      for (const Node::Entry& e : a->entries()) {
        annotations.Set(e.key, Node::String(e.value.ScalarText()));
      }
    }
    if (const Node* d = o->Find("disableNameSuffixHash"); d != nullptr && d->IsBool()) {
      disable_hash = d->AsBool();
    }
    if (const Node* im = o->Find("immutable"); im != nullptr && im->IsBool()) {
      immutable = im->AsBool();
    }
  };
  apply_options(options);
  apply_options(args.Find("options"));
  if (!labels.empty()) object["metadata"].Set("labels", std::move(labels));
  if (!annotations.empty()) object["metadata"].Set("annotations", std::move(annotations));
  if (immutable && *immutable) object.Set("immutable", Node::Bool(true));

  Resource r;
  r.node = std::move(object);
  r.generated = true;
  r.needs_hash = !disable_hash;
  r.behavior = behavior;
  r.origin_path = configured_in.empty() ? k.file : configured_in;
  r.generator_kind = secret ? "SecretGenerator" : "ConfigMapGenerator";
  r.generator_name = config_name;
  return out.Append(std::move(r));
}

Status Builder::AbsorbGenerated(ResourceList& into, ResourceList generated) {
  for (Resource& r : generated.items()) {
    ResId id = r.CurId();
    std::vector<std::size_t> matches;
    for (std::size_t i = 0; i < into.items().size(); ++i) {
      for (const ResId& other : into.items()[i].AllIds()) {
        if (other.gvk == id.gvk && other.name == id.name &&
            (other.ns.empty() ? "default" : other.ns) == (id.ns.empty() ? "default" : id.ns)) {
          matches.push_back(i);
          break;
        }
      }
    }
    if (matches.empty()) {
      if (r.behavior == "merge" || r.behavior == "replace") {
        return MakeError(ErrorCode::kNotFound,
                         "id " + id.ToString() + " does not exist; cannot merge or replace");
      }
      if (Status s = into.Append(std::move(r)); !s) return s;
      continue;
    }
    if (matches.size() > 1) {
      return MakeError(ErrorCode::kInvalidInput,
                       "found multiple objects that could accept merge of " + id.ToString());
    }
    Resource& old = into.items()[matches[0]];
    if (r.behavior != "merge" && r.behavior != "replace") {
      return MakeError(ErrorCode::kInvalidInput,
                       "id " + id.ToString() + " exists; behavior must be merge or replace");
    }
    auto merged_map = [](const Node* base, const Node* over) {
      Node m = Node::Mapping();
      if (base != nullptr && base->IsMapping()) {
        for (const Node::Entry& e : base->entries()) m.Set(e.key, e.value);
      }
      if (over != nullptr && over->IsMapping()) {
        for (const Node::Entry& e : over->entries()) m.Set(e.key, e.value);
      }
      return m;
    };
    Node labels = merged_map(old.node.FindPath({"metadata", "labels"}),
                             r.node.FindPath({"metadata", "labels"}));
    Node annotations = merged_map(old.node.FindPath({"metadata", "annotations"}),
                                  r.node.FindPath({"metadata", "annotations"}));
    Node& meta = r.node["metadata"];
    if (!labels.empty()) meta.Set("labels", std::move(labels));
    if (!annotations.empty()) meta.Set("annotations", std::move(annotations));
    meta.Set("name", Node::String(old.Name()));
    if (old.Namespace().empty()) {
      meta.Erase("namespace");
    } else {
      meta.Set("namespace", Node::String(old.Namespace()));
    }
    if (r.behavior == "merge") {
      for (const char* key : {"data", "binaryData"}) {
        Node m = merged_map(old.node.Find(key), r.node.Find(key));
        if (!m.empty()) r.node.Set(key, std::move(m));
      }
    }
    // Build bookkeeping comes from the resource merged into; a hash suffix
    // only when both ask for one.
    r.previous_ids = old.previous_ids;
    r.prefixes = old.prefixes;
    r.suffixes = old.suffixes;
    if (r.behavior == "merge") {
      r.origin_path = old.origin_path;
      r.generator_kind = old.generator_kind;
      r.generator_name = old.generator_name;
    }
    r.needs_hash = r.needs_hash && old.needs_hash;
    r.ref_var_names = old.ref_var_names;
    old = std::move(r);
  }
  into.Reindex();
  return Status::Ok();
}

Status Builder::GenerateIamPolicy(const Kustomization& k, const Node& config,
                                  const std::string& field, ResourceList& out) {
  if (config.GetString("cloud") != "gke") {
    return At(k, &config, field + ".cloud", ErrorCode::kInvalidInput,
              "IAMPolicyGenerator: only cloud: gke is supported");
  }
  const Node* service = config.Find("kubernetesService");
  const Node* account = config.Find("serviceAccount");
  if (service == nullptr || !service->IsMapping() || account == nullptr || !account->IsMapping()) {
    return At(k, &config, field, ErrorCode::kInvalidInput,
              "IAMPolicyGenerator needs kubernetesService and serviceAccount");
  }
  Node sa = Node::Mapping();
  sa.Set("apiVersion", Node::String("v1"));
  sa.Set("kind", Node::String("ServiceAccount"));
  Node meta = Node::Mapping();
  meta.Set("name", Node::String(service->GetString("name")));
  if (std::string ns = service->GetString("namespace"); !ns.empty()) {
    meta.Set("namespace", Node::String(ns));
  }
  Node annotations = Node::Mapping();
  annotations.Set("iam.gke.io/gcp-service-account",
                  Node::String(account->GetString("name") + "@" + account->GetString("projectId") +
                               ".iam.gserviceaccount.com"));
  meta.Set("annotations", std::move(annotations));
  sa.Set("metadata", std::move(meta));
  Resource r;
  r.node = std::move(sa);
  r.generated = true;
  r.origin_path = k.file;
  if (Status s = out.Append(std::move(r)); !s) {
    return At(k, &config, field, ErrorCode::kInvalidInput, s.error().message);
  }
  return Status::Ok();
}

Status Builder::RunGenerators(const Kustomization& k, Accumulator& acc) {
  const Node* options = k.doc.Find("generatorOptions");
  for (int pass = 0; pass < 2; ++pass) {
    bool secret = pass == 1;
    const char* key = secret ? "secretGenerator" : "configMapGenerator";
    const Node* list = k.doc.Find(key);
    if (list == nullptr || list->IsNull()) continue;
    if (!list->IsSequence()) return At(k, list, key, ErrorCode::kInvalidInput, "must be a list");
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      std::string field = std::string(key) + "[" + std::to_string(i) + "]";
      ResourceList generated;
      if (Status s = Generate(k, list->items()[i], secret, options, field, generated); !s) return s;
      if (Status s = AbsorbGenerated(acc.resources, std::move(generated)); !s) {
        Error e = std::move(s).error();
        return e.At(Location{DisplayPath(fs_, k.file), list->items()[i].mark().line,
                             list->items()[i].mark().column, field});
      }
    }
  }
  if (const Node* gens = k.doc.Find("generators"); gens != nullptr && gens->IsSequence()) {
    for (std::size_t i = 0; i < gens->items().size(); ++i) {
      std::string field = "generators[" + std::to_string(i) + "]";
      Result<std::vector<Node>> docs = LoadPluginConfigs(k, gens->items()[i], field);
      if (!docs.ok()) return std::move(docs).error();
      for (const Node& config : *docs) {
        std::string kind = config.GetString("kind");
        bool secret = kind == "SecretGenerator";
        if (kind == "IAMPolicyGenerator") {
          if (Status s = GenerateIamPolicy(k, config, field, acc.resources); !s) return s;
          continue;
        }
        if (kind != "ConfigMapGenerator" && kind != "SecretGenerator") {
          return At(k, &gens->items()[i], field, ErrorCode::kInvalidInput,
                    "unable to load builtin " + kind + "." + config.GetString("apiVersion") +
                        ".[noGrp]: only ConfigMapGenerator and SecretGenerator "
                        "are built in; "
                        "exec and KRM function plugins are not supported");
        }
        Node args = config;
        if (const Node* meta = config.Find("metadata"); meta != nullptr && meta->IsMapping()) {
          if (config.GetString("name").empty())
            args.Set("name", Node::String(meta->GetString("name")));
          if (std::string ns = meta->GetString("namespace");
              !ns.empty() && config.GetString("namespace").empty()) {
            args.Set("namespace", Node::String(ns));
          }
        }
        std::string configured_in = k.file;
        if (const Node& entry = gens->items()[i];
            entry.IsString() && entry.AsString().find('\n') == std::string::npos) {
          if (Result<std::string> p = manifest::JoinPath(k.dir, entry.AsString()); p.ok()) {
            configured_in = *p;
          }
        }
        std::string config_name;
        if (const Node* meta = config.Find("metadata"); meta != nullptr && meta->IsMapping()) {
          config_name = meta->GetString("name");
        }
        ResourceList generated;
        if (Status s =
                Generate(k, args, secret, nullptr, field, generated, configured_in, config_name);
            !s) {
          return s;
        }
        if (Status s = AbsorbGenerated(acc.resources, std::move(generated)); !s) return s;
      }
    }
  }
  return Status::Ok();
}

std::vector<FieldSpec> ParseFieldSpecs(const Node* list) {
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

Node StringifiedMap(const Node& map) {
  Node out = Node::Mapping();
  if (!map.IsMapping()) return out;
  for (const Node::Entry& e : map.entries()) {
    out.Set(e.key, Node::String(e.value.IsScalar() ? e.value.ScalarText() : ""));
  }
  return out;
}

Status Builder::RunPluginTransformer(const Kustomization& k, const Node& config, Accumulator& acc,
                                     const std::string& field) {
  std::string kind = config.GetString("kind");
  const TransformerConfig& tc = acc.config;
  if (kind == "NamespaceTransformer") {
    std::string ns;
    if (const Node* meta = config.Find("metadata"); meta != nullptr)
      ns = meta->GetString("namespace");
    bool unset_only = false;
    if (const Node* u = config.Find("unsetOnly"); u != nullptr && u->IsBool())
      unset_only = u->AsBool();
    std::vector<FieldSpec> specs = ParseFieldSpecs(config.Find("fieldSpecs"));
    std::string mode = config.GetString("setRoleBindingSubjects");
    if (mode.empty()) mode = "defaultOnly";
    return internal::ApplyNamespace(acc.resources, ns, specs, unset_only, mode);
  }
  if (kind == "PrefixSuffixTransformer" || kind == "PrefixTransformer" ||
      kind == "SuffixTransformer") {
    std::vector<FieldSpec> specs = ParseFieldSpecs(config.Find("fieldSpecs"));
    return internal::ApplyPrefixSuffix(acc.resources, config.GetString("prefix"),
                                       config.GetString("suffix"), specs);
  }
  if (kind == "LabelTransformer" || kind == "AnnotationsTransformer") {
    const Node* pairs = config.Find(kind == "LabelTransformer" ? "labels" : "annotations");
    if (pairs == nullptr) return Status::Ok();
    return internal::ApplyStringMap(acc.resources, StringifiedMap(*pairs),
                                    ParseFieldSpecs(config.Find("fieldSpecs")));
  }
  if (kind == "ImageTagTransformer") {
    const Node* image = config.Find("imageTag");
    if (image == nullptr) return Status::Ok();
    std::vector<FieldSpec> specs = ParseFieldSpecs(config.Find("fieldSpecs"));
    if (specs.empty()) specs = tc.images;
    return internal::ApplyImage(acc.resources, *image, specs);
  }
  if (kind == "ReplicaCountTransformer") {
    const Node* replica = config.Find("replica");
    if (replica == nullptr || !replica->IsMapping()) return Status::Ok();
    const Node* count = replica->Find("count");
    return internal::ApplyReplicas(acc.resources, replica->GetString("name"),
                                   count != nullptr ? *count : Node::Int(0),
                                   ParseFieldSpecs(config.Find("fieldSpecs")));
  }
  if (kind == "PatchTransformer" || kind == "PatchStrategicMergeTransformer" ||
      kind == "PatchJson6902Transformer") {
    // (patch text or file, inline?) pairs, all sharing the target.
    std::vector<std::pair<Node, bool>> sources;
    if (const Node* p = config.Find("patch")) sources.emplace_back(*p, true);
    if (const Node* p = config.Find("jsonOp")) sources.emplace_back(*p, true);
    if (const Node* p = config.Find("path")) sources.emplace_back(*p, false);
    if (const Node* paths = config.Find("paths"); paths != nullptr && paths->IsSequence()) {
      for (const Node& p : paths->items()) sources.emplace_back(p, false);
    }
    if (const Node* inl = config.Find("patches"); inl != nullptr && inl->IsString()) {
      sources.emplace_back(*inl, true);
    }
    if (sources.empty()) {
      return At(k, &config, field, ErrorCode::kInvalidInput,
                kind + " needs a patch, a path or paths");
    }
    std::optional<internal::Selector> target;
    if (const Node* t = config.Find("target"); t != nullptr && !t->IsNull()) {
      Result<internal::Selector> sel = internal::ParseSelector(*t, DisplayPath(fs_, k.file), field);
      if (!sel.ok()) return std::move(sel).error();
      target = *sel;
    }
    internal::PatchOptions po;
    if (const Node* o = config.Find("options"); o != nullptr && o->IsMapping()) {
      if (const Node* v = o->Find("allowNameChange"); v != nullptr && v->IsBool()) {
        po.allow_name_change = v->AsBool();
      }
      if (const Node* v = o->Find("allowKindChange"); v != nullptr && v->IsBool()) {
        po.allow_kind_change = v->AsBool();
      }
    }
    for (const auto& [source, is_inline] : sources) {
      Result<std::vector<Node>> docs = LoadPatchDocs(k, source, field, is_inline);
      if (!docs.ok()) return std::move(docs).error();
      for (const Node& d : *docs) {
        Status s;
        if (d.IsSequence()) {
          if (!target) {
            return At(k, &config, field, ErrorCode::kInvalidInput,
                      "a JSON 6902 patch needs a target");
          }
          s = internal::ApplyJson6902(acc.resources, d, *target);
        } else {
          s = internal::ApplyStrategicPatch(acc.resources, d, target ? &*target : nullptr, po,
                                            has_schema_ ? &schema_ : nullptr);
        }
        if (!s) return s;
      }
    }
    return Status::Ok();
  }
  if (kind == "ReplacementTransformer") {
    const Node* reps = config.Find("replacements");
    if (reps == nullptr) return Status::Ok();
    return internal::ApplyReplacements(acc.resources, *reps, DisplayPath(fs_, k.file));
  }
  return At(k, &config, field, ErrorCode::kInvalidInput,
            "unable to load builtin " + kind +
                ".builtin.[noGrp]; exec and KRM function plugins "
                "are not supported");
}

Status Builder::RunTransformers(const Kustomization& k, Accumulator& acc) {
  const TransformerConfig& tc = acc.config;
  const internal::MergeSchema* schema = has_schema_ ? &schema_ : nullptr;
  std::string file = DisplayPath(fs_, k.file);

  // patchesStrategicMerge
  if (const Node* list = k.doc.Find("patchesStrategicMerge");
      list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      std::string field = "patchesStrategicMerge[" + std::to_string(i) + "]";
      Result<std::vector<Node>> docs = LoadPatchDocs(k, list->items()[i], field, true);
      if (!docs.ok()) return std::move(docs).error();
      for (const Node& d : *docs) {
        if (Status s = internal::ApplyStrategicPatch(acc.resources, d, nullptr, {}, schema); !s) {
          return Error(std::move(s).error())
              .At(Location{file, list->items()[i].mark().line, list->items()[i].mark().column,
                           field});
        }
      }
    }
    if (!list->empty()) Record(acc, k.file, "PatchStrategicMergeTransformer");
  }
  // patches
  if (const Node* list = k.doc.Find("patches"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const Node& item = list->items()[i];
      std::string field = "patches[" + std::to_string(i) + "]";
      if (!item.IsMapping())
        return At(k, &item, field, ErrorCode::kInvalidInput, "must be a mapping");
      const Node* patch = item.Find("patch");
      const Node* path = item.Find("path");
      if ((patch == nullptr) == (path == nullptr)) {
        return At(k, &item, field, ErrorCode::kInvalidInput,
                  "patch and path can't be both set or both empty");
      }
      Result<std::vector<Node>> docs = patch != nullptr
                                           ? LoadPatchDocs(k, *patch, field + ".patch", true)
                                           : LoadPatchDocs(k, *path, field + ".path", false);
      if (!docs.ok()) return std::move(docs).error();
      std::optional<internal::Selector> target;
      if (const Node* t = item.Find("target"); t != nullptr && !t->IsNull()) {
        Result<internal::Selector> sel = internal::ParseSelector(*t, file, field + ".target");
        if (!sel.ok()) return std::move(sel).error();
        target = *sel;
      }
      internal::PatchOptions po;
      if (const Node* o = item.Find("options"); o != nullptr && o->IsMapping()) {
        if (const Node* v = o->Find("allowNameChange"); v != nullptr && v->IsBool()) {
          po.allow_name_change = v->AsBool();
        }
        if (const Node* v = o->Find("allowKindChange"); v != nullptr && v->IsBool()) {
          po.allow_kind_change = v->AsBool();
        }
      }
      if (target && docs->size() > 1) {
        return At(k, &item, field, ErrorCode::kInvalidInput,
                  "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set "
                  "`patches.target` field; split them into separate entries");
      }
      for (const Node& d : *docs) {
        Status s;
        if (d.IsSequence()) {
          if (!target) {
            return At(k, &item, field, ErrorCode::kInvalidInput,
                      "a JSON 6902 patch needs a target");
          }
          s = internal::ApplyJson6902(acc.resources, d, *target);
        } else {
          s = internal::ApplyStrategicPatch(acc.resources, d, target ? &*target : nullptr, po,
                                            schema);
        }
        if (!s) {
          return Error(std::move(s).error())
              .At(Location{file, item.mark().line, item.mark().column, field});
        }
      }
      Record(acc, k.file, "PatchTransformer");
    }
  }
  // namespace
  if (const Node* ns = k.doc.Find("namespace");
      ns != nullptr && ns->IsScalar() && !ns->ScalarText().empty()) {
    if (Status s = internal::ApplyNamespace(acc.resources, ns->ScalarText(), tc.name_space, false,
                                            "defaultOnly");
        !s) {
      return s;
    }
    Record(acc, k.file, "NamespaceTransformer");
  }
  // prefix, suffix
  {
    std::string prefix = k.doc.GetString("namePrefix");
    std::string suffix = k.doc.GetString("nameSuffix");
    if (!prefix.empty()) {
      if (Status s = internal::ApplyPrefixSuffix(acc.resources, prefix, "", tc.name_prefix); !s)
        return s;
      Record(acc, k.file, "PrefixTransformer");
    }
    if (!suffix.empty()) {
      if (Status s = internal::ApplyPrefixSuffix(acc.resources, "", suffix, tc.name_suffix); !s)
        return s;
      Record(acc, k.file, "SuffixTransformer");
    }
  }
  // labels, then commonLabels
  if (const Node* labels = k.doc.Find("labels"); labels != nullptr && labels->IsSequence()) {
    for (const Node& l : labels->items()) {
      if (!l.IsMapping()) continue;
      const Node* pairs = l.Find("pairs");
      if (pairs == nullptr) continue;
      bool selectors = false, templates = false;
      if (const Node* v = l.Find("includeSelectors"); v != nullptr && v->IsBool())
        selectors = v->AsBool();
      if (const Node* v = l.Find("includeTemplates"); v != nullptr && v->IsBool())
        templates = v->AsBool();
      std::vector<FieldSpec> specs;
      if (selectors) {
        specs = tc.common_labels;
      } else {
        specs.push_back(FieldSpec{{}, "metadata/labels", true});
        if (templates)
          specs.insert(specs.end(), tc.template_labels.begin(), tc.template_labels.end());
      }
      specs.insert(specs.end(), tc.labels.begin(), tc.labels.end());
      for (FieldSpec& fs : ParseFieldSpecs(l.Find("fields"))) specs.push_back(fs);
      if (Status s = internal::ApplyStringMap(acc.resources, StringifiedMap(*pairs), specs); !s)
        return s;
      Record(acc, k.file, "LabelTransformer");
    }
  }
  if (const Node* labels = k.doc.Find("commonLabels"); labels != nullptr && labels->IsMapping()) {
    if (Status s =
            internal::ApplyStringMap(acc.resources, StringifiedMap(*labels), tc.common_labels);
        !s) {
      return s;
    }
    Record(acc, k.file, "LabelTransformer");
  }
  if (const Node* ann = k.doc.Find("commonAnnotations"); ann != nullptr && ann->IsMapping()) {
    if (Status s =
            internal::ApplyStringMap(acc.resources, StringifiedMap(*ann), tc.common_annotations);
        !s) {
      return s;
    }
    Record(acc, k.file, "AnnotationsTransformer");
  }
  // patchesJson6902
  if (const Node* list = k.doc.Find("patchesJson6902"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const Node& item = list->items()[i];
      std::string field = "patchesJson6902[" + std::to_string(i) + "]";
      const Node* t = item.Find("target");
      if (t == nullptr) return At(k, &item, field, ErrorCode::kInvalidInput, "must have a target");
      Result<internal::Selector> sel = internal::ParseSelector(*t, file, field + ".target");
      if (!sel.ok()) return std::move(sel).error();
      const Node* patch = item.Find("patch");
      const Node* path = item.Find("path");
      if (patch == nullptr && path == nullptr) {
        return At(k, &item, field, ErrorCode::kInvalidInput, "must have a path or a patch");
      }
      Result<std::vector<Node>> docs = patch != nullptr ? LoadPatchDocs(k, *patch, field, true)
                                                        : LoadPatchDocs(k, *path, field, false);
      if (!docs.ok()) return std::move(docs).error();
      for (const Node& d : *docs) {
        if (Status s = internal::ApplyJson6902(acc.resources, d, *sel); !s) {
          return Error(std::move(s).error())
              .At(Location{file, item.mark().line, item.mark().column, field});
        }
      }
      Record(acc, k.file, "PatchJson6902Transformer");
    }
  }
  // replicas
  if (const Node* list = k.doc.Find("replicas"); list != nullptr && list->IsSequence()) {
    for (const Node& item : list->items()) {
      const Node* count = item.Find("count");
      if (Status s = internal::ApplyReplicas(acc.resources, item.GetString("name"),
                                             count != nullptr ? *count : Node::Int(0), tc.replicas);
          !s) {
        return s;
      }
      Record(acc, k.file, "ReplicaCountTransformer");
    }
  }
  // images
  for (const char* key : {"images", "imageTags"}) {
    if (const Node* list = k.doc.Find(key); list != nullptr && list->IsSequence()) {
      for (const Node& item : list->items()) {
        if (Status s = internal::ApplyImage(acc.resources, item, tc.images); !s) return s;
        Record(acc, k.file, "ImageTagTransformer");
      }
    }
  }
  // replacements
  if (const Node* list = k.doc.Find("replacements"); list != nullptr && list->IsSequence()) {
    Node reps = Node::Sequence();
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const Node& item = list->items()[i];
      if (const Node* path = item.Find("path"); path != nullptr && path->IsString()) {
        std::string field = "replacements[" + std::to_string(i) + "].path";
        Result<std::vector<Node>> docs = LoadPatchDocs(k, *path, field, false);
        if (!docs.ok()) return std::move(docs).error();
        for (Node& d : *docs) {
          if (d.IsSequence()) {
            for (Node& r : d.items()) reps.Append(std::move(r));
          } else {
            reps.Append(std::move(d));
          }
        }
      } else {
        reps.Append(item);
      }
    }
    if (Status s = internal::ApplyReplacements(acc.resources, reps, file); !s) return s;
    Record(acc, k.file, "ReplacementTransformer");
  }
  // transformers: built-in transformer configurations
  if (const Node* list = k.doc.Find("transformers"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      std::string field = "transformers[" + std::to_string(i) + "]";
      const Node& item = list->items()[i];
      Result<std::vector<Node>> docs = LoadPluginConfigs(k, item, field);
      if (!docs.ok()) return std::move(docs).error();
      std::string configured_in = k.file;
      if (item.IsString() && item.AsString().find('\n') == std::string::npos) {
        if (Result<std::string> p = manifest::JoinPath(k.dir, item.AsString());
            p.ok() && fs_.Type(*p) == manifest::FileType::kFile) {
          configured_in = *p;
        }
      }
      for (const Node& config : *docs) {
        if (Status s = RunPluginTransformer(k, config, acc, field); !s) return s;
        const Node* meta = config.Find("metadata");
        Record(acc, configured_in, config.GetString("kind"),
               meta != nullptr ? meta->GetString("name") : "",
               meta != nullptr ? meta->GetString("namespace") : "");
      }
    }
  }
  return Status::Ok();
}

Status Builder::Accumulate(const Kustomization& k, Accumulator& acc) {
  std::string file = DisplayPath(fs_, k.file);
  for (const char* key : {"helmCharts", "helmChartInflationGenerator", "helmGlobals"}) {
    if (const Node* h = k.doc.Find(key); h != nullptr && !h->IsNull()) {
      return At(k, h, key, ErrorCode::kInvalidInput,
                "helm charts in kustomizations are not supported");
    }
  }
  if (const Node* openapi = k.doc.Find("openapi"); openapi != nullptr && openapi->IsMapping()) {
    const Node* version = openapi->Find("version");
    const Node* path = openapi->Find("path");
    if (version != nullptr && path != nullptr) {
      return At(k, openapi, "openapi", ErrorCode::kInvalidInput,
                "builtin version and custom schema provided, cannot use both");
    }
    if (version != nullptr && version->ScalarText() != "v1.21.2") {
      return At(k, version, "openapi.version", ErrorCode::kInvalidInput,
                "the specified OpenAPI version is not built in (only v1.21.2 is)");
    }
    // Choosing the built-in schema also counts as the first schema loaded.
    if (version != nullptr) has_schema_ = true;
    if (path != nullptr) {
      std::string ref = path->ScalarText();
      Result<std::string> text = ReadOwnFile(k, ref, "openapi.path");
      if (!text.ok()) return std::move(text).error();
      Result<std::string> full = ResolveOwnPath(k, ref, "openapi.path");
      std::string schema_file = full.ok() ? DisplayPath(fs_, *full) : ref;
      Result<Node> doc = manifest::ParseJson(*text, schema_file);
      if (!doc.ok()) {
        manifest::ParseOptions options;
        options.file = schema_file;
        doc = manifest::ParseYaml(*text, options);
      }
      if (!doc.ok()) return std::move(doc).error();
      Result<internal::MergeSchema> schema = internal::ParseMergeSchema(*doc, schema_file);
      if (!schema.ok()) return std::move(schema).error();
      // The first schema loaded wins: the top kustomization's over its bases'.
      if (!has_schema_) {
        schema_ = std::move(schema).value();
        has_schema_ = true;
      }
    }
  }
  if (const Node* list = k.doc.Find("resources"); list != nullptr) {
    if (Status s = AccumulateResources(k, acc, *list, "resources"); !s) return s;
  }
  if (const Node* list = k.doc.Find("bases"); list != nullptr) {
    if (Status s = AccumulateResources(k, acc, *list, "bases"); !s) return s;
  }
  // Field specs: the defaults with this kustomization's configurations,
  // merged after those of the resources accumulated above.
  {
    TransformerConfig custom;
    if (const Node* list = k.doc.Find("configurations"); list != nullptr && list->IsSequence()) {
      for (std::size_t i = 0; i < list->items().size(); ++i) {
        std::string field = "configurations[" + std::to_string(i) + "]";
        Result<std::vector<Node>> docs = LoadPatchDocs(k, list->items()[i], field, false);
        if (!docs.ok()) return std::move(docs).error();
        for (const Node& d : *docs) {
          Result<TransformerConfig> tc = internal::ParseTransformerConfig(d, file);
          if (!tc.ok()) return std::move(tc).error();
          custom.Merge(*tc);
        }
      }
    }
    TransformerConfig config = internal::DefaultTransformerConfig();
    config.Merge(custom);
    acc.config.Merge(config);
  }
  if (const Node* list = k.doc.Find("crds"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      std::string field = "crds[" + std::to_string(i) + "]";
      const Node& item = list->items()[i];
      if (!item.IsString()) return At(k, &item, field, ErrorCode::kInvalidInput, "must be a path");
      Result<std::string> text = ReadOwnFile(k, item.AsString(), field);
      if (!text.ok()) return std::move(text).error();
      Result<Node> doc =
          manifest::ParseJson(*text, DisplayPath(fs_, k.dir) + "/" + item.AsString());
      if (!doc.ok()) {
        manifest::ParseOptions options;
        options.file = DisplayPath(fs_, k.dir) + "/" + item.AsString();
        doc = manifest::ParseYaml(*text, options);
      }
      if (!doc.ok()) return std::move(doc).error();
      acc.config.Merge(internal::TransformerConfigFromCrds(*doc));
    }
  }
  if (Status s = RunGenerators(k, acc); !s) return s;
  // Components run after this kustomization's generators, before its
  // transformers.
  if (const Node* list = k.doc.Find("components"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const Node& item = list->items()[i];
      std::string field = "components[" + std::to_string(i) + "]";
      if (!item.IsString()) return At(k, &item, field, ErrorCode::kInvalidInput, "must be a path");
      if (IsRemote(item.AsString())) {
        return At(k, &item, field, ErrorCode::kInvalidInput,
                  "remote component '" + item.AsString() + "' is not supported");
      }
      Result<std::string> path = manifest::JoinPath(k.dir, item.AsString());
      if (!path.ok()) {
        return At(k, &item, field, ErrorCode::kAccessDenied,
                  "security; '" + item.AsString() + "' is outside the readable root '" +
                      fs_.Describe() + "'");
      }
      if (fs_.Type(*path) != manifest::FileType::kDirectory) {
        return At(k, &item, field, ErrorCode::kNotFound,
                  "accumulating components: '" + DisplayPath(fs_, *path) + "' is not a directory");
      }
      if (Status s = AccumulateDirectory(k, *path, acc, field, true); !s) return s;
    }
  }
  if (Status s = RunTransformers(k, acc); !s) return s;
  std::vector<internal::Var> new_vars;
  if (const Node* list = k.doc.Find("vars"); list != nullptr && list->IsSequence()) {
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const Node& item = list->items()[i];
      std::string field = "vars[" + std::to_string(i) + "]";
      internal::Var v;
      v.name = item.GetString("name");
      const Node* obj = internal::FindField(item, "objref");
      if (v.name.empty() || obj == nullptr || !obj->IsMapping()) {
        return At(k, &item, field, ErrorCode::kInvalidInput, "a var needs a name and an objref");
      }
      std::string api_version = obj->GetString("apiVersion");
      if (!api_version.empty()) {
        manifest::SplitApiVersion(api_version, &v.gvk.group, &v.gvk.version);
      } else {
        v.gvk.group = obj->GetString("group");
        v.gvk.version = obj->GetString("version");
      }
      v.gvk.kind = obj->GetString("kind");
      v.obj_name = obj->GetString("name");
      v.obj_namespace = obj->GetString("namespace");
      v.field_path = "metadata.name";
      if (const Node* fr = internal::FindField(item, "fieldref");
          fr != nullptr && fr->IsMapping()) {
        if (const Node* fp = internal::FindField(*fr, "fieldPath");
            fp != nullptr && fp->IsString() && !fp->AsString().empty()) {
          v.field_path = fp->AsString();
        }
      }
      for (const internal::Var& have : acc.vars) {
        if (have.name == v.name) {
          return At(k, &item, field, ErrorCode::kInvalidInput,
                    "var '" + v.name + "' already encountered");
        }
      }
      new_vars.push_back(v);
      acc.vars.push_back(std::move(v));
    }
  }
  if (Status s = internal::BindVars(acc.resources, new_vars); !s) {
    return At(k, k.doc.Find("vars"), "vars", ErrorCode::kInvalidInput, s.error().message);
  }
  return Status::Ok();
}

Status Builder::Finish(const Kustomization& k, Accumulator& acc, std::vector<Node>* out) {
  // Hash suffixes on generated names.
  for (Resource& r : acc.resources.items()) {
    if (!r.needs_hash) continue;
    Result<std::string> hash = internal::GeneratedNameHash(r.node);
    if (!hash.ok()) return std::move(hash).error();
    r.StorePreviousId();
    r.SetName(r.Name() + "-" + *hash);
  }
  acc.resources.Reindex();
  const TransformerConfig& config = acc.config;
  if (Status s = internal::FixNameReferences(acc.resources, config); !s) return s;
  if (Status s = internal::ResolveVars(acc.resources, acc.vars, config.var_reference); !s) return s;

  // Resources marked local-config are not output.
  std::vector<Resource>& items = acc.resources.items();
  items.erase(std::remove_if(items.begin(), items.end(),
                             [](const Resource& r) {
                               const Node* a =
                                   r.node.FindPath({"metadata", "annotations",
                                                    "config.kubernetes.io/local-config"});
                               return a != nullptr && a->IsScalar() && a->ScalarText() == "true";
                             }),
              items.end());

  // Ordering.
  const Node* sort = k.doc.Find("sortOptions");
  std::string order = "legacy";
  std::vector<std::string> first = internal::DefaultOrderFirst();
  std::vector<std::string> last = internal::DefaultOrderLast();
  if (sort != nullptr && sort->IsMapping()) {
    order = sort->GetString("order");
    const Node* legacy = sort->Find("legacySortOptions");
    if (order != "fifo" && order != "legacy") {
      return At(k, sort, "sortOptions.order", ErrorCode::kInvalidInput,
                "the field 'sortOptions.order' must be one of [fifo, legacy]");
    }
    if (order == "fifo" && legacy != nullptr) {
      return At(k, sort, "sortOptions.legacySortOptions", ErrorCode::kInvalidInput,
                "the field 'sortOptions.legacySortOptions' is set but the "
                "selected sort order is "
                "'fifo', not 'legacy'");
    }
    if (legacy != nullptr && legacy->IsMapping()) {
      auto strings = [](const Node* list) {
        std::vector<std::string> v;
        if (list != nullptr && list->IsSequence()) {
          for (const Node& i : list->items()) v.push_back(i.ScalarText());
        }
        return v;
      };
      first = strings(legacy->Find("orderFirst"));
      last = strings(legacy->Find("orderLast"));
    }
  }
  if (order == "legacy") internal::SortLegacy(items, first, last);

  // buildMetadata annotations.
  bool origin = false, transformations = false, managed_by = false;
  if (const Node* bm = k.doc.Find("buildMetadata"); bm != nullptr && bm->IsSequence()) {
    for (const Node& v : bm->items()) {
      std::string s = v.ScalarText();
      origin = origin || s == "originAnnotations";
      transformations = transformations || s == "transformerAnnotations";
      managed_by = managed_by || s == "managedByLabel";
    }
  }
  for (Resource& r : items) {
    if (transformations && !r.transformations.empty()) {
      std::string text;
      for (const Resource::Transformation& t : r.transformations) {
        text += "- configuredIn: " + RelativePath(k.dir, t.configured_in) +
                "\n  configuredBy:\n    apiVersion: builtin\n    kind: " + t.kind + "\n";
        if (!t.name.empty()) text += "    name: " + t.name + "\n";
        if (!t.ns.empty()) text += "    namespace: " + t.ns + "\n";
      }
      Node& meta = r.node["metadata"];
      if (!meta.IsMapping()) meta = Node::Mapping();
      Node& ann = meta["annotations"];
      if (!ann.IsMapping()) ann = Node::Mapping();
      ann.Set("alpha.config.kubernetes.io/transformations", Node::String(text));
    }
    if (origin && !r.origin_path.empty()) {
      std::string rel = RelativePath(k.dir, r.origin_path);
      std::string text;
      if (r.generator_kind.empty()) {
        text = "path: " + rel + "\n";
      } else {
        text = "configuredIn: " + rel +
               "\nconfiguredBy:\n  apiVersion: builtin\n  kind: " + r.generator_kind + "\n";
        if (!r.generator_name.empty()) text += "  name: " + r.generator_name + "\n";
      }
      Node& meta = r.node["metadata"];
      if (!meta.IsMapping()) meta = Node::Mapping();
      Node& ann = meta["annotations"];
      if (!ann.IsMapping()) ann = Node::Mapping();
      ann.Set("config.kubernetes.io/origin", Node::String(text));
    }
    if (managed_by) {
      Node& meta = r.node["metadata"];
      Node& labels = meta["labels"];
      if (!labels.IsMapping()) labels = Node::Mapping();
      labels.Set("app.kubernetes.io/managed-by", Node::String("kustomize-v5.5.0"));
    }
    manifest::NormalizeJsonNumbers(r.node);
    out->push_back(std::move(r.node));
  }
  return Status::Ok();
}

Result<std::vector<Node>> Builder::Build(const std::string& dir) {
  Result<Kustomization> k = Load(dir);
  if (!k.ok()) return std::move(k).error();
  if (const Node* bm = k->doc.Find("buildMetadata"); bm != nullptr && bm->IsSequence()) {
    for (const Node& v : bm->items()) {
      if (v.IsScalar() && v.ScalarText() == "transformerAnnotations")
        record_transformations_ = true;
    }
  }
  stack_.push_back(dir);
  Accumulator acc;
  if (Status s = Accumulate(*k, acc); !s) return std::move(s).error();
  std::vector<Node> out;
  if (Status s = Finish(*k, acc, &out); !s) return std::move(s).error();
  return out;
}

}  // namespace

bool HasKustomization(const manifest::FileSystem& fs, std::string_view dir) {
  for (std::string_view name : kKustomizationFileNames) {
    Result<std::string> path = manifest::JoinPath(dir, name);
    if (path.ok() && fs.Type(*path) == manifest::FileType::kFile) return true;
  }
  return false;
}

Result<std::vector<Node>> BuildKustomization(const manifest::FileSystem& fs, std::string_view dir,
                                             const BuildLimits& limits) {
  Result<std::string> clean = manifest::CleanPath(dir);
  if (!clean.ok()) return std::move(clean).error();
  Builder builder(fs, limits);
  return builder.Build(*clean);
}

Result<std::string> RenderKustomizationYaml(const manifest::FileSystem& fs, std::string_view dir,
                                            const BuildLimits& limits) {
  Result<std::vector<Node>> docs = BuildKustomization(fs, dir, limits);
  if (!docs.ok()) return std::move(docs).error();
  return manifest::EmitYamlStream(*docs);
}

}  // namespace keelson::kustomize
