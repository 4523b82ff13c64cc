#include "renderers/manifest/object.h"

#include "renderers/manifest/yaml.h"

namespace keelson::manifest {

std::string ResourceId::ToString() const {
  std::string out = ApiVersion() + "/" + kind + "/";
  if (!namespace_.empty()) out += namespace_ + "/";
  out += name;
  return out;
}

void SplitApiVersion(std::string_view api_version, std::string* group, std::string* version) {
  auto slash = api_version.rfind('/');
  if (slash == std::string_view::npos) {
    group->clear();
    *version = std::string(api_version);
  } else {
    *group = std::string(api_version.substr(0, slash));
    *version = std::string(api_version.substr(slash + 1));
  }
}

Result<ResourceId> IdentityOf(const Node& object) {
  Location where{{}, object.mark().line, object.mark().column, {}};
  if (!object.IsMapping()) {
    return MakeError(ErrorCode::kInvalidInput, "a Kubernetes object must be a mapping", where);
  }
  auto require_string = [&](std::string_view key, std::string* out) -> Status {
    const Node* n = object.Find(key);
    if (n == nullptr || !n->IsString() || n->AsString().empty()) {
      Location at = where;
      at.field = std::string(key);
      if (n != nullptr) {
        at.line = n->mark().line;
        at.column = n->mark().column;
      }
      return MakeError(ErrorCode::kInvalidInput,
                       n == nullptr ? "missing field" : "must be a non-empty string", at);
    }
    *out = n->AsString();
    return Status::Ok();
  };
  ResourceId id;
  std::string api_version;
  if (Status s = require_string("apiVersion", &api_version); !s) return std::move(s).error();
  if (Status s = require_string("kind", &id.kind); !s) return std::move(s).error();
  SplitApiVersion(api_version, &id.group, &id.version);
  if (const Node* meta = object.Find("metadata"); meta != nullptr && meta->IsMapping()) {
    id.name = meta->GetString("name");
    id.namespace_ = meta->GetString("namespace");
  }
  return id;
}

Result<ObjectList> ParseObjects(std::string_view text, const std::string& file) {
  ParseOptions options;
  options.file = file;
  Result<std::vector<Node>> docs = ParseYamlStream(text, options);
  if (!docs.ok()) return std::move(docs).error();
  ObjectList out;
  auto add = [&](Node node) -> Status {
    Result<ResourceId> id = IdentityOf(node);
    if (!id.ok()) return std::move(id).error().InFile(file);
    Location origin{file, node.mark().line, node.mark().column, {}};
    out.push_back(Object{std::move(node), std::move(id).value(), std::move(origin)});
    return Status::Ok();
  };
  for (Node& doc : *docs) {
    if (doc.IsNull()) continue;
    if (doc.IsMapping() && doc.GetString("kind") == "List" && doc.Find("items") != nullptr) {
      Node* items = doc.Find("items");
      if (!items->IsSequence()) {
        return MakeError(ErrorCode::kInvalidInput, "must be a list",
                         Location{file, items->mark().line, items->mark().column, "items"});
      }
      for (Node& item : items->items()) {
        if (Status s = add(std::move(item)); !s) return std::move(s).error();
      }
      continue;
    }
    if (Status s = add(std::move(doc)); !s) return std::move(s).error();
  }
  return out;
}

std::string EmitObjects(const ObjectList& objects) {
  std::string out;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out += "---\n";
    out += EmitYaml(objects[i].node);
  }
  return out;
}

}  // namespace keelson::manifest
