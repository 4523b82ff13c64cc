// The agent's small HTTP/1.1 server (Boost.Beast): webhooks now; /metrics,
// /healthz and the status page register their routes here too.
//
// One session object per connection; every read and write has a deadline;
// header and body sizes are capped (431 and 413); a request that does not
// parse gets 400 and the connection is closed. Handlers run on the server's
// I/O thread and must be quick: hand long work to another service (a
// webhook only sets a trigger). A handler that throws gets 500.
//
// Thread safety: Route before Start; Start and Stop from one thread; the
// handlers are called from the server's I/O thread(s).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target before '?'
  std::string query;   // after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // peer address, for logs

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Text(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // Listen address; 127.0.0.1 by default so nothing is exposed by accident.
  std::string address = "127.0.0.1";
  // 0 picks a free port (see HttpServer::port()).
  std::uint16_t port = 0;
  // Request line plus headers. Forges send a few KiB at most.
  std::size_t max_header_bytes = 16 * 1024;
  // Webhook payloads of large pushes reach a few hundred KiB; GitHub caps
  // them at 25 MB, but nothing here needs that much.
  std::size_t max_body_bytes = 2 * 1024 * 1024;
  // Deadline for reading one whole request once its first byte may arrive.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  // How long a kept-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  // Connections beyond this are closed at once.
  int max_connections = 128;
};

// Routing on its own, without sockets (used by the server and by tests and
// the fuzzer). A path ending in '/' is a prefix route; the longest match
// wins; a known path with an unregistered method gets 405.
class Router {
 public:
  void Route(std::string method, std::string path, HttpHandler handler);
  HttpResponse Dispatch(const HttpRequest& request) const;

 private:
  std::map<std::string, std::map<std::string, HttpHandler>> routes_;  // path -> method -> handler
};

// Parses one complete HTTP/1.1 request from `raw` with the same limits as
// the server. kInvalidInput when it does not parse or is incomplete,
// kLimitExceeded above the caps.
Result<HttpRequest> ParseHttpRequest(std::string_view raw, const HttpServerOptions& options);

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Route(std::string method, std::string path, HttpHandler handler);

  // Binds and starts serving on a thread of its own. kUnavailable when the
  // address cannot be bound.
  Status Start();
  // Closes the listener and every connection, and joins the thread.
  void Stop();
  std::uint16_t port() const;

  struct Impl;  // the Beast machinery, private to http_server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace keelson::server
