// Kubernetes objects on top of the Node tree: identity and the ordered set
// of objects a renderer produces.
#pragma once

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::manifest {

// What names one object in a cluster. Group is "" for the core group.
struct ResourceId {
  std::string group;
  std::string version;
  std::string kind;
  std::string namespace_;
  std::string name;

  // "apps/v1/Deployment/prod/web", "v1/Namespace/prod" for cluster scope
  // (no namespace part), "~G" style is never used.
  std::string ToString() const;
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  auto operator<=>(const ResourceId&) const = default;
  bool operator==(const ResourceId&) const = default;
};

// Splits "apps/v1" into group "apps" and version "v1" ("v1" → "", "v1").
void SplitApiVersion(std::string_view api_version, std::string* group, std::string* version);

// Reads apiVersion, kind, metadata.namespace and metadata.name. Fails when
// the node is not a mapping or apiVersion/kind are missing or not strings;
// the error names the field and the node's position.
Result<ResourceId> IdentityOf(const Node& object);

// One object together with where it came from.
struct Object {
  Node node;
  ResourceId id;
  Location origin;  // file and line of the document
};

using ObjectList = std::vector<Object>;

// Parses a multi-document YAML stream of Kubernetes objects: empty
// documents are dropped, every other document must be a mapping with
// apiVersion and kind. `kind: List` documents are flattened into their
// items, as kubectl does.
Result<ObjectList> ParseObjects(std::string_view text, const std::string& file);

// The objects as one YAML stream, documents separated by "---".
std::string EmitObjects(const ObjectList& objects);

}  // namespace keelson::manifest
