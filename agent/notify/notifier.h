// Notifications: tells people what the agent did (rollouts, rollbacks,
// drift, policy denials, signature failures) through Slack incoming
// webhooks, PagerDuty Events API v2, a StatusPage-style incident API and a
// generic JSON webhook signed with HMAC-SHA256.
//
// Contract:
// - Notifier::Publish never blocks on the network: events go into a bounded
//   queue drained by one worker thread; when the queue is full the event is
//   dropped and counted (dropped()). A reconcile is never slowed by a slow or
//   failing receiver.
// - Each delivery is retried with exponential backoff (RouteConfig::retries
//   attempts after the first) on network errors, 429 and 5xx; other 4xx are
//   final. Shutdown interrupts backoff waits.
// - Secrets (the Slack webhook URL, the PagerDuty routing key, the API key,
//   the HMAC secret) are held in memory only and never logged: messages name
//   the route and the receiver's host, never a URL's path or query.
// - Thread safety: Publish, delivered, failed, dropped may be called from
//   any thread; the destructor stops the worker (pending events are dropped
//   after the current delivery).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "renderers/manifest/result.h"

namespace keelson::notify {

enum class EventKind {
  kRolloutStarted,
  kRolloutSucceeded,
  kRolloutFailed,
  kRollback,
  kDrift,
  kPolicyDenied,
  kSignatureFailed,
};

enum class Severity { kInfo = 0, kWarning = 1, kCritical = 2 };

std::string_view EventKindName(EventKind kind);  // "rollout.started", ...
std::string_view SeverityName(Severity severity);  // "info", "warning", "critical"
// Parses "info", "warning", "critical"; false on anything else.
bool ParseSeverity(std::string_view text, Severity* out);
// The severity an event kind has unless the emitter says otherwise.
Severity DefaultSeverity(EventKind kind);

struct Event {
  EventKind kind = EventKind::kRolloutStarted;
  Severity severity = Severity::kInfo;
  std::string environment;
  std::string unit;      // empty for source-wide events (signature failure)
  std::string revision;  // commit, when known
  std::string message;   // one line for humans; must hold no secrets
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
};

enum class RouteKind { kSlack, kPagerDuty, kStatusPage, kWebhook };

struct RouteConfig {
  std::string name;  // for logs
  RouteKind kind = RouteKind::kWebhook;
  // Where to send: the PagerDuty events endpoint, the StatusPage incident
  // URL or the webhook URL. For Slack the URL itself is the secret.
  std::string url;
  // Slack: the webhook URL; PagerDuty: the routing key; StatusPage: the API
  // key (sent as "Authorization: OAuth <key>"); webhook: the HMAC key.
  std::string secret;
  std::vector<std::string> units;  // only these units; empty: every unit
  Severity min_severity = Severity::kInfo;
  int retries = 3;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // PEM CA bundle for https receivers; empty: system roots.
  std::string ca_pem;
};

// True when `route` wants `event` (unit filter and minimum severity).
bool RouteAccepts(const RouteConfig& route, const Event& event);

// The request a route sends for an event: body and extra headers. Pure, for
// tests and for the worker.
struct Delivery {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
Delivery BuildDelivery(const RouteConfig& route, const Event& event);

// Slack Block Kit message with a plain-text fallback.
nlohmann::json SlackPayload(const Event& event);
// PagerDuty Events API v2: "trigger" for failures, denials, signature
// failures and drift; "resolve" for a succeeded rollout; dedup_key is
// "keelson/<environment>/<unit>" so a success resolves the unit's incident.
nlohmann::json PagerDutyPayload(const Event& event, const std::string& routing_key);
std::string PagerDutyDedupKey(const Event& event);
// {"incident": {"name", "status", "impact_override", "body", ...}}; status
// "investigating" for failures, "resolved" for success.
nlohmann::json StatusPagePayload(const Event& event);
// The generic webhook body.
nlohmann::json WebhookPayload(const Event& event);
// "sha256=<lowercase hex HMAC-SHA256(secret, body)>".
std::string SignatureHeaderValue(std::string_view secret, std::string_view body);
// Constant-time check of a signature header value, for receivers and tests.
bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header_value);

// Sends one request; returns the HTTP status or an error for network
// failures. Injectable so the worker can be tested without sockets.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual Result<int> Post(const RouteConfig& route, const Delivery& delivery) = 0;
};
// The real sender: HTTP/1.1 over TCP or verified TLS.
std::unique_ptr<Sender> MakeHttpSender();

struct NotifierOptions {
  std::size_t queue_capacity = 256;
};

class Notifier {
 public:
  Notifier(std::vector<RouteConfig> routes, std::unique_ptr<Sender> sender, NotifierOptions options = {});
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `event` for every route that accepts it; never blocks on I/O.
  void Publish(Event event);
  // Waits until the queue is empty and the worker idle, or the deadline;
  // true when drained. For tests and for a clean shutdown.
  bool Drain(std::chrono::milliseconds timeout);

  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Job {
    std::size_t route;
    Event event;
  };
  void Work();
  void Deliver(const Job& job);
  // Waits `d` unless stopping; false when stopping.
  bool Backoff(std::chrono::milliseconds d);

  std::vector<RouteConfig> routes_;
  std::unique_ptr<Sender> sender_;
  NotifierOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> delivered_{0}, failed_{0}, dropped_{0};
  std::thread worker_;
};

}  // namespace keelson::notify
