// The agent's view of a Kubernetes cluster: apply, read, list, watch and
// delete objects as manifest::Node trees.
//
// ClusterClient is the interface the reconcile layer talks to; KubeClient
// (kube_client.h) is the real one, FakeClusterClient (fake_client.h) the
// in-memory one for tests. Errors use the shared codes: kNotFound (no such
// object or kind), kInvalidInput (the server rejected the object, 400/422),
// kAccessDenied (401/403), kCheckFailed (a conflict, 409: another field
// manager owns a field; the message names it), kUnavailable (the server
// could not be reached or kept failing after retries), kLimitExceeded (a
// response over a cap). Messages name the object or the request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::cluster {

struct GroupVersionKind {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ToString() const { return ApiVersion() + "/" + kind; }
  auto operator<=>(const GroupVersionKind&) const = default;
  bool operator==(const GroupVersionKind&) const = default;
};

GroupVersionKind KindOf(const manifest::ResourceId& id);

// How a kind is addressed on the server, from discovery.
struct ResourceMapping {
  GroupVersionKind gvk;
  std::string resource;  // plural, e.g. "deployments"
  bool namespaced = true;
  bool has_status = false;  // the status subresource exists
};

struct ApplyOptions {
  std::string field_manager = "keelson";
  // Take ownership of fields another manager owns instead of failing with a
  // conflict.
  bool force = false;
  // dryRun=All: the server computes the result without storing it (previews
  // and diffs).
  bool dry_run = false;
};

struct ListOptions {
  std::string namespace_;       // "" lists across all namespaces
  std::string label_selector;   // "app=web,tier!=db"
  std::string field_selector;
  std::int64_t page_size = 500;  // limit per request; continue tokens join pages
};

struct ListResult {
  std::vector<manifest::Node> items;  // each with apiVersion and kind set
  std::string resource_version;       // of the list, to start a watch from
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kReset };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  manifest::Node object;               // the object (kBookmark: only metadata)
  std::vector<manifest::Node> items;   // kReset: the complete current list
  std::string resource_version;        // where the watch now stands
};

struct WatchOptions {
  std::string namespace_;
  std::string label_selector;
  // Start after this version. Empty: list first and deliver the list as a
  // kReset event, then watch from the list's version.
  std::string resource_version;
  bool allow_bookmarks = true;
  // Server-side timeout of one watch request; the client reconnects after
  // it from the last version seen. With bookmarks allowed, a stream silent
  // for longer than ClientOptions::watch_idle_timeout counts as broken and
  // is reconnected; without them only a silence beyond this timeout does.
  int timeout_seconds = 300;
  // Set it to stop the watch from another thread: the current request is
  // abandoned within a fraction of a second (the real client cancels the
  // stream's read) and Watch returns Ok.
  const std::atomic<bool>* stop = nullptr;
  // Consecutive failed reconnections before Watch gives up.
  int max_consecutive_failures = 10;
};

enum class DeletePropagation { kBackground, kForeground, kOrphan };

// Receives watch events in order; returning false ends the watch.
using WatchHandler = std::function<bool(const WatchEvent&)>;

class ClusterClient {
 public:
  virtual ~ClusterClient() = default;

  // Resource name and scope of a kind, from discovery. A kind the cached
  // discovery does not know triggers one refresh (a CRD applied since).
  virtual Result<ResourceMapping> Mapping(const GroupVersionKind& gvk) = 0;

  // Server-side apply of `object` (apiVersion, kind and metadata.name
  // required; namespaced kinds without a namespace use the default one).
  // Returns the object as the server stored it (or would, under dry_run).
  virtual Result<manifest::Node> Apply(const manifest::Node& object, const ApplyOptions& options) = 0;

  virtual Result<manifest::Node> Get(const manifest::ResourceId& id) = 0;

  // Reads the status subresource (the whole object, as the server returns
  // it); kinds without one fall back to a plain get.
  virtual Result<manifest::Node> GetStatus(const manifest::ResourceId& id) = 0;

  // All objects of a kind, following continue tokens until the end.
  virtual Result<ListResult> List(const GroupVersionKind& gvk, const ListOptions& options) = 0;

  // Watches a kind until the handler returns false, `stop` is set, or
  // reconnection keeps failing. Relists (kReset) when the server says the
  // version is too old (410 Gone). Returns Ok when stopped by the caller.
  virtual Status Watch(const GroupVersionKind& gvk, const WatchOptions& options, const WatchHandler& handler) = 0;

  // Deletes an object. Returns true when it was deleted (or deletion
  // started, with finalizers pending), false when it did not exist.
  virtual Result<bool> Delete(const manifest::ResourceId& id, DeletePropagation propagation) = 0;
};

}  // namespace keelson::cluster
