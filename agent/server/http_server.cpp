#include "agent/server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <list>
#include <mutex>
#include <thread>

namespace keelson::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

HttpRequest FromBeast(const http::request<http::string_body>& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  std::size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) out.query = out.target.substr(q + 1);
  for (const auto& field : req) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = req.body();
  return out;
}

http::response<http::string_body> ToBeast(const HttpResponse& res, unsigned version, bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(res.status), version};
  out.set(http::field::server, "keelson");
  out.set(http::field::content_type, res.content_type);
  for (const auto& [name, value] : res.headers) out.set(name, value);
  out.body() = res.body;
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

// The status for a failed read, or 0 when the connection should just close.
int StatusForReadError(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || ec == asio::error::eof) {
    return 0;
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) return 400;
  return 0;
}

}  // namespace

std::optional<std::string> HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body += '\n';
  return r;
}

void Router::Route(std::string method, std::string path, HttpHandler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

HttpResponse Router::Dispatch(const HttpRequest& request) const {
  const std::map<std::string, HttpHandler>* methods = nullptr;
  auto exact = routes_.find(request.path);
  if (exact != routes_.end()) {
    methods = &exact->second;
  } else {
    std::size_t best = 0;
    for (const auto& [path, handlers] : routes_) {
      if (path.ends_with('/') && request.path.starts_with(path) && path.size() > best) {
        best = path.size();
        methods = &handlers;
      }
    }
  }
  if (methods == nullptr) return HttpResponse::Text(404, "not found");
  auto handler = methods->find(request.method);
  if (handler == methods->end()) {
    std::string allow;
    for (const auto& [method, h] : *methods) allow += (allow.empty() ? "" : ", ") + method;
    HttpResponse r = HttpResponse::Text(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  try {
    return handler->second(request);
  } catch (const std::exception&) {
    return HttpResponse::Text(500, "internal error");
  }
}

Result<HttpRequest> ParseHttpRequest(std::string_view raw, const HttpServerOptions& options) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
  parser.body_limit(options.max_body_bytes);
  beast::error_code ec;
  std::size_t used = 0;
  // The header first, on its own, so that chunked bodies can be refused
  // before any of their bytes reach the parser (see Session::OnHeader).
  while (used < raw.size() && !parser.is_header_done()) {
    std::size_t n = parser.put(asio::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) ec = {};
    if (ec || n == 0) break;
  }
  if (!ec && parser.is_header_done() && parser.chunked()) {
    return MakeError(ErrorCode::kInvalidInput, "chunked request bodies are not accepted; send Content-Length");
  }
  parser.eager(true);
  while (!ec && used < raw.size() && !parser.is_done()) {
    std::size_t n = parser.put(asio::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) ec = {};
    if (n == 0) break;
  }
  // put_eof is only meaningful once something was parsed (Beast asserts it).
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    return MakeError(ErrorCode::kLimitExceeded, "request exceeds a size limit: " + ec.message());
  }
  if (ec || !parser.is_done()) {
    return MakeError(ErrorCode::kInvalidInput, "malformed HTTP request: " + (ec ? ec.message() : "incomplete"));
  }
  HttpRequest out = FromBeast(parser.get());
  if (out.path.empty() || out.path[0] != '/') {
    return MakeError(ErrorCode::kInvalidInput, "request target must start with '/'");
  }
  return out;
}

class Session;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : options(std::move(o)), acceptor(ioc) {}

  // Declared before the io_context: sessions still queued in it when it is
  // destroyed touch `active` and `options` on their way out.
  HttpServerOptions options;
  Router router;
  std::atomic<int> active{0};
  std::uint16_t port = 0;
  bool running = false;
  std::mutex sessions_mu;
  std::list<std::weak_ptr<Session>> sessions;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::thread thread;

  void Accept();
};

// One connection: read a request, answer it, and loop while the client
// keeps the connection alive. Every step has a deadline.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {
    ++server_.active;
  }
  ~Session() { --server_.active; }

  void Start() {
    beast::error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
    Read(server_.options.read_timeout);
  }

  void Close() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  void Read(std::chrono::milliseconds timeout) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    if (parser_->chunked()) {
      // Beast 1.74's chunk parser trips its own assertions on some
      // malformed chunk headers (found by fuzz_http); forges send webhooks
      // with Content-Length, so chunked bodies are refused outright.
      return Write(ToBeast(HttpResponse::Text(411, "send the body with Content-Length"), 11, false));
    }
    // The body shares the deadline set for the header.
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code read_ec, std::size_t) { self->OnRead(read_ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      int status = StatusForReadError(ec);
      if (status == 0) return Shutdown();
      HttpResponse r = HttpResponse::Text(status, status == 413   ? "request body too large"
                                                  : status == 431 ? "request headers too large"
                                                                  : "malformed request");
      return Write(ToBeast(r, 11, false));
    }
    const http::request<http::string_body>& req = parser_->get();
    HttpRequest request = FromBeast(req);
    request.remote = remote_;
    HttpResponse response = request.path.empty() || request.path[0] != '/'
                                ? HttpResponse::Text(400, "request target must start with '/'")
                                : server_.router.Dispatch(request);
    Write(ToBeast(response, req.version(), req.keep_alive()));
  }

  void Write(http::response<http::string_body> response) {
    response_ = std::move(response);
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->Shutdown();
      self->Read(self->server_.options.idle_timeout);
    });
  }

  void Shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::string remote_;
};

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (active.load() >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        auto session = std::make_shared<Session>(std::move(socket), *this);
        {
          std::lock_guard<std::mutex> lock(sessions_mu);
          sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
          sessions.push_back(session);
        }
        session->Start();
      }
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string path, HttpHandler handler) {
  impl_->router.Route(std::move(method), std::move(path), std::move(handler));
}

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (s.running) return Status::Ok();
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(s.options.address, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidInput, "listen address \"" + s.options.address + "\" is not an IP address",
                     Location{{}, 0, 0, "listen"});
  }
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + s.options.address + ":" +
                                                  std::to_string(s.options.port) + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint().port();
  s.running = true;
  s.Accept();
  s.thread = std::thread([&s] { s.ioc.run(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  asio::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  {
    std::lock_guard<std::mutex> lock(s.sessions_mu);
    for (const std::weak_ptr<Session>& w : s.sessions) {
      if (std::shared_ptr<Session> session = w.lock()) session->Close();
    }
  }
  // Everything left finishes at once (closed sockets fail their pending
  // operations); stop() bounds it even if something lingers.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (s.active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  s.ioc.stop();
  if (s.thread.joinable()) s.thread.join();
}

std::uint16_t HttpServer::port() const { return impl_->port; }

}  // namespace keelson::server
