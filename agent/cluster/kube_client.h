// The real ClusterClient: Kubernetes REST over an HttpTransport, with
// discovery cached per group-version, rate limiting, retries and metrics
// (request_executor.h).
//
// Thread-safe: calls may run concurrently (the discovery cache is locked,
// the transport pools connections). Interrupt() makes every wait (rate
// limit, backoff) end at once and later calls fail with kUnavailable; used
// on shutdown.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "agent/cluster/client.h"
#include "agent/cluster/config.h"
#include "agent/cluster/request_executor.h"
#include "agent/cluster/transport.h"

namespace keelson::cluster {

struct ClientOptions {
  RetryPolicy retry;
  RateLimit rate_limit;
  // Every non-watch request (each attempt) must finish within this.
  std::chrono::milliseconds request_timeout{30'000};
  // Longest silence on a watch stream before the client reconnects; servers
  // send bookmarks about once a minute.
  std::chrono::milliseconds watch_idle_timeout{90'000};
  // Caps on a List: total items and pages (a continue loop that never ends
  // is a server bug, not a reason to spin).
  std::size_t max_list_items = 1'000'000;
  std::size_t max_list_pages = 100'000;
  // Longest single watch event line.
  std::size_t max_watch_event_bytes = 64u << 20;
};

class KubeClient final : public ClusterClient {
 public:
  // Builds the real transport for `config` (see MakeHttpTransport).
  static Result<std::unique_ptr<KubeClient>> Connect(const ConnectionConfig& config,
                                                     const ClientOptions& options = {});

  // Uses `transport`; `clock` may be null for the real clock, otherwise it
  // is borrowed and must outlive the client.
  KubeClient(ConnectionConfig config, std::unique_ptr<HttpTransport> transport, Clock* clock,
             const ClientOptions& options = {});
  ~KubeClient() override;
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  Result<ResourceMapping> Mapping(const GroupVersionKind& gvk) override;
  Result<manifest::Node> Apply(const manifest::Node& object, const ApplyOptions& options) override;
  Result<manifest::Node> Get(const manifest::ResourceId& id) override;
  Result<manifest::Node> GetStatus(const manifest::ResourceId& id) override;
  Result<ListResult> List(const GroupVersionKind& gvk, const ListOptions& options) override;
  Status Watch(const GroupVersionKind& gvk, const WatchOptions& options, const WatchHandler& handler) override;
  Result<bool> Delete(const manifest::ResourceId& id, DeletePropagation propagation) override;

  // Requests sent, by verb and status code ("error" when none came back).
  const RequestMetrics& metrics() const;
  // Forgets all discovery results.
  void InvalidateDiscovery();
  // Ends waits now and fails later calls; only effective with the real clock.
  void Interrupt();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Percent-encodes a query value or path segment (RFC 3986 unreserved kept).
std::string PercentEncode(std::string_view text);

}  // namespace keelson::cluster
