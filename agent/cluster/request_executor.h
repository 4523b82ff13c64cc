// The policy layer between the API client and the transport: client-side
// rate limiting, retries with backoff, and a counter per verb and status.
//
// Thread-safe: several threads may Execute() at once; the rate limiter and
// the metrics are shared between them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "agent/cluster/transport.h"

namespace keelson::cluster {

struct RetryPolicy {
  // Attempts per call including the first; 1 disables retries.
  int max_attempts = 6;
  // Backoff before retry n is min(initial * 2^(n-1), max), then jittered.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  // Fraction of the backoff drawn at random and added (0.5: up to +50%),
  // so that many agents retrying together spread out.
  double jitter = 0.5;
  // A server's Retry-After is honoured up to this; longer asks are capped.
  std::chrono::milliseconds max_retry_after{60'000};
};

struct RateLimit {
  // Sustained requests per second; 0 or less turns the limit off. kubectl
  // uses 5/10 by default; an agent applying waves wants more.
  double qps = 50;
  // Requests that may go at once after a quiet period.
  int burst = 100;
};

// Counts requests by verb ("get", "list", "watch", "apply", "delete",
// "discovery", ...) and outcome (the HTTP status, or "error" when no
// response came back). Thread-safe.
class RequestMetrics {
 public:
  void Record(const std::string& verb, const std::string& code);
  std::uint64_t Count(const std::string& verb, const std::string& code) const;
  std::uint64_t Total() const;
  std::map<std::pair<std::string, std::string>, std::uint64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

class RequestExecutor {
 public:
  // Borrows transport, clock and metrics; they must outlive the executor.
  RequestExecutor(HttpTransport& transport, Clock& clock, RequestMetrics& metrics, RetryPolicy retry,
                  RateLimit rate_limit, std::uint64_t jitter_seed = std::random_device{}());

  // Sends `request`, waiting for the rate limiter first and retrying on
  // 429 (after Retry-After when given), 500/502/503/504 and network
  // failures. When every attempt failed, returns the last response (so the
  // caller can report the server's message) or the last network error, with
  // the number of attempts in its message. A streamed call is not retried
  // once part of its body reached the sink. Fails with kUnavailable when the
  // clock is interrupted.
  Result<HttpResponse> Execute(const std::string& verb, const HttpRequest& request,
                               const BodySink* sink = nullptr);

  HttpTransport& transport() { return transport_; }

 private:
  bool AcquireToken();
  std::chrono::nanoseconds Backoff(int attempt);

  HttpTransport& transport_;
  Clock& clock_;
  RequestMetrics& metrics_;
  RetryPolicy retry_;
  RateLimit rate_limit_;
  std::mutex mu_;  // guards the bucket and the random engine
  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  bool bucket_started_ = false;
  std::mt19937_64 random_;
};

// True for statuses worth retrying: 429 and 500/502/503/504.
bool IsRetryableStatus(int status);

// Parses a Retry-After value in seconds ("3"); HTTP dates are not used by
// Kubernetes and give nullopt.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

}  // namespace keelson::cluster
