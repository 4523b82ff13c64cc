#include "agent/reconcile/inventory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "renderers/manifest/json.h"

namespace keelson::reconcile {

using manifest::Node;
using manifest::ResourceId;

std::string Inventory::ToJson() const {
  nlohmann::ordered_json j;
  j["unit"] = unit;
  j["revision"] = revision;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ResourceId& id : objects) {
    list.push_back({{"apiVersion", id.ApiVersion()}, {"kind", id.kind}, {"namespace", id.namespace_},
                    {"name", id.name}});
  }
  j["objects"] = std::move(list);
  return j.dump();
}

Result<Inventory> Inventory::FromJson(std::string_view text, const std::string& origin) {
  Result<Node> n = manifest::ParseJson(text, origin);
  if (!n.ok()) return std::move(n).error();
  Inventory inv;
  inv.unit = n->GetString("unit");
  inv.revision = n->GetString("revision");
  const Node* objects = n->Find("objects");
  if (inv.unit.empty() || objects == nullptr || !objects->IsSequence()) {
    return MakeError(ErrorCode::kInvalidInput, "malformed inventory (needs unit and objects)", Location{origin, 0, 0, {}});
  }
  for (const Node& o : objects->items()) {
    ResourceId id;
    manifest::SplitApiVersion(o.GetString("apiVersion"), &id.group, &id.version);
    id.kind = o.GetString("kind");
    id.namespace_ = o.GetString("namespace");
    id.name = o.GetString("name");
    if (id.kind.empty() || id.name.empty() || id.version.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "malformed inventory entry", Location{origin, 0, 0, "objects"});
    }
    inv.objects.push_back(std::move(id));
  }
  return inv;
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  fs::path target(path);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return MakeError(ErrorCode::kInternal, std::string("cannot write: ") + std::strerror(errno), Location{path, 0, 0, {}});
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return MakeError(ErrorCode::kInternal, std::string("cannot write: ") + std::strerror(errno), Location{path, 0, 0, {}});
    }
    done += static_cast<std::size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError(ErrorCode::kInternal, std::string("cannot store: ") + std::strerror(errno), Location{path, 0, 0, {}});
  }
  int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

FileInventoryStore::FileInventoryStore(std::string dir) : dir_(std::move(dir)) {}

Result<std::optional<Inventory>> FileInventoryStore::Load(const std::string& unit) {
  std::string path = dir_ + "/" + unit + ".json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<Inventory>();
  std::ostringstream buf;
  buf << in.rdbuf();
  Result<Inventory> inv = Inventory::FromJson(buf.str(), path);
  if (!inv.ok()) return std::move(inv).error();
  return std::optional<Inventory>(std::move(inv).value());
}

Status FileInventoryStore::Save(const Inventory& inventory) {
  return WriteFileAtomically(dir_ + "/" + inventory.unit + ".json", inventory.ToJson());
}

namespace {

ResourceId InventoryConfigMapId(const std::string& unit) {
  return ResourceId{"", "v1", "ConfigMap", kInventoryNamespace, "keelson-inventory-" + unit};
}

}  // namespace

ClusterInventoryStore::ClusterInventoryStore(cluster::ClusterClient& client) : client_(client) {}

Result<std::optional<Inventory>> ClusterInventoryStore::Load(const std::string& unit) {
  Result<Node> cm = client_.Get(InventoryConfigMapId(unit));
  if (!cm.ok()) {
    if (cm.error().code == ErrorCode::kNotFound) return std::optional<Inventory>();
    return std::move(cm).error();
  }
  const Node* data = cm->FindPath({"data", "inventory.json"});
  if (data == nullptr || !data->IsString()) {
    return MakeError(ErrorCode::kInvalidInput, "inventory ConfigMap has no data.inventory.json",
                     Location{InventoryConfigMapId(unit).ToString(), 0, 0, {}});
  }
  Result<Inventory> inv = Inventory::FromJson(data->AsString(), InventoryConfigMapId(unit).ToString());
  if (!inv.ok()) return std::move(inv).error();
  return std::optional<Inventory>(std::move(inv).value());
}

Status ClusterInventoryStore::Save(const Inventory& inventory) {
  Node ns = Node::Mapping();
  ns.Set("apiVersion", Node::String("v1"));
  ns.Set("kind", Node::String("Namespace"));
  ns["metadata"].Set("name", Node::String(kInventoryNamespace));
  cluster::ApplyOptions options;
  options.force = true;
  if (Result<Node> r = client_.Apply(ns, options); !r.ok()) return std::move(r).error();
  ResourceId id = InventoryConfigMapId(inventory.unit);
  Node cm = Node::Mapping();
  cm.Set("apiVersion", Node::String("v1"));
  cm.Set("kind", Node::String("ConfigMap"));
  Node& meta = cm["metadata"];
  meta.Set("name", Node::String(id.name));
  meta.Set("namespace", Node::String(id.namespace_));
  meta["labels"].Set("app.kubernetes.io/managed-by", Node::String("keelson"));
  meta["labels"].Set("keelson.dev/unit", Node::String(inventory.unit));
  cm["data"].Set("inventory.json", Node::String(inventory.ToJson()));
  if (Result<Node> r = client_.Apply(cm, options); !r.ok()) return std::move(r).error();
  return Status::Ok();
}

MirroredInventoryStore::MirroredInventoryStore(InventoryStore& primary, InventoryStore& local)
    : primary_(primary), local_(local) {}

Result<std::optional<Inventory>> MirroredInventoryStore::Load(const std::string& unit) {
  Result<std::optional<Inventory>> remote = primary_.Load(unit);
  if (remote.ok() && remote->has_value()) return remote;
  Result<std::optional<Inventory>> local = local_.Load(unit);
  if (local.ok() && local->has_value()) return local;
  if (!remote.ok()) return remote;
  return local;
}

Status MirroredInventoryStore::Save(const Inventory& inventory) {
  if (Status s = local_.Save(inventory); !s) return s;
  return primary_.Save(inventory);
}

}  // namespace keelson::reconcile
