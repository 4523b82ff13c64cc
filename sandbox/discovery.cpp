// Discovery (/api, /apis, per group-version, aggregated) and the OpenAPI v3
// documents kubectl reads before it applies.
#include <openssl/sha.h>

#include <cstdio>

#include "sandbox/api.h"

namespace keelson::sandbox {

namespace {

constexpr const char* kAggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

Json Verbs() {
  return Json::array({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"});
}

ApiResponse Reply(const Json& body, const char* content_type = "application/json") {
  ApiResponse r;
  r.content_type = content_type;
  r.body = body.dump();
  return r;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  char byte[3];
  for (unsigned char d : digest) {
    std::snprintf(byte, sizeof byte, "%02X", d);
    hex += byte;
  }
  return hex;
}

std::string GroupVersionPath(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

}  // namespace

ApiResponse SandboxApi::CoreVersions(bool aggregated) const {
  if (aggregated) {
    Json list = Json::object();
    list["kind"] = "APIGroupDiscoveryList";
    list["apiVersion"] = "apidiscovery.k8s.io/v2";
    list["metadata"] = Json::object();
    list["items"] = Json::array({AggregatedGroup("")});
    return Reply(list, kAggregatedType);
  }
  return Reply(Json{{"kind", "APIVersions"},
                    {"versions", Json::array({"v1"})},
                    {"serverAddressByClientCIDRs",
                     Json::array({Json{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", options_.server_address}}})}});
}

Json SandboxApi::AggregatedGroup(const std::string& group) const {
  Json item = Json::object();
  item["metadata"] = group.empty() ? Json::object() : Json{{"name", group}};
  Json versions = Json::array();
  for (const std::string& version : registry_.Versions(group)) {
    Json resources = Json::array();
    for (const ResourceType& t : registry_.types()) {
      if (t.group != group || t.version != version) continue;
      Json r = Json::object();
      r["resource"] = t.plural;
      r["responseKind"] = Json{{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
      r["scope"] = t.namespaced ? "Namespaced" : "Cluster";
      r["singularResource"] = t.singular;
      r["verbs"] = Verbs();
      if (!t.short_names.empty()) r["shortNames"] = t.short_names;
      if (!t.categories.empty()) r["categories"] = t.categories;
      Json subresources = Json::array();
      if (t.has_status) {
        subresources.push_back(Json{{"subresource", "status"},
                                    {"responseKind", r["responseKind"]},
                                    {"verbs", Json::array({"get", "patch", "update"})}});
      }
      if (t.has_scale) {
        subresources.push_back(Json{{"subresource", "scale"},
                                    {"responseKind", Json{{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
                                    {"verbs", Json::array({"get", "patch", "update"})}});
      }
      if (!subresources.empty()) r["subresources"] = std::move(subresources);
      resources.push_back(std::move(r));
    }
    versions.push_back(Json{{"version", version}, {"resources", std::move(resources)}, {"freshness", "Current"}});
  }
  item["versions"] = std::move(versions);
  return item;
}

ApiResponse SandboxApi::GroupList(bool aggregated) const {
  if (aggregated) {
    Json items = Json::array();
    for (const std::string& group : registry_.Groups()) {
      if (!group.empty()) items.push_back(AggregatedGroup(group));
    }
    return Reply(Json{{"kind", "APIGroupDiscoveryList"},
                      {"apiVersion", "apidiscovery.k8s.io/v2"},
                      {"metadata", Json::object()},
                      {"items", std::move(items)}},
                 kAggregatedType);
  }
  Json groups = Json::array();
  for (const std::string& group : registry_.Groups()) {
    if (group.empty()) continue;
    Json versions = Json::array();
    for (const std::string& v : registry_.Versions(group)) {
      versions.push_back(Json{{"groupVersion", group + "/" + v}, {"version", v}});
    }
    Json preferred = versions[0];
    groups.push_back(Json{{"name", group}, {"versions", std::move(versions)}, {"preferredVersion", preferred}});
  }
  return Reply(Json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}});
}

ApiResponse SandboxApi::GroupInfo(const std::string& group) const {
  std::vector<std::string> versions = registry_.Versions(group);
  if (versions.empty() || group.empty()) {
    ApiResponse r = Reply(Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                               {"status", "Failure"}, {"message", "the server could not find the requested resource"},
                               {"reason", "NotFound"}, {"code", 404}});
    r.status = 404;
    return r;
  }
  Json list = Json::array();
  for (const std::string& v : versions) list.push_back(Json{{"groupVersion", group + "/" + v}, {"version", v}});
  Json preferred = list[0];
  return Reply(Json{{"kind", "APIGroup"}, {"apiVersion", "v1"}, {"name", group}, {"versions", list},
                    {"preferredVersion", preferred}});
}

ApiResponse SandboxApi::ResourceList(const std::string& group, const std::string& version) const {
  Json resources = Json::array();
  for (const ResourceType& t : registry_.types()) {
    if (t.group != group || t.version != version) continue;
    Json r = Json::object();
    r["name"] = t.plural;
    r["singularName"] = t.singular;
    r["namespaced"] = t.namespaced;
    r["kind"] = t.kind;
    r["verbs"] = Verbs();
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(std::move(r));
    if (t.has_status) {
      resources.push_back(Json{{"name", t.plural + "/status"},
                               {"singularName", ""},
                               {"namespaced", t.namespaced},
                               {"kind", t.kind},
                               {"verbs", Json::array({"get", "patch", "update"})}});
    }
    if (t.has_scale) {
      resources.push_back(Json{{"name", t.plural + "/scale"},
                               {"singularName", ""},
                               {"namespaced", t.namespaced},
                               {"group", "autoscaling"},
                               {"version", "v1"},
                               {"kind", "Scale"},
                               {"verbs", Json::array({"get", "patch", "update"})}});
    }
  }
  if (resources.empty()) {
    ApiResponse r = Reply(Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                               {"status", "Failure"}, {"message", "the server could not find the requested resource"},
                               {"reason", "NotFound"}, {"code", 404}});
    r.status = 404;
    return r;
  }
  std::string gv = group.empty() ? version : group + "/" + version;
  return Reply(Json{{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv},
                    {"resources", std::move(resources)}});
}

Json SandboxApi::OpenApiFor(const std::string& group, const std::string& version) const {
  Json paths = Json::object();
  Json schemas = Json::object();
  auto param = [](const char* name, const char* in) {
    return Json{{"name", name}, {"in", in}, {"schema", Json{{"type", "string"}}}};
  };
  for (const ResourceType& t : registry_.types()) {
    if (t.group != group || t.version != version) continue;
    Json gvk = Json{{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
    std::string schema_name = (t.group.empty() ? std::string("io.k8s.api.core") : t.group) + "." + t.version + "." + t.kind;
    Json ref = Json{{"$ref", "#/components/schemas/" + schema_name}};
    Json ok = Json{{"200", Json{{"description", "OK"},
                                {"content", Json{{"application/json", Json{{"schema", ref}}}}}}}};
    auto op = [&](const char* action, Json parameters) {
      return Json{{"operationId", std::string(action) + t.kind},
                  {"parameters", std::move(parameters)},
                  {"responses", ok},
                  {"x-kubernetes-action", action},
                  {"x-kubernetes-group-version-kind", gvk}};
    };
    Json write_params = Json::array({param("dryRun", "query"), param("fieldManager", "query"),
                                     param("fieldValidation", "query")});
    Json patch_params = write_params;
    patch_params.push_back(param("force", "query"));
    std::string base = "/" + GroupVersionPath(group, version) + (t.namespaced ? "/namespaces/{namespace}/" : "/") +
                       t.plural;
    paths[base] = Json{{"get", op("list", Json::array({param("labelSelector", "query"), param("limit", "query"),
                                                       param("continue", "query"), param("watch", "query")}))},
                       {"post", op("post", write_params)}};
    paths[base + "/{name}"] = Json{{"get", op("get", Json::array())},
                                   {"put", op("put", write_params)},
                                   {"patch", op("patch", patch_params)},
                                   {"delete", op("delete", Json::array({param("dryRun", "query")}))}};
    if (t.has_status) {
      paths[base + "/{name}/status"] = Json{{"get", op("get", Json::array())},
                                            {"put", op("put", write_params)},
                                            {"patch", op("patch", patch_params)}};
    }
    schemas[schema_name] = Json{{"type", "object"},
                                {"x-kubernetes-preserve-unknown-fields", true},
                                {"properties", Json{{"apiVersion", Json{{"type", "string"}}},
                                                    {"kind", Json{{"type", "string"}}},
                                                    {"metadata", Json{{"type", "object"},
                                                                      {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  }
  return Json{{"openapi", "3.0.0"},
              {"info", Json{{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", std::move(paths)},
              {"components", Json{{"schemas", std::move(schemas)}}}};
}

const std::pair<std::string, std::string>& SandboxApi::OpenApiCached(const std::string& group,
                                                                     const std::string& version) const {
  auto& entry = openapi_cache_[GroupVersionPath(group, version)];
  if (entry.first != registry_.epoch() || entry.second.first.empty()) {
    std::string body = OpenApiFor(group, version).dump();
    std::string hash = Sha256Hex(body);
    entry = {registry_.epoch(), {std::move(body), std::move(hash)}};
  }
  return entry.second;
}

ApiResponse SandboxApi::OpenApiIndex() const {
  Json paths = Json::object();
  for (const std::string& group : registry_.Groups()) {
    for (const std::string& version : registry_.Versions(group)) {
      std::string path = GroupVersionPath(group, version);
      const std::string& hash = OpenApiCached(group, version).second;
      paths[path] = Json{{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hash}};
    }
  }
  return Reply(Json{{"paths", std::move(paths)}});
}

ApiResponse SandboxApi::OpenApiDocument(const std::string& group_version_path) const {
  for (const std::string& group : registry_.Groups()) {
    for (const std::string& version : registry_.Versions(group)) {
      if (GroupVersionPath(group, version) == group_version_path) {
        ApiResponse r;
        r.body = OpenApiCached(group, version).first;
        return r;
      }
    }
  }
  ApiResponse r = Reply(Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                             {"status", "Failure"}, {"message", "no OpenAPI document for " + group_version_path},
                             {"reason", "NotFound"}, {"code", 404}});
  r.status = 404;
  return r;
}

}  // namespace keelson::sandbox
