#include "agent/notify/notifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>

#include "agent/cluster/config.h"
#include "agent/cluster/http_transport.h"

namespace keelson::notify {

namespace {

std::string Iso8601(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Title(const Event& e) {
  std::string what = std::string(EventKindName(e.kind));
  std::string where = e.environment.empty() ? "" : "[" + e.environment + "] ";
  std::string unit = e.unit.empty() ? "" : " " + e.unit;
  return where + what + unit;
}

bool IsProblem(EventKind k) {
  return k == EventKind::kRolloutFailed || k == EventKind::kDrift || k == EventKind::kPolicyDenied ||
         k == EventKind::kSignatureFailed || k == EventKind::kRollback;
}

std::string HmacHex(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

// "scheme://authority" and "/path?query" of a URL.
bool SplitUrl(const std::string& url, std::string* origin, std::string* target) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  std::size_t path = url.find('/', scheme_end + 3);
  *origin = url.substr(0, path);
  *target = path == std::string::npos ? "/" : url.substr(path);
  return origin->size() > scheme_end + 3;
}

class HttpSender final : public Sender {
 public:
  Result<int> Post(const RouteConfig& route, const Delivery& delivery) override {
    std::string origin, target;
    if (!SplitUrl(delivery.url, &origin, &target)) {
      return MakeError(ErrorCode::kInvalidInput, "route " + route.name + ": the URL is not http(s)://host/...");
    }
    cluster::ConnectionConfig conn;
    conn.server = origin;
    conn.ca_pem = route.ca_pem;
    conn.source = "notification route " + route.name;
    cluster::HttpTransportOptions options;
    options.max_idle_connections = 0;
    options.max_body_bytes = 1u << 20;
    options.user_agent = "keelson-notify";
    Result<std::unique_ptr<cluster::HttpTransport>> transport = cluster::MakeHttpTransport(conn, options);
    if (!transport.ok()) return Hide(route, target, std::move(transport).error());
    cluster::HttpRequest request;
    request.method = "POST";
    request.target = target;
    request.body = delivery.body;
    request.timeout = route.timeout;
    request.headers = delivery.headers;
    request.headers.emplace_back("Content-Type", "application/json");
    Result<cluster::HttpResponse> response = (*transport)->Send(request, nullptr);
    if (!response.ok()) return Hide(route, target, std::move(response).error());
    return response->status;
  }

 private:
  // A Slack webhook URL's path is its secret, and other receivers' URLs may
  // carry tokens too: messages keep the scheme, host and port only.
  static Error Hide(const RouteConfig&, const std::string& target, Error error) {
    std::string text = error.message;
    for (std::size_t at; !target.empty() && (at = text.find(target)) != std::string::npos;) {
      text.replace(at, target.size(), "/<secret>");
    }
    return MakeError(error.code, text);
  }
};

}  // namespace

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kRolloutStarted: return "rollout.started";
    case EventKind::kRolloutSucceeded: return "rollout.succeeded";
    case EventKind::kRolloutFailed: return "rollout.failed";
    case EventKind::kRollback: return "rollback";
    case EventKind::kDrift: return "drift";
    case EventKind::kPolicyDenied: return "policy.denied";
    case EventKind::kSignatureFailed: return "signature.failed";
  }
  return "unknown";
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

bool ParseSeverity(std::string_view text, Severity* out) {
  for (Severity s : {Severity::kInfo, Severity::kWarning, Severity::kCritical}) {
    if (text == SeverityName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

Severity DefaultSeverity(EventKind kind) {
  switch (kind) {
    case EventKind::kRolloutStarted:
    case EventKind::kRolloutSucceeded: return Severity::kInfo;
    case EventKind::kDrift:
    case EventKind::kRollback: return Severity::kWarning;
    case EventKind::kRolloutFailed:
    case EventKind::kPolicyDenied:
    case EventKind::kSignatureFailed: return Severity::kCritical;
  }
  return Severity::kInfo;
}

bool RouteAccepts(const RouteConfig& route, const Event& event) {
  if (event.severity < route.min_severity) return false;
  if (route.units.empty()) return true;
  return std::find(route.units.begin(), route.units.end(), event.unit) != route.units.end();
}

nlohmann::json SlackPayload(const Event& e) {
  std::string icon = e.severity == Severity::kCritical  ? ":red_circle:"
                     : e.severity == Severity::kWarning ? ":warning:"
                                                        : ":large_green_circle:";
  std::string text = icon + " " + Title(e) + ": " + e.message;
  nlohmann::json fields = nlohmann::json::array();
  fields.push_back({{"type", "mrkdwn"}, {"text", "*Severity*\n" + std::string(SeverityName(e.severity))}});
  if (!e.revision.empty()) fields.push_back({{"type", "mrkdwn"}, {"text", "*Revision*\n`" + e.revision + "`"}});
  return {{"text", text},
          {"blocks",
           {{{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", Title(e)}}}},
            {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", e.message}}}, {"fields", fields}},
            {{"type", "context"},
             {"elements", {{{"type", "mrkdwn"}, {"text", "keelson · " + Iso8601(e.time)}}}}}}}};
}

std::string PagerDutyDedupKey(const Event& e) {
  return "keelson/" + e.environment + "/" + (e.unit.empty() ? "-" : e.unit);
}

nlohmann::json PagerDutyPayload(const Event& e, const std::string& routing_key) {
  bool resolve = e.kind == EventKind::kRolloutSucceeded;
  nlohmann::json body = {{"routing_key", routing_key},
                         {"event_action", resolve ? "resolve" : "trigger"},
                         {"dedup_key", PagerDutyDedupKey(e)}};
  if (!resolve) {
    // PagerDuty's severities are critical, error, warning, info.
    std::string severity = e.severity == Severity::kCritical ? "critical"
                           : e.severity == Severity::kWarning ? "warning"
                                                              : "info";
    nlohmann::json details = {{"event", EventKindName(e.kind)}, {"unit", e.unit}, {"revision", e.revision}};
    body["payload"] = {{"summary", (Title(e) + ": " + e.message).substr(0, 1024)},
                       {"source", "keelson/" + e.environment},
                       {"severity", severity},
                       {"timestamp", Iso8601(e.time)},
                       {"component", e.unit},
                       {"class", EventKindName(e.kind)},
                       {"custom_details", details}};
  }
  return body;
}

nlohmann::json StatusPagePayload(const Event& e) {
  bool resolved = e.kind == EventKind::kRolloutSucceeded;
  std::string impact = resolved ? "none" : e.severity == Severity::kCritical ? "major" : "minor";
  return {{"incident",
           {{"name", Title(e)},
            {"status", resolved ? "resolved" : IsProblem(e.kind) ? "investigating" : "monitoring"},
            {"impact_override", impact},
            {"body", e.message},
            {"metadata", {{"keelson", {{"event", EventKindName(e.kind)}, {"unit", e.unit},
                                       {"environment", e.environment}, {"revision", e.revision}}}}}}}};
}

nlohmann::json WebhookPayload(const Event& e) {
  return {{"event", EventKindName(e.kind)}, {"severity", SeverityName(e.severity)},
          {"environment", e.environment},   {"unit", e.unit},
          {"revision", e.revision},         {"message", e.message},
          {"time", Iso8601(e.time)}};
}

std::string SignatureHeaderValue(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacHex(secret, body);
}

bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header_value) {
  std::string expected = SignatureHeaderValue(secret, body);
  return header_value.size() == expected.size() &&
         CRYPTO_memcmp(header_value.data(), expected.data(), expected.size()) == 0;
}

Delivery BuildDelivery(const RouteConfig& route, const Event& event) {
  Delivery d;
  d.url = route.url;
  switch (route.kind) {
    case RouteKind::kSlack:
      d.url = route.secret;
      d.body = SlackPayload(event).dump();
      break;
    case RouteKind::kPagerDuty:
      d.body = PagerDutyPayload(event, route.secret).dump();
      break;
    case RouteKind::kStatusPage:
      d.body = StatusPagePayload(event).dump();
      d.headers.emplace_back("Authorization", "OAuth " + route.secret);
      break;
    case RouteKind::kWebhook:
      d.body = WebhookPayload(event).dump();
      d.headers.emplace_back("X-Keelson-Event", std::string(EventKindName(event.kind)));
      d.headers.emplace_back("X-Keelson-Signature-256", SignatureHeaderValue(route.secret, d.body));
      break;
  }
  return d;
}

std::unique_ptr<Sender> MakeHttpSender() { return std::make_unique<HttpSender>(); }

Notifier::Notifier(std::vector<RouteConfig> routes, std::unique_ptr<Sender> sender, NotifierOptions options)
    : routes_(std::move(routes)), sender_(std::move(sender)), options_(options) {
  worker_ = std::thread([this] { Work(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Notifier::Publish(Event event) {
  std::unique_lock<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!RouteAccepts(routes_[i], event)) continue;
    if (queue_.size() >= options_.queue_capacity) {
      ++dropped_;
      continue;
    }
    queue_.push_back(Job{i, event});
  }
  lock.unlock();
  cv_.notify_all();
}

bool Notifier::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void Notifier::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Deliver(job);
    lock.lock();
    busy_ = false;
    idle_cv_.notify_all();
  }
}

bool Notifier::Backoff(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Notifier::Deliver(const Job& job) {
  const RouteConfig& route = routes_[job.route];
  Delivery delivery = BuildDelivery(route, job.event);
  std::chrono::milliseconds wait = route.initial_backoff;
  for (int attempt = 0;; ++attempt) {
    Result<int> status = sender_->Post(route, delivery);
    std::string why;
    bool retryable = true;
    if (status.ok() && *status >= 200 && *status < 300) {
      ++delivered_;
      return;
    }
    if (status.ok()) {
      why = "HTTP " + std::to_string(*status);
      retryable = *status == 429 || *status >= 500;
    } else {
      why = status.error().ToString();
    }
    if (!retryable || attempt >= route.retries) {
      ++failed_;
      spdlog::warn("notification route {}: {} not delivered after {} attempt(s): {}", route.name,
                   EventKindName(job.event.kind), attempt + 1, why);
      return;
    }
    if (!Backoff(wait)) return;
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(60));
  }
}

}  // namespace keelson::notify
