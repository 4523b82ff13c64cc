#include "sandbox/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cstdio>
#include <deque>
#include <optional>

namespace keelson::sandbox {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct SandboxServer::Impl : std::enable_shared_from_this<SandboxServer::Impl> {
  Impl(net::io_context& io_context, SandboxApi& sandbox_api, ServerOptions server_options)
      : io(io_context),
        api(sandbox_api),
        options(std::move(server_options)),
        acceptor(io_context),
        ssl(net::ssl::context::tls_server),
        controller_timer(io_context),
        save_timer(io_context) {}

  void Accept();
  void TickControllers();
  void TickSave();

  net::io_context& io;
  SandboxApi& api;
  ServerOptions options;
  tcp::acceptor acceptor;
  net::ssl::context ssl;
  bool use_tls = false;
  bool stopped = false;
  net::steady_timer controller_timer;
  net::steady_timer save_timer;
  std::string bound;
};

namespace {

// One connection. Derived supplies stream() (plain or TLS) and the
// transport-specific start and close steps.
template <class Derived>
class Session {
 public:
  Session(std::shared_ptr<SandboxServer::Impl> server) : server_(std::move(server)) {}

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  SandboxApi& api() { return server_->api; }
  const ServerOptions& options() { return server_->options; }

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    beast::get_lowest_layer(self().stream()).expires_after(options().idle_timeout);
    http::async_read(self().stream(), buffer_, *parser_,
                     [me = self().shared_from_this()](beast::error_code ec, std::size_t) { me->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      keep_alive_ = false;
      request_ = ApiRequest{};
      request_.method = "?";
      ApiResponse r;
      r.status = 413;
      r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"request entity too large","reason":"RequestEntityTooLarge","code":413})";
      Write(std::move(r));
      return;
    }
    if (ec) {
      self().Close();
      return;
    }
    auto& req = parser_->get();
    request_ = ApiRequest{};
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    request_.content_type = std::string(req[http::field::content_type]);
    request_.accept = std::string(req[http::field::accept]);
    request_.authorization = std::string(req[http::field::authorization]);
    request_.user_agent = std::string(req[http::field::user_agent]);
    request_.body = std::move(req.body());
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    fault_ = api().DecideFault(request_.target);
    if (fault_.latency_ms > 0) {
      timer_.emplace(beast::get_lowest_layer(self().stream()).get_executor());
      timer_->expires_after(std::chrono::milliseconds(fault_.latency_ms));
      timer_->async_wait([me = self().shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) me->Process();
      });
      return;
    }
    Process();
  }

  void Process() {
    switch (fault_.action) {
      case FaultAction::kDrop:
        api().LogRequest(request_.method, request_.target, 0);
        beast::get_lowest_layer(self().stream()).socket().close();
        return;
      case FaultAction::kError: {
        ApiResponse r;
        r.status = 500;
        r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"injected fault: internal error","reason":"InternalError","code":500})";
        Write(std::move(r));
        return;
      }
      case FaultAction::kThrottle: {
        ApiResponse r;
        r.status = 429;
        int seconds = api().options().faults.retry_after_seconds;
        r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"injected fault: too many requests, please try again later","reason":"TooManyRequests","details":{"retryAfterSeconds":)" +
                 std::to_string(seconds) + R"(},"code":429})";
        r.headers.emplace_back("Retry-After", std::to_string(seconds));
        Write(std::move(r));
        return;
      }
      case FaultAction::kNone:
        break;
    }
    HandleResult result = api().Handle(request_);
    if (result.watch.has_value()) {
      StartWatch(std::move(*result.watch));
      return;
    }
    Write(std::move(result.response));
  }

  void Write(ApiResponse r) {
    api().LogRequest(request_.method, request_.target, r.status);
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "keelson-sandbox");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    beast::get_lowest_layer(self().stream()).expires_after(options().idle_timeout);
    http::async_write(self().stream(), *res,
                      [me = self().shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !me->keep_alive_) {
                          me->Close();
                          return;
                        }
                        me->DoRead();
                      });
  }

  // Watches: a chunked response, one JSON event per chunk.
  void StartWatch(WatchPlan plan) {
    api().LogRequest(request_.method, request_.target, 200);
    plan_ = std::move(plan);
    watch_header_.emplace(http::status::ok, version_);
    watch_header_->set(http::field::server, "keelson-sandbox");
    watch_header_->set(http::field::content_type, "application/json");
    watch_header_->set(http::field::cache_control, "no-cache, private");
    watch_header_->chunked(true);
    watch_serializer_.emplace(*watch_header_);
    std::weak_ptr<Derived> weak = self().shared_from_this();
    SandboxApi::WatchStart start = api().StartWatch(*plan_, [weak](std::string line) {
      if (auto me = weak.lock()) me->Enqueue(std::move(line));
    });
    watcher_id_ = start.watcher_id;
    for (std::string& line : start.lines) Enqueue(std::move(line), /*start=*/false);
    if (watcher_id_ == 0) ending_ = true;
    beast::get_lowest_layer(self().stream()).expires_never();
    writing_ = true;
    http::async_write_header(self().stream(), *watch_serializer_,
                             [me = self().shared_from_this()](beast::error_code ec, std::size_t) {
                               me->writing_ = false;
                               if (ec) {
                                 me->Close();
                                 return;
                               }
                               me->WriteNext();
                             });
    auto executor = beast::get_lowest_layer(self().stream()).get_executor();
    timer_.emplace(executor);
    timer_->expires_after(std::chrono::seconds(plan_->timeout_seconds));
    timer_->async_wait([me = self().shared_from_this()](beast::error_code ec) {
      if (ec) return;
      me->ending_ = true;
      if (!me->writing_) me->WriteNext();
    });
    if (plan_->bookmarks) {
      bookmark_timer_.emplace(executor);
      ScheduleBookmark();
    }
    // The client sends nothing while it reads a watch; a read that
    // completes means it went away.
    self().stream().async_read_some(net::buffer(probe_), [me = self().shared_from_this()](beast::error_code,
                                                                                         std::size_t) {
      me->Close();
    });
  }

  void ScheduleBookmark() {
    bookmark_timer_->expires_after(api().options().bookmark_interval);
    bookmark_timer_->async_wait([me = self().shared_from_this()](beast::error_code ec) {
      if (ec || me->closed_ || me->ending_) return;
      me->Enqueue(me->api().BookmarkLine(*me->plan_));
      me->ScheduleBookmark();
    });
  }

  void Enqueue(std::string line, bool start = true) {
    if (closed_ || ending_) return;
    queued_bytes_ += line.size();
    if (queued_bytes_ > options().max_watch_queue_bytes) {
      std::fprintf(stderr, "keelson sandbox: closing a watch whose client is not reading (%zu bytes queued)\n", queued_bytes_);
      Close();
      return;
    }
    pending_.push_back(std::move(line));
    if (start && !writing_) WriteNext();
  }

  void WriteNext() {
    if (closed_) return;
    if (pending_.empty()) {
      if (!ending_) return;
      writing_ = true;
      net::async_write(self().stream(), http::make_chunk_last(),
                       [me = self().shared_from_this()](beast::error_code, std::size_t) { me->Close(); });
      return;
    }
    writing_ = true;
    current_ = std::move(pending_.front());
    pending_.pop_front();
    queued_bytes_ -= current_.size();
    net::async_write(self().stream(), http::make_chunk(net::buffer(current_)),
                     [me = self().shared_from_this()](beast::error_code ec, std::size_t) {
                       me->writing_ = false;
                       if (ec) {
                         me->Close();
                         return;
                       }
                       me->WriteNext();
                     });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (watcher_id_ != 0) api().StopWatch(watcher_id_);
    watcher_id_ = 0;
    if (timer_) timer_->cancel();
    if (bookmark_timer_) bookmark_timer_->cancel();
    // A TLS close_notify is a write and waits for a read; neither may
    // overlap a write still in flight or a watch's pending probe read.
    self().Shutdown(/*graceful=*/!writing_ && !plan_.has_value());
  }

  std::shared_ptr<SandboxServer::Impl> server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ApiRequest request_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  FaultDecision fault_;
  std::optional<net::steady_timer> timer_;
  std::optional<net::steady_timer> bookmark_timer_;
  std::optional<WatchPlan> plan_;
  std::optional<http::response<http::empty_body>> watch_header_;
  std::optional<http::response_serializer<http::empty_body>> watch_serializer_;
  std::deque<std::string> pending_;
  std::string current_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  std::uint64_t watcher_id_ = 0;
  char probe_[1];
};

