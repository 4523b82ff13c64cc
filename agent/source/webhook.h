// Webhook receivers: a forge tells the agent that a repository changed, and
// the matching source is fetched at once instead of at its next poll.
//
// Each source has its own path (/hooks/<source>) and secret. Deliveries are
// authenticated before anything else is looked at:
//   GitHub          X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
//   GitLab          X-Gitlab-Token: <secret>
//   Gitea, Forgejo  X-Gitea-Signature / X-Forgejo-Signature: <hex HMAC-SHA256>
//   generic         X-Keelson-Signature-256: sha256=<hex HMAC-SHA256>
// Comparisons are constant-time (CRYPTO_memcmp). A missing or wrong
// signature gets 401 and triggers nothing; the secret never appears in a
// response or message. Push events (and, for generic hooks, any event)
// trigger a fetch (202); pings get 200; other events 202 with nothing done.
//
// Thread safety: Add before serving; Handle may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "agent/server/http_server.h"
#include "renderers/manifest/result.h"

namespace keelson::source {

enum class WebhookKind { kGitHub, kGitLab, kGitea, kGeneric };

// "github", "gitlab", "gitea", "forgejo" (same as gitea), "generic".
Result<WebhookKind> ParseWebhookKind(std::string_view name);

struct WebhookSpec {
  std::string source;  // the source to fetch; also the path /hooks/<source>
  WebhookKind kind = WebhookKind::kGeneric;
  std::string secret;  // at least 16 bytes; never logged
};

// What one delivery amounts to, decided without side effects.
struct WebhookVerdict {
  int status = 401;
  std::string message;
  bool trigger = false;
};
WebhookVerdict CheckWebhook(const WebhookSpec& spec, const server::HttpRequest& request);

// Lowercase hex HMAC-SHA256 of `body` under `secret` (what senders put in
// the signature headers).
std::string HmacSha256Hex(std::string_view secret, std::string_view body);

class WebhookReceiver {
 public:
  // Called for a good push delivery; returns false when the source is
  // unknown to the poller (answered with 404).
  using Trigger = std::function<bool(const std::string& source)>;
  static constexpr std::string_view kPathPrefix = "/hooks/";

  explicit WebhookReceiver(Trigger trigger) : trigger_(std::move(trigger)) {}

  // kInvalidInput for a duplicate source or a secret shorter than 16 bytes.
  Status Add(WebhookSpec spec);
  server::HttpResponse Handle(const server::HttpRequest& request) const;
  // Routes POST /hooks/ on `server` to Handle. The receiver must outlive it.
  void RegisterOn(server::HttpServer& server) const;
  void RegisterOn(server::Router& router) const;

 private:
  Trigger trigger_;
  std::map<std::string, WebhookSpec, std::less<>> specs_;
};

}  // namespace keelson::source
