// The kinds the sandbox serves: the built-in table and the custom kinds that
// applied CustomResourceDefinitions add.
//
// A ResourceRegistry is a plain value owned by the API server; it is not
// thread-safe (the sandbox runs on one I/O thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace keelson::sandbox {

using Json = nlohmann::ordered_json;

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string plural;    // the URL segment, e.g. "deployments"
  std::string singular;  // "deployment"
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool has_status = false;       // a /status subresource exists
  bool has_scale = false;        // a /scale subresource (autoscaling/v1 Scale) exists
  bool sets_generation = false;  // metadata.generation counts spec changes
  bool custom = false;           // defined by a CustomResourceDefinition
  std::string crd_name;          // "widgets.example.com" when custom

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // Objects of every version of one group and resource share storage.
  std::string StorageKey() const { return group + "/" + plural; }
  // "deployments.apps", "configmaps": how errors name the resource.
  std::string GroupResource() const { return group.empty() ? plural : plural + "." + group; }
};

class ResourceRegistry {
 public:
  // Starts with the built-in kinds only.
  ResourceRegistry();

  const ResourceType* Find(std::string_view group, std::string_view version, std::string_view plural) const;
  const ResourceType* FindKind(std::string_view group, std::string_view version, std::string_view kind) const;
  const std::vector<ResourceType>& types() const { return types_; }

  // Group names in discovery order ("" first, then built-in groups, then
  // custom groups in the order they were added).
  std::vector<std::string> Groups() const;
  // Versions served for a group, preferred first.
  std::vector<std::string> Versions(std::string_view group) const;

  // Registers (or re-registers) every served version of a CRD object.
  // Returns false with a message when the CRD is malformed or clashes with
  // a built-in kind.
  bool AddCustom(const Json& crd, std::string* message);
  void RemoveCustom(std::string_view crd_name);

  // Changes whenever the set of kinds changes; part of the OpenAPI hashes.
  std::uint64_t epoch() const { return epoch_; }

 private:
  std::vector<ResourceType> types_;
  std::uint64_t epoch_ = 1;
};

}  // namespace keelson::sandbox
