// HTTP as the cluster client sees it: one request in, one response out
// (the clock that retries and rate limits wait on is in clock.h).
//
// HttpTransport is the seam between the API logic and the network: the real
// one (http_transport.h) speaks HTTP/1.1 over TCP or TLS with a keep-alive
// pool; tests substitute a scripted fake. Implementations must be safe to
// call from several threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/cluster/clock.h"
#include "renderers/manifest/result.h"

namespace keelson::cluster {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  // Path and query, e.g. "/api/v1/namespaces/x/configmaps?limit=500"; the
  // transport prefixes the server's path prefix.
  std::string target;
  Headers headers;
  std::string body;
  // For ordinary calls the whole exchange (connect, send, receive) must end
  // within this; for streamed calls it is the longest silence between two
  // chunks.
  std::chrono::milliseconds timeout{30'000};
  // Streamed calls only: when this becomes true the transport abandons the
  // stream within a fraction of a second and returns kUnavailable, so a
  // long watch can be stopped from another thread without waiting for its
  // next chunk.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when the body was streamed to a sink

  // Case-insensitive header lookup; "" when absent.
  std::string Header(std::string_view name) const;
};

// Receives a streamed body as it arrives. Returning false stops reading and
// closes the connection.
using BodySink = std::function<bool(std::string_view chunk)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request. Network failures (refused, reset, dropped, timed
  // out) come back as kUnavailable errors, TLS verification failures as
  // kAccessDenied; any HTTP status is a response, not an error. With a sink
  // the body is handed over chunk by chunk instead of being collected.
  virtual Result<HttpResponse> Send(const HttpRequest& request, const BodySink* sink) = 0;
  // "https://host:port", for messages.
  virtual std::string Describe() const = 0;
};

}  // namespace keelson::cluster
