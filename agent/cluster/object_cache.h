// A watch-fed cache of the objects the agent manages: one watch per kind,
// limited by a label selector (the agent's unit label), kept current from
// the watch stream so that reading what is live costs no API request.
//
// The reconcile layer uses it three ways: to learn whether an object exists
// before applying it, to wait for health without polling (a waiter wakes on
// the next change), and to notice drift the moment it happens (a listener
// hears of every change after the first list).
//
// A kind is tracked from the first Track() call until Stop(); its watch runs
// on its own thread and relists by itself when the server says the version
// is too old. When the watch gives up (the server kept failing) the kind
// becomes untracked again and Find() says so, so callers fall back to
// reading the server directly; the next Track() starts it anew. Cached
// objects carry no metadata.managedFields (nothing here needs them and they
// are most of an object's size). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/cluster/client.h"
#include "renderers/manifest/node.h"
#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::cluster {

struct ObjectCacheOptions {
  // Only objects matching this selector are cached ("" caches everything).
  std::string label_selector;
  // Server-side timeout of one watch request before it is renewed.
  int watch_timeout_seconds = 300;
  // Longest Track() waits for a kind's first list.
  std::chrono::milliseconds sync_timeout{std::chrono::seconds(30)};
};

class ObjectCache {
 public:
  enum class Lookup {
    kUntracked,  // the kind is not watched (or its watch ended): ask the server
    kAbsent,     // watched, and no such object (with the selector's labels)
    kPresent,
  };
  struct Found {
    Lookup lookup = Lookup::kUntracked;
    std::shared_ptr<const manifest::Node> object;  // set when kPresent
  };
  // Hears every change after a kind's first list: the object as it is now,
  // or as it was last seen when `deleted`. Called on the kind's watch
  // thread, never with the cache's lock held.
  using Listener = std::function<void(const manifest::ResourceId& id, const manifest::Node& object, bool deleted)>;

  ObjectCache(ClusterClient& client, ObjectCacheOptions options);
  ~ObjectCache();
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  // Starts watching `gvk` unless it is watched already, and returns once
  // its first list is in the cache. Fails when the kind cannot be listed
  // (unknown to the server, access denied) or the list does not arrive
  // within sync_timeout; the kind stays untracked then.
  Status Track(const GroupVersionKind& gvk);
  bool Tracked(const GroupVersionKind& gvk) const;

  Found Find(const manifest::ResourceId& id) const;

  // A counter that moves with every change to any cached object (and when a
  // kind stops being tracked). WaitForChange blocks until it differs from
  // `seen`, the deadline passes, or Stop(); returns whether it moved.
  std::uint64_t Generation() const;
  bool WaitForChange(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) const;

  // Set before the first Track(); replaces any earlier listener.
  void SetListener(Listener listener);

  // Ends every watch (promptly: the streams are cancelled) and wakes every
  // waiter. Idempotent; the destructor calls it.
  void Stop();

  std::size_t Size() const;

 private:
  struct Kind;
  void RunWatch(std::shared_ptr<Kind> kind);
  struct Change {
    manifest::ResourceId id;
    std::shared_ptr<const manifest::Node> object;
    bool deleted = false;
  };
  // Folds one event into the cache (lock held); `changes` gets what the
  // listener should hear.
  void Apply(Kind& kind, const WatchEvent& event, std::vector<Change>* changes);

  ClusterClient& client_;
  const ObjectCacheOptions options_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t generation_ = 0;
  std::map<GroupVersionKind, std::shared_ptr<Kind>> kinds_;
  std::map<manifest::ResourceId, std::shared_ptr<const manifest::Node>> objects_;
  Listener listener_;
};

}  // namespace keelson::cluster
