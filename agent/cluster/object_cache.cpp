#include "agent/cluster/object_cache.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <set>
#include <utility>

namespace keelson::cluster {

using manifest::Node;
using manifest::ResourceId;

struct ObjectCache::Kind {
  GroupVersionKind gvk;
  bool namespaced = true;
  bool synced = false;  // the first list is in
  bool alive = true;    // the watch thread runs
  std::optional<Error> failure;  // why the watch ended, when it did
  std::chrono::steady_clock::time_point failed_at{};
  std::thread thread;
};

namespace {
// A kind that could not be watched is not asked about again for this long:
// callers fall back to the API meanwhile, and a kind the server does not
// serve yet (a CRD being established) costs one discovery, not one per use.
constexpr auto kRetryRefusedKind = std::chrono::seconds(10);
}  // namespace

namespace {

// The cache keeps what drift and health read; managedFields are large and
// read by neither.
std::shared_ptr<const Node> Slim(Node object) {
  if (Node* meta = object.Find("metadata"); meta != nullptr && meta->IsMapping()) meta->Erase("managedFields");
  return std::make_shared<const Node>(std::move(object));
}

ResourceId KindStart(const GroupVersionKind& gvk) { return ResourceId{gvk.group, gvk.version, gvk.kind, "", ""}; }

bool OfKind(const ResourceId& id, const GroupVersionKind& gvk) {
  return id.group == gvk.group && id.version == gvk.version && id.kind == gvk.kind;
}

}  // namespace

ObjectCache::ObjectCache(ClusterClient& client, ObjectCacheOptions options)
    : client_(client), options_(std::move(options)) {}

ObjectCache::~ObjectCache() { Stop(); }

void ObjectCache::SetListener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

Status ObjectCache::Track(const GroupVersionKind& gvk) {
  std::unique_lock lock(mu_);
  std::shared_ptr<Kind> kind;
  while (true) {
    if (stop_) return MakeError(ErrorCode::kUnavailable, "the object cache is stopped");
    auto it = kinds_.find(gvk);
    if (it != kinds_.end() && it->second->alive) {
      kind = it->second;
      break;
    }
    if (it != kinds_.end() && !it->second->thread.joinable() && it->second->failure &&
        std::chrono::steady_clock::now() - it->second->failed_at < kRetryRefusedKind) {
      return *it->second->failure;
    }
    if (it != kinds_.end() && it->second->thread.joinable()) {
      // The watch ended; collect its thread (it has left RunWatch's locked
      // part already) before starting a new one.
      std::thread finished = std::move(it->second->thread);
      lock.unlock();
      finished.join();
      lock.lock();
      continue;
    }
    lock.unlock();
    Result<ResourceMapping> mapping = client_.Mapping(gvk);
    lock.lock();
    if (!mapping.ok()) {
      Error e = std::move(mapping).error();
      e.message = "watching " + gvk.ToString() + ": " + e.message;
      it = kinds_.find(gvk);
      if (it == kinds_.end() || (!it->second->alive && !it->second->thread.joinable())) {
        auto refused = std::make_shared<Kind>();
        refused->gvk = gvk;
        refused->alive = false;
        refused->failure = e;
        refused->failed_at = std::chrono::steady_clock::now();
        kinds_[gvk] = refused;
      }
      return e;
    }
    if (stop_) return MakeError(ErrorCode::kUnavailable, "the object cache is stopped");
    it = kinds_.find(gvk);
    if (it != kinds_.end() && (it->second->alive || it->second->thread.joinable())) continue;  // raced another caller
    kind = std::make_shared<Kind>();
    kind->gvk = gvk;
    kind->namespaced = mapping->namespaced;
    kinds_[gvk] = kind;
    kind->thread = std::thread([this, kind] { RunWatch(kind); });
    break;
  }
  auto deadline = std::chrono::steady_clock::now() + options_.sync_timeout;
  bool done = cv_.wait_until(lock, deadline, [&] { return kind->synced || !kind->alive || stop_; });
  if (kind->synced && kind->alive) return Status::Ok();
  if (!done) return MakeError(ErrorCode::kUnavailable, "watching " + gvk.ToString() + ": no list within the sync timeout");
  if (kind->failure) return *kind->failure;
  return MakeError(ErrorCode::kUnavailable, "watching " + gvk.ToString() + ": the watch ended");
}

bool ObjectCache::Tracked(const GroupVersionKind& gvk) const {
  std::lock_guard lock(mu_);
  auto it = kinds_.find(gvk);
  return it != kinds_.end() && it->second->alive && it->second->synced;
}

ObjectCache::Found ObjectCache::Find(const ResourceId& id) const {
  std::lock_guard lock(mu_);
  auto kind = kinds_.find(GroupVersionKind{id.group, id.version, id.kind});
  if (kind == kinds_.end() || !kind->second->alive || !kind->second->synced) return {};
  // A namespaced object named without its namespace lives in the client's
  // default namespace, which only the server-side path knows.
  if (kind->second->namespaced && id.namespace_.empty()) return {};
  ResourceId key = id;
  if (!kind->second->namespaced) key.namespace_.clear();
  auto it = objects_.find(key);
  if (it == objects_.end()) return Found{Lookup::kAbsent, nullptr};
  return Found{Lookup::kPresent, it->second};
}

std::uint64_t ObjectCache::Generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

bool ObjectCache::WaitForChange(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return generation_ != seen || stop_; });
  return generation_ != seen;
}

