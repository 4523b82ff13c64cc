// The sandbox's object database: every stored object by (storage key,
// namespace, name), the resourceVersion counter, a bounded history of
// changes for watches, and atomic snapshots to a state directory.
//
// Not thread-safe: the sandbox runs everything on one I/O thread. Watcher
// callbacks run synchronously inside Put/Remove, so they must only queue
// work (never call back into the store).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "renderers/manifest/result.h"
#include "sandbox/resources.h"

namespace keelson::sandbox {

enum class EventType { kAdded, kModified, kDeleted };
const char* EventTypeName(EventType type);

struct StoreEvent {
  std::uint64_t resource_version = 0;
  EventType type = EventType::kAdded;
  std::string storage_key;
  std::string namespace_;
  Json object;  // the object after the change (before removal for kDeleted)
};

class ObjectStore {
 public:
  using WatchCallback = std::function<void(const StoreEvent&)>;

  // history_limit bounds how many past events a watch can resume from;
  // older resourceVersions get 410 Gone.
  explicit ObjectStore(std::size_t history_limit = 10000);

  const Json* Get(const std::string& storage_key, const std::string& ns, const std::string& name) const;

  // Objects of one storage key in key order (namespace, then name), starting
  // after `after` (an opaque position from a previous page, "" for the
  // start). ns "" lists every namespace. Visits until `visit` returns false.
  void Scan(const std::string& storage_key, const std::string& ns, const std::string& after,
            const std::function<bool(const std::string& position, const Json&)>& visit) const;

  // Stores an object, giving it the next resourceVersion (written into
  // metadata.resourceVersion) and recording the event. Returns the stored
  // object.
  const Json& Put(const std::string& storage_key, const std::string& ns, const std::string& name, Json object);
  // Removes an object; the event carries the object with a fresh
  // resourceVersion. Returns false when it did not exist.
  bool Remove(const std::string& storage_key, const std::string& ns, const std::string& name);

  std::uint64_t resource_version() const { return resource_version_; }
  // The oldest resourceVersion a watch can start after.
  std::uint64_t oldest_resumable() const { return oldest_resumable_; }

  // Events after `since` for one storage key, or nullopt when history no
  // longer reaches back that far.
  std::optional<std::vector<StoreEvent>> EventsSince(const std::string& storage_key, std::uint64_t since) const;

  std::uint64_t AddWatcher(const std::string& storage_key, WatchCallback callback);
  void RemoveWatcher(std::uint64_t id);
  std::size_t watcher_count() const { return watchers_.size(); }

  // Every object of every kind, for snapshots and the controllers.
  const std::map<std::string, Json>& all() const { return objects_; }
  static void SplitKey(const std::string& key, std::string* storage_key, std::string* ns, std::string* name);

  // Writes {"resourceVersion": N, "objects": [...]} to path atomically
  // (temporary file, fsync, rename).
  Status Save(const std::string& path) const;
  // Replaces the contents with a snapshot written by Save. A missing file is
  // not an error (a fresh cluster).
  Status Load(const std::string& path);
  bool dirty() const { return dirty_; }
  void clear_dirty() { dirty_ = false; }

 private:
  static std::string Key(const std::string& storage_key, const std::string& ns, const std::string& name);
  void Record(StoreEvent event);

  std::map<std::string, Json> objects_;
  std::uint64_t resource_version_ = 1;
  std::uint64_t oldest_resumable_ = 1;
  std::deque<StoreEvent> history_;
  std::size_t history_limit_;
  struct Watcher {
    std::string storage_key;
    WatchCallback callback;
  };
  std::map<std::uint64_t, Watcher> watchers_;
  std::uint64_t next_watcher_ = 1;
  bool dirty_ = false;
};

}  // namespace keelson::sandbox
