// The sandbox's Kubernetes API: routing of one HTTP request to discovery,
// OpenAPI, CRUD, patch, server-side apply, watch set-up and the admin
// endpoints (/sandbox/faults, /sandbox/requests), plus the simulated
// controllers and the fault and request-log state the server consults.
//
// Transport-free: the HTTP server (server.h) and the fuzzer both drive it.
// Not thread-safe; everything runs on the server's one I/O thread. Handle()
// never throws on bad input: every failure becomes a Kubernetes Status body
// with the matching HTTP code.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "renderers/manifest/result.h"
#include "sandbox/resources.h"
#include "sandbox/store.h"

namespace keelson::sandbox {

// Faults applied to API requests (never to /sandbox/ admin requests, /healthz
// or /version). Rates are probabilities in [0, 1]; counts fault the next N
// matching requests deterministically and take precedence over rates.
struct FaultConfig {
  int latency_ms = 0;            // added before every matching request
  double error_rate = 0;         // answer 500 InternalError
  double throttle_rate = 0;      // answer 429 TooManyRequests with Retry-After
  int retry_after_seconds = 1;   // the Retry-After value for 429s
  double drop_rate = 0;          // close the connection without answering
  int error_count = 0;
  int throttle_count = 0;
  int drop_count = 0;
  std::string path_prefix;       // only paths starting with this ("" = all)

  Json ToJson() const;
  // Reads the fields present in json over *this; unknown fields or values of
  // the wrong type are an error (nothing changes then).
  Status MergeFrom(const Json& json);
};

enum class FaultAction { kNone, kError, kThrottle, kDrop };

struct FaultDecision {
  int latency_ms = 0;
  FaultAction action = FaultAction::kNone;
};

struct SandboxOptions {
  std::string token;  // bearer token required when non-empty
  // How long a Deployment/StatefulSet/DaemonSet/Job takes to become ready
  // (or, for an image matching fail_images, to report
  // ProgressDeadlineExceeded) after its spec changes. Default 1 s: short
  // enough for tests, long enough to observe a rollout in progress.
  std::chrono::milliseconds rollout_delay{1000};
  // Shell-style patterns (* and ?) matched against container images; a
  // workload using a matching image never becomes ready.
  std::vector<std::string> fail_images;
  // Past events kept for watches to resume from; older resourceVersions get
  // 410 Gone.
  std::size_t watch_history = 10000;
  // Interval between watch bookmarks when a client allows them.
  std::chrono::milliseconds bookmark_interval{5000};
  std::size_t request_log_limit = 100000;
  std::uint32_t fault_seed = 0;  // 0 picks a random seed
  FaultConfig faults;
  std::string server_address;  // "127.0.0.1:PORT", reported by /api
};

struct ApiRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::string content_type;
  std::string accept;
  std::string authorization;
  std::string user_agent;
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A label selector as the API accepts it: "a=b,c!=d,e in (x,y),f notin
// (z),g,!h".
struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};
using LabelSelector = std::vector<LabelRequirement>;
Result<LabelSelector> ParseLabelSelector(std::string_view text);
bool SelectorMatches(const LabelSelector& selector, const Json& object);

// What a watch request asked for; the server streams it.
struct WatchPlan {
  ResourceType type;
  std::string namespace_;  // "" for all namespaces
  LabelSelector labels;
  std::string field_name;       // metadata.name=... ("" = any)
  std::string field_namespace;  // metadata.namespace=... ("" = any)
  std::optional<std::uint64_t> since;  // nullopt: start with the current state
  bool send_initial_events = false;
  bool bookmarks = false;
  int timeout_seconds = 1800;
};

struct HandleResult {
  ApiResponse response;
  std::optional<WatchPlan> watch;  // set when the request is a valid watch
};

struct RequestLogEntry {
  std::uint64_t sequence = 0;
  std::string time;  // RFC 3339 with milliseconds
  std::string method;
  std::string path;  // without the query string
  std::string query;
  int status = 0;  // 0 when the connection was dropped
};

class SandboxApi {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  explicit SandboxApi(SandboxOptions options, Clock clock = std::chrono::system_clock::now);

  // Loads a snapshot from the state file (if present), re-registers the
  // CRDs it holds and creates the default namespaces when missing.
  Status Open(const std::string& state_file);
  // Writes the snapshot when something changed since the last save.
  Status SaveIfDirty();

  HandleResult Handle(const ApiRequest& request);

  // Watch streaming. Start returns the first lines to send (initial
  // events, or one ERROR event for a resourceVersion that is too old, after
  // which the stream ends) and registers `sink` for later events; each line
  // is a complete JSON watch event followed by "\n". Returns 0 as the id
  // when nothing was registered.
  struct WatchStart {
    std::vector<std::string> lines;
    std::uint64_t watcher_id = 0;
  };
  WatchStart StartWatch(const WatchPlan& plan, std::function<void(std::string line)> sink);
  void StopWatch(std::uint64_t watcher_id) { store_.RemoveWatcher(watcher_id); }
  std::string BookmarkLine(const WatchPlan& plan) const;

