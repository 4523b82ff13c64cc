#include "sandbox/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace keelson::sandbox {

namespace {
constexpr char kSeparator = '\x1f';
}

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

ObjectStore::ObjectStore(std::size_t history_limit) : history_limit_(history_limit == 0 ? 1 : history_limit) {}

std::string ObjectStore::Key(const std::string& storage_key, const std::string& ns, const std::string& name) {
  std::string key = storage_key;
  key += kSeparator;
  key += ns;
  key += kSeparator;
  key += name;
  return key;
}

void ObjectStore::SplitKey(const std::string& key, std::string* storage_key, std::string* ns, std::string* name) {
  std::size_t a = key.find(kSeparator);
  std::size_t b = a == std::string::npos ? std::string::npos : key.find(kSeparator, a + 1);
  if (b == std::string::npos) {
    *storage_key = key;
    ns->clear();
    name->clear();
    return;
  }
  *storage_key = key.substr(0, a);
  *ns = key.substr(a + 1, b - a - 1);
  *name = key.substr(b + 1);
}

const Json* ObjectStore::Get(const std::string& storage_key, const std::string& ns, const std::string& name) const {
  auto it = objects_.find(Key(storage_key, ns, name));
  return it == objects_.end() ? nullptr : &it->second;
}

void ObjectStore::Scan(const std::string& storage_key, const std::string& ns, const std::string& after,
                       const std::function<bool(const std::string&, const Json&)>& visit) const {
  std::string prefix = storage_key + kSeparator;
  if (!ns.empty()) prefix += ns + kSeparator;
  auto it = after.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(prefix + after);
  for (; it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (!visit(it->first.substr(prefix.size()), it->second)) return;
  }
}

const Json& ObjectStore::Put(const std::string& storage_key, const std::string& ns, const std::string& name,
                             Json object) {
  std::uint64_t rv = ++resource_version_;
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  auto [it, inserted] = objects_.insert_or_assign(Key(storage_key, ns, name), std::move(object));
  Record(StoreEvent{rv, inserted ? EventType::kAdded : EventType::kModified, storage_key, ns, it->second});
  return it->second;
}

bool ObjectStore::Remove(const std::string& storage_key, const std::string& ns, const std::string& name) {
  auto it = objects_.find(Key(storage_key, ns, name));
  if (it == objects_.end()) return false;
  std::uint64_t rv = ++resource_version_;
  Json object = std::move(it->second);
  objects_.erase(it);
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  Record(StoreEvent{rv, EventType::kDeleted, storage_key, ns, std::move(object)});
  return true;
}

void ObjectStore::Record(StoreEvent event) {
  dirty_ = true;
  history_.push_back(std::move(event));
  while (history_.size() > history_limit_) {
    oldest_resumable_ = history_.front().resource_version;
    history_.pop_front();
  }
  const StoreEvent& e = history_.back();
  // Callbacks only queue; copying the ids first keeps iteration valid even
  // if a callback removes its own watcher.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, w] : watchers_) {
    if (w.storage_key == e.storage_key) ids.push_back(id);
  }
  for (std::uint64_t id : ids) {
    auto it = watchers_.find(id);
    if (it != watchers_.end()) it->second.callback(e);
  }
}

std::optional<std::vector<StoreEvent>> ObjectStore::EventsSince(const std::string& storage_key,
                                                                std::uint64_t since) const {
  if (since < oldest_resumable_) return std::nullopt;
  std::vector<StoreEvent> out;
  for (const StoreEvent& e : history_) {
    if (e.resource_version > since && e.storage_key == storage_key) out.push_back(e);
  }
  return out;
}

std::uint64_t ObjectStore::AddWatcher(const std::string& storage_key, WatchCallback callback) {
  std::uint64_t id = next_watcher_++;
  watchers_.emplace(id, Watcher{storage_key, std::move(callback)});
  return id;
}

void ObjectStore::RemoveWatcher(std::uint64_t id) { watchers_.erase(id); }

Status ObjectStore::Save(const std::string& path) const {
  Json snapshot = Json::object();
  snapshot["resourceVersion"] = resource_version_;
  Json objects = Json::array();
  for (const auto& [key, object] : objects_) {
    std::string storage_key, ns, name;
    SplitKey(key, &storage_key, &ns, &name);
    objects.push_back(Json{{"storageKey", storage_key}, {"object", object}});
  }
  snapshot["objects"] = std::move(objects);
  std::string text = snapshot.dump();
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kInternal, std::string("cannot write state: ") + std::strerror(errno), {temp, 0, 0, ""});
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      return MakeError(ErrorCode::kInternal, std::string("cannot write state: ") + std::strerror(saved), {temp, 0, 0, ""});
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return MakeError(ErrorCode::kInternal, std::string("cannot flush state: ") + std::strerror(errno), {temp, 0, 0, ""});
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return MakeError(ErrorCode::kInternal, std::string("cannot replace state: ") + std::strerror(errno), {path, 0, 0, ""});
  }
  return Status::Ok();
}

Status ObjectStore::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Ok();
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json snapshot = Json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (snapshot.is_discarded() || !snapshot.is_object() || !snapshot.contains("resourceVersion") ||
      !snapshot["resourceVersion"].is_number_unsigned() || !snapshot.contains("objects") ||
      !snapshot["objects"].is_array()) {
    return MakeError(ErrorCode::kInvalidInput, "not a sandbox state file", {path, 0, 0, ""});
  }
  std::map<std::string, Json> objects;
  for (const Json& entry : snapshot["objects"]) {
    if (!entry.is_object() || !entry.contains("storageKey") || !entry["storageKey"].is_string() ||
        !entry.contains("object") || !entry["object"].is_object()) {
      return MakeError(ErrorCode::kInvalidInput, "malformed object entry", {path, 0, 0, "objects"});
    }
    const Json& object = entry["object"];
    const Json* metadata = object.contains("metadata") ? &object["metadata"] : nullptr;
    if (metadata == nullptr || !metadata->is_object() || !metadata->contains("name") ||
        !(*metadata)["name"].is_string()) {
      return MakeError(ErrorCode::kInvalidInput, "object without metadata.name", {path, 0, 0, "objects"});
    }
    std::string ns = metadata->contains("namespace") && (*metadata)["namespace"].is_string()
                         ? (*metadata)["namespace"].get<std::string>()
                         : "";
    objects[Key(entry["storageKey"].get<std::string>(), ns, (*metadata)["name"].get<std::string>())] = object;
  }
  objects_ = std::move(objects);
  resource_version_ = snapshot["resourceVersion"].get<std::uint64_t>();
  oldest_resumable_ = resource_version_;
  history_.clear();
  dirty_ = false;
  return Status::Ok();
}

}  // namespace keelson::sandbox
