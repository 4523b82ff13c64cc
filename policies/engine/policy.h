// Policies over rendered objects: the YAML policy file format, loading from
// a FileSystem, and the set of policies a check runs.
//
// A policy file holds one or more YAML documents, each a policy:
//
//   name: no-latest-tag               # required, lowercase letters, digits, '-'
//   description: Images must name a fixed tag.
//   severity: deny                    # deny (default) or warn
//   enabled: true                     # default true
//   match:                            # every given field must match; empty = all
//     kinds: [Deployment, apps/StatefulSet]
//     namespaces: [prod-*]            # '*' globs
//     excludeNamespaces: [kube-system]
//     labelSelector: {matchLabels: {...}, matchExpressions: [...]}
//     environments: [prod]
//     units: [payments]
//   parameters: {tags: [latest]}      # any mapping, visible as `params`
//   check: containers.all(c, ...)     # CEL; true means the object passes
//   message: "container {{ ... }}"    # {{ CEL }} placeholders are interpolated
//
// A document whose name is that of an already loaded policy and that has no
// check adjusts it: given fields (severity, enabled, match, message) replace
// the loaded ones and given parameters replace parameters of the same name.
// With a check it replaces the loaded policy whole. Names must otherwise be
// unique. A loaded PolicySet is immutable in use and safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/cel.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::policy {

enum class Severity { kDeny, kWarn };
std::string_view SeverityName(Severity severity);

// A Kubernetes label selector (matchLabels and matchExpressions with In,
// NotIn, Exists, DoesNotExist). An empty selector matches everything.
struct LabelSelector {
  struct Requirement {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
  };
  std::vector<std::pair<std::string, std::string>> match_labels;
  std::vector<Requirement> expressions;

  // `labels` is a mapping of strings or nullptr (no labels).
  bool Matches(const manifest::Node* labels) const;
};

// Reads a LabelSelector; errors name file, line and field.
Result<LabelSelector> ParseLabelSelector(const manifest::Node& node, const std::string& file,
                                         const std::string& field);

struct Match {
  std::vector<std::string> kinds;  // "Kind" or "group/Kind"; empty = every kind
  std::vector<std::string> namespaces;
  std::vector<std::string> exclude_namespaces;
  bool has_selector = false;
  LabelSelector label_selector;
  std::vector<std::string> environments;
  std::vector<std::string> units;
};

// Glob with '*' (any run of characters) and '?' (one character).
bool GlobMatch(std::string_view pattern, std::string_view text);

struct MessagePart {
  std::string text;                              // literal text, or
  std::shared_ptr<const cel::Program> program;   // a {{ }} placeholder
};

struct Policy {
  std::string name;
  std::string description;
  Severity severity = Severity::kDeny;
  bool enabled = true;
  Match match;
  manifest::Node parameters = manifest::Node::Mapping();
  std::shared_ptr<const cel::Program> check;
  std::vector<MessagePart> message;
  Location origin;  // file and line of the policy document
};

// The variables and functions every policy expression sees, in activation
// order; see docs/policies.md.
//   object      the object being checked (map)
//   params      the policy's parameters (map)
//   podSpec     the pod spec inside Pods, Deployments, StatefulSets,
//               DaemonSets, ReplicaSets, ReplicationControllers, Jobs and
//               CronJobs; null for other kinds
//   containers  containers, initContainers and ephemeralContainers of
//               podSpec in that order (empty list without a pod spec)
//   environment the environment being checked ("" when none was given)
//   unit        the unit being checked ("" when none was given)
// Functions: related(kind) lists the objects of that kind in the rendered
// set that share the object's namespace; selecting(kind, labels) those of
// them whose spec.selector selects the labels (label selectors, or a
// Service's plain map); labelSelectorMatches(selector, labels); imageRegistry(image), imageRepository(image), imageTag(image),
// imageDigest(image) split an image reference the way the container
// runtime does ("nginx" is docker.io/library/nginx with no tag).
const cel::Declarations& PolicyDeclarations();
enum PolicyVariable : std::size_t { kObject, kParams, kPodSpec, kContainers, kEnvironment, kUnit, kVariableCount };

class PolicySet {
 public:
  // Parses a policy file (several documents allowed) and adds or adjusts
  // policies. Errors name the file, line, column and field, including parse
  // and type errors inside check and message expressions.
  Status AddFile(std::string_view text, const std::string& file);
  // Adds every *.yaml/*.yml file under dir, skipping hidden entries and
  // directories named "fixtures". Files load in path order. `label` is
  // put before each path in origins and errors (e.g. the directory as the
  // user typed it, or "builtin:").
  Status AddDirectory(const manifest::FileSystem& fs, std::string_view dir, std::string_view label = "");

  // Adds a policy built in code, replacing one of the same name.
  void Put(Policy policy);

  const std::vector<Policy>& policies() const { return policies_; }
  const Policy* Find(std::string_view name) const;

 private:
  std::vector<Policy> policies_;
};

// Where a YAML scalar's text came from, for pointing errors inside an
// expression at the right line and column of the file.
class ScalarSourceMap {
 public:
  ScalarSourceMap(std::string_view file_text, const manifest::Node& scalar);
  Location Locate(std::size_t offset) const;

 private:
  struct Segment {
    std::size_t offset;
    int line, column;
  };
  std::vector<Segment> segments_;
  manifest::Mark fallback_;
};

}  // namespace keelson::policy
