// Internal pieces of the Kustomize renderer, shared by its .cpp files and
// its unit tests. Not a stable API: only kustomize.h is.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/node.h"
#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::kustomize::internal {

using manifest::Node;

// Group, version and kind; empty parts match anything in selectors.
struct Gvk {
  std::string group;
  std::string version;
  std::string kind;
  bool operator==(const Gvk&) const = default;
  // Kustomize's "Kind.version.group" form with [noVer]/[noGrp] placeholders.
  std::string ToString() const;
  // True when every non-empty part of `selector` equals ours.
  bool IsSelectedBy(const Gvk& selector) const;
};

struct ResId {
  Gvk gvk;
  std::string name;
  std::string ns;  // "" = not set
  bool operator==(const ResId&) const = default;
  // Kustomize's "Kind.version.group/name.namespace" with [noNs] placeholder.
  std::string ToString() const;
};

ResId IdOf(const Node& node);
bool IsClusterScoped(const Gvk& gvk);

// One resource being rendered, with the bookkeeping Kustomize keeps in
// internal annotations: previous identities (for name references), the
// prefixes and suffixes applied, generator state.
struct Resource {
  Node node;
  std::vector<ResId> previous_ids;  // oldest first
  std::vector<std::string> prefixes;
  std::vector<std::string> suffixes;
  bool needs_hash = false;  // a generated ConfigMap/Secret awaiting its suffix
  bool generated = false;
  std::string behavior;  // generator behavior: create, merge, replace
  // Where it came from, for buildMetadata originAnnotations: the file of a
  // loaded resource, or the file configuring the generator that made it.
  std::string origin_path;
  std::string generator_kind;  // ConfigMapGenerator, SecretGenerator; "" if loaded
  std::string generator_name;  // metadata.name of a generator configuration
  // Built-in transformers run over this resource, for buildMetadata
  // transformerAnnotations (recorded only when the build asks for them).
  struct Transformation {
    std::string configured_in;  // clean path of the configuring file
    std::string kind;           // e.g. PrefixTransformer
    std::string name;           // metadata of a transformer configuration
    std::string ns;
  };
  std::vector<Transformation> transformations;
  std::vector<std::string> ref_var_names;  // vars whose objref picked this resource

  ResId CurId() const { return IdOf(node); }
  ResId OrgId() const { return previous_ids.empty() ? CurId() : previous_ids.front(); }
  // Records the current id before a rename or namespace change.
  void StorePreviousId();
  std::string Name() const;
  std::string Namespace() const;
  void SetName(const std::string& name);
  void SetNamespace(const std::string& ns);
  // Every id this resource has had, current last.
  std::vector<ResId> AllIds() const;
};

// Ordered resources; lookups by current id go through an index kept
// alongside so that large trees stay linear.
class ResourceList {
 public:
  std::vector<Resource>& items() { return items_; }
  const std::vector<Resource>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  // Fails when a resource with the same current id exists.
  Status Append(Resource r);
  // Index of the resource with this current id, or -1.
  long Find(const ResId& id) const;
  void Reindex();
  void Clear() {
    items_.clear();
    index_.clear();
  }

 private:
  std::vector<Resource> items_;
  std::unordered_map<std::string, std::size_t> index_;
};

// A field spec: a path in objects of a kind.
struct FieldSpec {
  Gvk gvk;
  std::string path;
  bool create = false;
};

std::vector<std::string> SplitFieldPath(std::string_view path);

// Where each transformer acts.
struct TransformerConfig {
  std::vector<FieldSpec> name_prefix;
  std::vector<FieldSpec> name_suffix;
  std::vector<FieldSpec> common_labels;
  std::vector<FieldSpec> template_labels;
  std::vector<FieldSpec> labels;  // extra places for `labels:` entries
  std::vector<FieldSpec> common_annotations;
  std::vector<FieldSpec> name_space;
  std::vector<FieldSpec> var_reference;
  std::vector<FieldSpec> images;
  std::vector<FieldSpec> replicas;
  struct NameReference {
    Gvk referral;
    std::vector<FieldSpec> field_specs;
  };
  std::vector<NameReference> name_reference;

  // Adds the entries of another config, dropping exact duplicates.
  void Merge(const TransformerConfig& other);
};

std::string_view DefaultFieldSpecsYaml();
// Field specs declared by a `crds:` OpenAPI map (type name -> {Schema}):
// object references (x-kubernetes-object-ref-*), annotations, label
// selectors and identities of the custom kinds it describes.
TransformerConfig TransformerConfigFromCrds(const Node& api_map);
const TransformerConfig& DefaultTransformerConfig();
Result<TransformerConfig> ParseTransformerConfig(const Node& doc, const std::string& file);

// Calls fn on every node at the field spec's path in `object` (sequences
// along the way are entered element by element). With create, missing
// mappings are made, and a missing last field is created as null before fn
// sees it.
Status ApplyFieldSpec(Node& object, const FieldSpec& spec, const std::function<Status(Node&)>& fn);
Status ApplyFieldSpecs(Node& object, const ResId& id, const std::vector<FieldSpec>& specs,
                       const std::function<Status(Node&)>& fn);

