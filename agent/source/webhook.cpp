#include "agent/source/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <optional>

namespace keelson::source {
namespace {

constexpr std::size_t kMinSecretBytes = 16;

std::array<unsigned char, 32> Hmac(std::string_view secret, std::string_view body) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &len);
  return mac;
}

std::optional<std::array<unsigned char, 32>> DecodeHex32(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::array<unsigned char, 32> out{};
  for (std::size_t i = 0; i < 64; ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return std::nullopt;
    out[i / 2] = static_cast<unsigned char>(out[i / 2] << 4 | v);
  }
  return out;
}

bool SignatureMatches(std::string_view secret, std::string_view body, std::string_view hex) {
  std::optional<std::array<unsigned char, 32>> given = DecodeHex32(hex);
  if (!given) return false;
  std::array<unsigned char, 32> expected = Hmac(secret, body);
  return CRYPTO_memcmp(given->data(), expected.data(), expected.size()) == 0;
}

// Tokens compared through their digests, so neither content nor length
// leaks through timing.
bool TokenMatches(std::string_view secret, std::string_view token) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

WebhookVerdict Unauthorized() { return WebhookVerdict{401, "invalid or missing signature", false}; }

}  // namespace

Result<WebhookKind> ParseWebhookKind(std::string_view name) {
  if (name == "github") return WebhookKind::kGitHub;
  if (name == "gitlab") return WebhookKind::kGitLab;
  if (name == "gitea" || name == "forgejo") return WebhookKind::kGitea;
  if (name == "generic") return WebhookKind::kGeneric;
  return MakeError(ErrorCode::kInvalidInput,
                   "unknown webhook kind \"" + std::string(name) + "\" (github, gitlab, gitea, forgejo, generic)");
}

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  static const char* digits = "0123456789abcdef";
  std::array<unsigned char, 32> mac = Hmac(secret, body);
  std::string out;
  for (unsigned char c : mac) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

WebhookVerdict CheckWebhook(const WebhookSpec& spec, const server::HttpRequest& request) {
  if (request.method != "POST") return WebhookVerdict{405, "webhooks are POSTed", false};
  std::string event;
  switch (spec.kind) {
    case WebhookKind::kGitHub: {
      std::optional<std::string> sig = request.Header("X-Hub-Signature-256");
      if (!sig || !sig->starts_with("sha256=") ||
          !SignatureMatches(spec.secret, request.body, std::string_view(*sig).substr(7))) {
        return Unauthorized();
      }
      event = request.Header("X-GitHub-Event").value_or("");
      if (event == "ping") return WebhookVerdict{200, "pong", false};
      if (event != "push") return WebhookVerdict{202, "event \"" + event + "\" ignored", false};
      break;
    }
    case WebhookKind::kGitLab: {
      std::optional<std::string> token = request.Header("X-Gitlab-Token");
      if (!token || !TokenMatches(spec.secret, *token)) return Unauthorized();
      event = request.Header("X-Gitlab-Event").value_or("");
      if (event != "Push Hook" && event != "Tag Push Hook") {
        return WebhookVerdict{202, "event \"" + event + "\" ignored", false};
      }
      break;
    }
    case WebhookKind::kGitea: {
      std::optional<std::string> sig = request.Header("X-Gitea-Signature");
      if (!sig) sig = request.Header("X-Forgejo-Signature");
      if (!sig || !SignatureMatches(spec.secret, request.body, *sig)) return Unauthorized();
      std::optional<std::string> ev = request.Header("X-Gitea-Event");
      if (!ev) ev = request.Header("X-Forgejo-Event");
      event = ev.value_or("");
      if (event != "push") return WebhookVerdict{202, "event \"" + event + "\" ignored", false};
      break;
    }
    case WebhookKind::kGeneric: {
      std::optional<std::string> sig = request.Header("X-Keelson-Signature-256");
      if (!sig || !sig->starts_with("sha256=") ||
          !SignatureMatches(spec.secret, request.body, std::string_view(*sig).substr(7))) {
        return Unauthorized();
      }
      break;
    }
  }
  return WebhookVerdict{202, "fetch of " + spec.source + " triggered", true};
}

Status WebhookReceiver::Add(WebhookSpec spec) {
  Location where{spec.source, 0, 0, "webhook.secret"};
  if (spec.secret.size() < kMinSecretBytes) {
    return MakeError(ErrorCode::kInvalidInput, "webhook secret must be at least 16 bytes", where);
  }
  if (specs_.count(spec.source) != 0) {
    where.field = "webhook";
    return MakeError(ErrorCode::kInvalidInput, "source " + spec.source + " has two webhooks", where);
  }
  std::string name = spec.source;
  specs_.emplace(std::move(name), std::move(spec));
  return Status::Ok();
}

server::HttpResponse WebhookReceiver::Handle(const server::HttpRequest& request) const {
  if (!request.path.starts_with(kPathPrefix)) return server::HttpResponse::Text(404, "not found");
  std::string_view source = std::string_view(request.path).substr(kPathPrefix.size());
  auto it = specs_.find(source);
  // An unknown source answers like a bad signature: probing reveals nothing.
  if (it == specs_.end()) return server::HttpResponse::Text(401, Unauthorized().message);
  WebhookVerdict verdict = CheckWebhook(it->second, request);
  if (verdict.trigger && !trigger_(it->second.source)) {
    return server::HttpResponse::Text(503, "source " + it->second.source + " is not being polled");
  }
  return server::HttpResponse::Text(verdict.status, verdict.message);
}

void WebhookReceiver::RegisterOn(server::HttpServer& server) const {
  server.Route("POST", std::string(kPathPrefix), [this](const server::HttpRequest& r) { return Handle(r); });
}

void WebhookReceiver::RegisterOn(server::Router& router) const {
  router.Route("POST", std::string(kPathPrefix), [this](const server::HttpRequest& r) { return Handle(r); });
}

}  // namespace keelson::source