class PlainSession : public Session<PlainSession>, public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(tcp::socket socket, std::shared_ptr<SandboxServer::Impl> server)
      : Session(std::move(server)), stream_(std::move(socket)) {}
  beast::tcp_stream& stream() { return stream_; }
  void Run() { DoRead(); }
  void Shutdown(bool) {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  friend class Session<PlainSession>;
  beast::tcp_stream stream_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(tcp::socket socket, net::ssl::context& context, std::shared_ptr<SandboxServer::Impl> server)
      : Session(std::move(server)), stream_(std::move(socket), context) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void Run() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    stream_.async_handshake(net::ssl::stream_base::server, [me = shared_from_this()](beast::error_code ec) {
      if (ec) {
        beast::error_code ignored;
        beast::get_lowest_layer(me->stream_).socket().close(ignored);
        me->closed_ = true;
        return;
      }
      me->DoRead();
    });
  }
  void Shutdown(bool graceful) {
    if (!graceful) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream_).socket().close(ec);
      return;
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([me = shared_from_this()](beast::error_code) {
      beast::error_code ec;
      beast::get_lowest_layer(me->stream_).socket().close(ec);
    });
  }

 private:
  friend class Session<TlsSession>;
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void SandboxServer::Impl::Accept() {
  acceptor.async_accept(io, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      if (self->use_tls) {
        std::make_shared<TlsSession>(std::move(socket), self->ssl, self)->Run();
      } else {
        std::make_shared<PlainSession>(std::move(socket), self)->Run();
      }
    } else if (ec == net::error::operation_aborted) {
      return;
    } else {
      std::fprintf(stderr, "keelson sandbox: accept failed: %s\n", ec.message().c_str());
    }
    self->Accept();
  });
}