// Strategic merge patch of `patch` into `target`, with the merge keys of the
// built-in kinds and any extra schema keys. Returns false in *keep when the
// patch deletes the whole object.
struct MergeSchema;
Status StrategicMerge(Node& target, const Node& patch, const MergeSchema* custom, bool* keep);

// Applies RFC 6902 operations to `target`.
Status ApplyJsonPatch(Node& target, const Node& operations);

// Custom schema from `openapi:` for strategic merge of non-built-in kinds.
struct MergeSchema {
  // "Kind" -> field path "spec.list" -> merge key
  std::map<std::string, std::map<std::string, std::string>> keys_by_kind;
  // "Kind" -> field paths whose schema is a built-in Kubernetes type (a
  // $ref the document does not define): lists below follow built-in keys.
  std::map<std::string, std::set<std::string>> builtin_paths_by_kind;
};

// Reads the list merge keys of every kind an OpenAPI document (JSON or
// YAML, with `definitions`) declares through x-kubernetes-group-version-kind.
Result<MergeSchema> ParseMergeSchema(const Node& document, const std::string& file);

// The content hash Kustomize appends to generated ConfigMap/Secret names.
Result<std::string> GeneratedNameHash(const Node& object);
std::string Sha256Hex(std::string_view data);
std::string Base64Encode(std::string_view data);
std::string GoJsonQuote(std::string_view s);
// Encodes as Go's encoding/json would marshal the decoded value (map keys
// sorted, no spaces).
std::string GoJsonEncode(const Node& node);

// Label selectors ("app=x,tier in (a,b),!y").
Result<bool> MatchesSelector(const Node* labels, std::string_view selector);

// A whole-string regular expression, as Kustomize matches names and
// namespaces in patch targets; compiled once, plain names skip the engine.
class NamePattern {
 public:
  explicit NamePattern(std::string pattern);
  bool Matches(std::string_view text) const;

 private:
  struct Compiled;
  std::string pattern_;
  bool literal_ = true;
  std::shared_ptr<const Compiled> regex_;
};

// Which resources a patch or replacement acts on. Name and namespace are
// regular expressions matched against the whole original or current value.
struct Selector {
  Gvk gvk;
  std::string name;
  std::string ns;
  std::string label_selector;
  std::string annotation_selector;
};
Result<Selector> ParseSelector(const Node& node, const std::string& file, const std::string& field);
// Indices of the resources the selector picks, in list order.
Result<std::vector<std::size_t>> Select(const ResourceList& list, const Selector& selector);

// The built-in transformers, each over the whole list.
Status ApplyNamespace(ResourceList& list, const std::string& ns,
                      const std::vector<FieldSpec>& specs, bool unset_only,
                      const std::string& subjects_mode);
Status ApplyPrefixSuffix(ResourceList& list, const std::string& prefix, const std::string& suffix,
                         const std::vector<FieldSpec>& specs);
Status ApplyStringMap(ResourceList& list, const Node& pairs, const std::vector<FieldSpec>& specs);
Status ApplyImage(ResourceList& list, const Node& image, const std::vector<FieldSpec>& specs);
Status ApplyReplicas(ResourceList& list, const std::string& name, const Node& count,
                     const std::vector<FieldSpec>& specs);
Status FixNameReferences(ResourceList& list, const TransformerConfig& config);
struct PatchOptions {
  bool allow_name_change = false;
  bool allow_kind_change = false;
};
// A strategic merge patch: to the selected resources, or without a
// selector to the one resource whose id matches the patch's.
Status ApplyStrategicPatch(ResourceList& list, const Node& patch, const Selector* target,
                           const PatchOptions& options, const MergeSchema* schema);
Status ApplyJson6902(ResourceList& list, const Node& operations, const Selector& target);
Status ApplyReplacements(ResourceList& list, const Node& replacements, const std::string& file);

struct Var {
  std::string name;
  Gvk gvk;
  std::string obj_name;
  std::string obj_namespace;
  std::string field_path;  // default metadata.name
};
// Ties each var to the one resource its objref names (by any id it has
// had); fails when several match.
Status BindVars(ResourceList& list, const std::vector<Var>& vars);
Status ResolveVars(ResourceList& list, const std::vector<Var>& vars,
                   const std::vector<FieldSpec>& specs);
// A mapping value by key, matching the key case-insensitively when no exact
// match exists (Go's JSON decoding of Kustomize's types does so).
const Node* FindField(const Node& map, std::string_view key);
// Value at a Kustomize field path ("spec.containers[0].image",
// "spec.template.spec.containers.[name=web].image").
Result<const Node*> LookupFieldPath(const Node& node, std::string_view path);

// Stable legacy order: kinds first/last as Kustomize lists them, then by
// group/version/kind, namespace and name.
void SortLegacy(std::vector<Resource>& items, const std::vector<std::string>& order_first,
                const std::vector<std::string>& order_last);
const std::vector<std::string>& DefaultOrderFirst();
const std::vector<std::string>& DefaultOrderLast();

}  // namespace keelson::kustomize::internal