std::size_t ObjectCache::Size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

void ObjectCache::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (auto& [gvk, kind] : kinds_) {
      if (kind->thread.joinable()) threads.push_back(std::move(kind->thread));
    }
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

void ObjectCache::Apply(Kind& kind, const WatchEvent& event, std::vector<Change>* changes) {
  auto key_of = [&](const Node& object) -> std::optional<ResourceId> {
    Result<ResourceId> id = manifest::IdentityOf(object);
    if (!id.ok() || id->name.empty()) return std::nullopt;
    if (!kind.namespaced) id->namespace_.clear();
    return *id;
  };
  switch (event.type) {
    case WatchEventType::kBookmark:
      return;
    case WatchEventType::kReset: {
      // A relist: whatever differs from the cache is a change.
      std::set<ResourceId> listed;
      for (const Node& item : event.items) {
        std::optional<ResourceId> id = key_of(item);
        if (!id) continue;
        listed.insert(*id);
        std::shared_ptr<const Node> slim = Slim(item);
        auto it = objects_.find(*id);
        bool changed = it == objects_.end() || !(*it->second == *slim);
        objects_[*id] = slim;
        if (changed && kind.synced) changes->push_back(Change{*id, slim, false});
      }
      for (auto it = objects_.lower_bound(KindStart(kind.gvk)); it != objects_.end() && OfKind(it->first, kind.gvk);) {
        if (listed.count(it->first) == 0) {
          if (kind.synced) changes->push_back(Change{it->first, it->second, true});
          it = objects_.erase(it);
        } else {
          ++it;
        }
      }
      kind.synced = true;
      return;
    }
    case WatchEventType::kAdded:
    case WatchEventType::kModified: {
      std::optional<ResourceId> id = key_of(event.object);
      if (!id) return;
      std::shared_ptr<const Node> slim = Slim(event.object);
      objects_[*id] = slim;
      changes->push_back(Change{*id, slim, false});
      return;
    }
    case WatchEventType::kDeleted: {
      std::optional<ResourceId> id = key_of(event.object);
      if (!id) return;
      objects_.erase(*id);
      changes->push_back(Change{*id, Slim(event.object), true});
      return;
    }
  }
}

void ObjectCache::RunWatch(std::shared_ptr<Kind> kind) {
  WatchOptions options;
  options.label_selector = options_.label_selector;
  options.allow_bookmarks = true;
  options.timeout_seconds = options_.watch_timeout_seconds;
  options.stop = &stop_;
  Status ended = client_.Watch(kind->gvk, options, [&](const WatchEvent& event) {
    std::vector<Change> changes;
    Listener listener;
    {
      std::lock_guard lock(mu_);
      Apply(*kind, event, &changes);
      if (event.type != WatchEventType::kBookmark) ++generation_;
      listener = listener_;
    }
    cv_.notify_all();
    if (listener) {
      for (const Change& c : changes) listener(c.id, *c.object, c.deleted);
    }
    return !stop_.load();
  });
  {
    std::lock_guard lock(mu_);
    kind->alive = false;
    kind->failed_at = std::chrono::steady_clock::now();
    kind->failure = ended ? MakeError(ErrorCode::kUnavailable, "watching " + kind->gvk.ToString() + ": the watch ended")
                          : ended.error();
    for (auto it = objects_.lower_bound(KindStart(kind->gvk)); it != objects_.end() && OfKind(it->first, kind->gvk);) {
      it = objects_.erase(it);
    }
    ++generation_;
  }
  cv_.notify_all();
  if (!stop_.load()) {
    spdlog::warn("watch of {} ended ({}); reading those objects from the server until it is restarted",
                 kind->gvk.ToString(), ended ? "the server closed it" : ended.error().ToString());
  }
}

}  // namespace keelson::cluster
