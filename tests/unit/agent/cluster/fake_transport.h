// Test doubles for the transport layer: a scripted HTTP transport that
// records every request, and (fake_clock.h) a clock that advances instead
// of sleeping.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/transport.h"
#include "tests/unit/agent/cluster/fake_clock.h"

namespace keelson::cluster::testing {

// Answers each request with the handler's result. A handler returning a
// response with `stream` chunks feeds them to the sink one by one.
struct Reply {
  Result<HttpResponse> response = HttpResponse{};
  std::vector<std::string> stream;  // chunks for a streamed call
  // After the chunks: the error a dropped connection gives (streams only).
  std::optional<Error> stream_error;
};

inline Reply Json(int status, std::string body, Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return Reply{r, {}, {}};
}

inline Reply Dropped() {
  return Reply{MakeError(ErrorCode::kUnavailable, "connection reset by peer"), {}, {}};
}

class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Reply(const HttpRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> Send(const HttpRequest& request, const BodySink* sink) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
    }
    Reply reply = handler_(request);
    if (!reply.response.ok()) return reply.response;
    if (sink != nullptr) {
      for (const std::string& chunk : reply.stream) {
        if (!(*sink)(chunk)) return reply.response;
      }
      if (reply.stream_error) return *reply.stream_error;
    }
    return reply.response;
  }
  std::string Describe() const override { return "fake://cluster"; }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> Targets() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const HttpRequest& r : requests_) out.push_back(r.method + " " + r.target);
    return out;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
};

}  // namespace keelson::cluster::testing
