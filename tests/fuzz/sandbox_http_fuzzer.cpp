// Fuzzes the sandbox's request path: raw bytes are parsed as one or more
// HTTP/1.1 requests with the same Beast parser and limits the server uses,
// then routed against a fresh in-memory API (no sockets), with the
// controllers run after each request and watches started and stopped. Any
// input must produce a response, never a crash, hang or unbounded memory.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/api.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::sandbox;
  SandboxOptions options;
  options.rollout_delay = std::chrono::milliseconds(0);
  options.fail_images = {"broken*"};
  options.watch_history = 100;
  SandboxApi api(options, [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); });
  if (!api.Open("").ok()) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int round = 0; round < 8 && !input.empty(); ++round) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(1u << 20);
    parser.header_limit(64u << 10);
    boost::beast::error_code ec;
    std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
    input.remove_prefix(std::min(used, input.size()));
    auto& req = parser.get();
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.content_type = std::string(req[http::field::content_type]);
    request.accept = std::string(req[http::field::accept]);
    request.authorization = std::string(req[http::field::authorization]);
    request.user_agent = std::string(req[http::field::user_agent]);
    request.body = req.body();
    (void)api.DecideFault(request.target);
    HandleResult result = api.Handle(request);
    api.LogRequest(request.method, request.target, result.response.status);
    if (result.watch.has_value()) {
      std::size_t lines = 0;
      SandboxApi::WatchStart start = api.StartWatch(*result.watch, [&](std::string) { ++lines; });
      (void)api.BookmarkLine(*result.watch);
      api.StopWatch(start.watcher_id);
    }
    api.RunControllers();
  }
  return 0;
}