void SandboxServer::Impl::TickControllers() {
  controller_timer.expires_after(options.controller_interval);
  controller_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopped) return;
    self->api.RunControllers();
    self->TickControllers();
  });
}

void SandboxServer::Impl::TickSave() {
  save_timer.expires_after(options.save_interval);
  save_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopped) return;
    if (Status s = self->api.SaveIfDirty(); !s.ok()) {
      std::fprintf(stderr, "keelson sandbox: error: %s\n", s.error().ToString().c_str());
    }
    self->TickSave();
  });
}

SandboxServer::SandboxServer(net::io_context& io, SandboxApi& api, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, api, std::move(options))) {}

SandboxServer::~SandboxServer() { Stop(); }

Status SandboxServer::Start() {
  Impl& s = *impl_;
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    if (s.options.tls_cert_file.empty() || s.options.tls_key_file.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "--tls-cert and --tls-key go together");
    }
    beast::error_code ec;
    s.ssl.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    s.ssl.use_certificate_chain_file(s.options.tls_cert_file, ec);
    if (ec) return MakeError(ErrorCode::kInvalidInput, "cannot load certificate: " + ec.message(), {s.options.tls_cert_file, 0, 0, ""});
    s.ssl.use_private_key_file(s.options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) return MakeError(ErrorCode::kInvalidInput, "cannot load private key: " + ec.message(), {s.options.tls_key_file, 0, 0, ""});
    s.use_tls = true;
  }
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.host, ec);
  if (ec) return MakeError(ErrorCode::kInvalidInput, "not an IP address: " + s.options.host);
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + ": " + ec.message());
  }
  tcp::endpoint local = s.acceptor.local_endpoint();
  s.bound = local.address().to_string() + ":" + std::to_string(local.port());
  s.Accept();
  s.TickControllers();
  s.TickSave();
  return Status::Ok();
}

std::string SandboxServer::address() const { return impl_->bound; }
bool SandboxServer::tls() const { return impl_->use_tls; }

void SandboxServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->controller_timer.cancel();
  impl_->save_timer.cancel();
}

}  // namespace keelson::sandbox
