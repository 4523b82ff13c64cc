// Fuzzes HTTP request parsing and webhook handling: any bytes must parse or
// fail with an Error, and whatever parses must be routed and answered
// without crashing. A fetch may be triggered only by a 202 answer from a
// receiver whose signature check passed, which for random bytes means
// almost never; the invariant checked is that a trigger always comes with
// an accepted status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/server/http_server.h"
#include "agent/source/webhook.h"

namespace {

struct Fixture {
  std::string triggered;
  keelson::source::WebhookReceiver receiver{[this](const std::string& s) {
    triggered = s;
    return true;
  }};
  keelson::server::Router router;
  keelson::server::HttpServerOptions options;

  Fixture() {
    using keelson::source::WebhookKind;
    const std::string secret = "fuzzing-secret-0123456789";
    (void)receiver.Add({"github", WebhookKind::kGitHub, secret});
    (void)receiver.Add({"gitlab", WebhookKind::kGitLab, secret});
    (void)receiver.Add({"gitea", WebhookKind::kGitea, secret});
    (void)receiver.Add({"generic", WebhookKind::kGeneric, secret});
    receiver.RegisterOn(router);
    options.max_body_bytes = 64 * 1024;
    options.max_header_bytes = 16 * 1024;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  fixture.triggered.clear();
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  keelson::Result<keelson::server::HttpRequest> request = keelson::server::ParseHttpRequest(raw, fixture.options);
  if (!request.ok()) return 0;
  keelson::server::HttpResponse response = fixture.router.Dispatch(*request);
  if (response.status < 200 || response.status > 599) std::abort();
  if (!fixture.triggered.empty() && response.status != 202) std::abort();
  return 0;
}