  // Advances the simulated controllers (rollouts, jobs, namespace and
  // finalizer clean-up). Cheap when nothing is pending; the server calls it
  // on a short timer.
  void RunControllers();

  // Fault injection and the request log, consulted by the server.
  FaultDecision DecideFault(const std::string& target);
  void LogRequest(const std::string& method, const std::string& target, int status);
  bool Authorized(const ApiRequest& request) const;
  static bool IsPublicPath(const std::string& path);

  // The address /api reports; known only once the server is bound.
  void set_server_address(std::string address) { options_.server_address = std::move(address); }

  ObjectStore& store() { return store_; }
  const ResourceRegistry& registry() const { return registry_; }
  const SandboxOptions& options() const { return options_; }

 private:
  struct Target;
  ApiResponse Route(const ApiRequest& request, std::optional<WatchPlan>* watch);
  ApiResponse HandleAdmin(const ApiRequest& request, const std::string& path, const std::string& query);
  ApiResponse HandleResource(const ApiRequest& request, const Target& target, std::optional<WatchPlan>* watch);

  // Discovery and OpenAPI (discovery.cpp).
  ApiResponse CoreVersions(bool aggregated) const;
  ApiResponse GroupList(bool aggregated) const;
  ApiResponse ResourceList(const std::string& group, const std::string& version) const;
  ApiResponse GroupInfo(const std::string& group) const;
  Json AggregatedGroup(const std::string& group) const;
  ApiResponse OpenApiIndex() const;
  ApiResponse OpenApiDocument(const std::string& group_version_path) const;
  // The serialized document and its hash for one group-version, rebuilt
  // when the registry's epoch changes (kubectl reads them on every apply).
  const std::pair<std::string, std::string>& OpenApiCached(const std::string& group,
                                                           const std::string& version) const;
  Json OpenApiFor(const std::string& group, const std::string& version) const;

  // Verbs.
  ApiResponse Get(const ResourceType& type, const std::string& ns, const std::string& name);
  ApiResponse List(const ResourceType& type, const std::string& ns, const std::map<std::string, std::string>& q);
  ApiResponse Create(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                     const std::map<std::string, std::string>& q);
  ApiResponse Update(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                     const std::string& name, const std::string& subresource,
                     const std::map<std::string, std::string>& q);
  ApiResponse Patch(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                    const std::string& name, const std::string& subresource,
                    const std::map<std::string, std::string>& q);
  ApiResponse Apply(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                    const std::string& name, const std::map<std::string, std::string>& q);
  // The autoscaling/v1 Scale view of spec.replicas (GET, PUT, PATCH).
  ApiResponse Scale(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                    const std::string& name, const std::map<std::string, std::string>& q);
  ApiResponse Delete(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                     const std::string& name, const std::map<std::string, std::string>& q);
  ApiResponse DeleteCollection(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                               const std::map<std::string, std::string>& q);

  // Shared write path: fills server fields, defaults, generation, status
  // preservation, managedFields, then stores (unless dry_run). `before` is
  // null for a create.
  struct WriteResult {
    ApiResponse error;  // status != 200 means failure
    Json object;
    bool created = false;
  };
  WriteResult Admit(const ResourceType& type, const std::string& ns, const Json* before, Json object,
                    const std::string& subresource, const std::string& manager, bool track_fields, bool dry_run);
  std::optional<ApiResponse> CheckNamespace(const ResourceType& type, const std::string& ns) const;
  void Finalize(const ResourceType& type, const std::string& ns, const std::string& name);
  void RemoveNow(const ResourceType& type, const std::string& ns, const std::string& name);
  void OnCrdChanged(const Json& crd, bool removed);
  Json Defaulted(const ResourceType& type, Json object);  // defaults.cpp

  // Controllers (controllers.cpp).
  void ReconcileWorkload(const ResourceType& type, const Json& object);
  void ReconcileNamespaces();
  void WriteStatus(const ResourceType& type, const Json& object, Json status);
  bool ImageFails(const Json& pod_template) const;

  std::string Now() const;
  std::string NewUid();
  std::string NextClusterIp() const;

  SandboxOptions options_;
  Clock clock_;
  ResourceRegistry registry_;
  ObjectStore store_;
  std::string state_file_;
  std::mt19937_64 random_;
  std::mt19937 fault_random_;
  std::deque<RequestLogEntry> request_log_;
  std::uint64_t request_sequence_ = 0;
  // When each workload's current generation was first seen, for the
  // rollout delay (key: storage key/namespace/name).
  mutable std::map<std::string, std::pair<std::uint64_t, std::pair<std::string, std::string>>> openapi_cache_;
  struct Rollout {
    std::int64_t generation = 0;
    std::chrono::system_clock::time_point started;
    bool settled = false;  // final status written; nothing to do until the spec changes
  };
  std::map<std::string, Rollout> rollouts_;
};

// Current time as Kubernetes prints it ("2026-01-02T03:04:05Z").
std::string FormatTime(std::chrono::system_clock::time_point t);

// Shell-style match with * and ?.
bool GlobMatches(std::string_view pattern, std::string_view text);

}  // namespace keelson::sandbox
