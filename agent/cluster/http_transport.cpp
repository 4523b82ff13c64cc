#include "agent/cluster/http_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>
#include <vector>

namespace keelson::cluster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Deadline = std::chrono::steady_clock::time_point;

struct ServerUrl {
  bool tls = true;
  std::string host;  // without brackets
  std::string port;
  std::string prefix;  // "" or "/some/prefix" without a trailing slash
  std::string authority;  // host[:port] as the Host header wants it
};

Result<ServerUrl> ParseServerUrl(const std::string& server, const std::string& source) {
  auto fail = [&](const std::string& message) {
    Location where;
    where.file = source;
    where.field = "server";
    return MakeError(ErrorCode::kInvalidInput, message + ": " + server, where);
  };
  ServerUrl url;
  std::string_view rest = server;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    url.tls = false;
    rest.remove_prefix(7);
  } else {
    return fail("server address must start with https:// or http://");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.prefix = std::string(rest.substr(slash));
    while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
  }
  if (authority.empty()) return fail("server address has no host");
  url.authority = std::string(authority);
  std::string_view port;
  if (authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated [ in server address");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after ] in server address");
      port = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return fail("server address has no host");
  if (port.empty()) {
    url.port = url.tls ? "443" : "80";
  } else {
    for (char c : port) {
      if (c < '0' || c > '9') return fail("server port is not a number");
    }
    url.port = std::string(port);
  }
  return url;
}

// One keep-alive connection with its own event loop, so a connection is
// driven entirely by the thread that currently holds it.
struct Connection {
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

// Runs the connection's loop until the operation started by `start` has
// completed; the stream's own expiry bounds how long that takes.
template <typename Start>
beast::error_code RunUntilDone(asio::io_context& ioc, Start&& start) {
  beast::error_code result;
  bool done = false;
  start([&result, &done](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  int idle_rounds = 0;
  while (!done) {
    if (ioc.stopped()) ioc.restart();
    if (ioc.run_one() == 0 && !done && ++idle_rounds > 2) {
      return asio::error::make_error_code(asio::error::operation_aborted);
    }
  }
  return result;
}

// RunUntilDone for streamed reads: runs the operation in slices and, once
// `cancel` is set, cancels the socket's pending operations so the read ends
// with operation_aborted instead of waiting for the next chunk.
template <typename Start, typename Abort>
beast::error_code RunUntilDoneOrCancelled(asio::io_context& ioc, const std::atomic<bool>* cancel, Abort&& abort,
                                          Start&& start) {
  if (cancel == nullptr) return RunUntilDone(ioc, std::forward<Start>(start));
  beast::error_code result;
  bool done = false;
  bool aborted = false;
  start([&result, &done](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  while (!done) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(100));
    if (!done && !aborted && cancel->load()) {
      abort();
      aborted = true;
    }
  }
  return aborted ? beast::error_code(asio::error::operation_aborted) : result;
}

class BeastTransport final : public HttpTransport {
 public:
  BeastTransport(ConnectionConfig config, ServerUrl url, std::unique_ptr<asio::ssl::context> tls,
                 HttpTransportOptions options)
      : config_(std::move(config)), url_(std::move(url)), tls_(std::move(tls)), options_(std::move(options)) {}

  std::string Describe() const override { return config_.server; }

  Result<HttpResponse> Send(const HttpRequest& request, const BodySink* sink) override {
    std::unique_ptr<Connection> conn = TakeIdle();
    bool was_reused = conn != nullptr;
    bool stale = false;
    Result<HttpResponse> result = Exchange(request, sink, conn, &stale);
    if (!result && was_reused && stale) {
      // The server closed the idle connection before we used it.
      conn.reset();
      result = Exchange(request, sink, conn, &stale);
    }
    return result;
  }

 private:
  std::unique_ptr<Connection> TakeIdle() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) return nullptr;
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    conn->reused = true;
    return conn;
  }

  void ReturnIdle(std::unique_ptr<Connection> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
  }

  Error NetworkError(const HttpRequest& request, const std::string& step, const beast::error_code& ec,
                     Connection* conn) const {
    std::string what = request.method + " " + config_.server + url_.prefix + request.target + ": ";
    if (ec == beast::error::timeout) {
      return MakeError(ErrorCode::kUnavailable,
                       what + "timed out after " + std::to_string(request.timeout.count()) + "ms while " + step);
    }
    if (conn != nullptr && conn->secure && step == "TLS handshake") {
      long verify = SSL_get_verify_result(conn->secure->native_handle());
      if (verify != X509_V_OK) {
        return MakeError(ErrorCode::kAccessDenied,
                         what + "TLS certificate verification failed: " +
                             X509_verify_cert_error_string(verify) +
                             " (check certificate-authority and the server name in " + config_.source + ")");
      }
    }
    return MakeError(ErrorCode::kUnavailable, what + step + " failed: " + ec.message());
  }

  Error Cancelled(const HttpRequest& request) const {
    return MakeError(ErrorCode::kUnavailable,
                     request.method + " " + config_.server + url_.prefix + request.target + ": cancelled");
  }

  Result<std::unique_ptr<Connection>> Open(const HttpRequest& request, Deadline deadline) {
    auto conn = std::make_unique<Connection>();
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    {
      tcp::resolver resolver(conn->ioc);
      asio::steady_timer timer(conn->ioc);
      timer.expires_at(deadline);
      bool timed_out = false;
      timer.async_wait([&resolver, &timed_out](beast::error_code wait_ec) {
        if (!wait_ec) {
          timed_out = true;
          resolver.cancel();
        }
      });
      ec = RunUntilDone(conn->ioc, [&](auto handler) {
        resolver.async_resolve(url_.host, url_.port,
                               [&endpoints, handler](beast::error_code rec, tcp::resolver::results_type r) mutable {
                                 endpoints = std::move(r);
                                 handler(rec);
                               });
      });
      timer.cancel();
      conn->ioc.restart();
      conn->ioc.poll();  // let the cancelled timer's handler run while its captures live
      if (timed_out) ec = beast::error::timeout;
    }
    if (ec) return NetworkError(request, "resolving " + url_.host, ec, nullptr);
    if (tls_) {
      conn->secure.emplace(conn->ioc, *tls_);
      SSL* ssl = conn->secure->native_handle();
      const std::string& name = config_.tls_server_name.empty() ? url_.host : config_.tls_server_name;
      beast::error_code addr_ec;
      asio::ip::make_address(name, addr_ec);
      bool is_address = !addr_ec;
      if (!is_address) SSL_set_tlsext_host_name(ssl, name.c_str());
      if (!config_.insecure_skip_tls_verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (is_address) {
          X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        } else {
          X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
          X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
        }
      }
    } else {
      conn->plain.emplace(conn->ioc);
    }
    conn->lowest().expires_at(deadline);
    ec = RunUntilDone(conn->ioc, [&](auto handler) { conn->lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) return NetworkError(request, "connecting", ec, nullptr);
    conn->lowest().socket().set_option(tcp::no_delay(true), ec);
    if (conn->secure) {
      conn->lowest().expires_at(deadline);
      ec = RunUntilDone(conn->ioc, [&](auto handler) {
        conn->secure->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) return NetworkError(request, "TLS handshake", ec, conn.get());
    }
    return conn;
  }

  Result<HttpResponse> Exchange(const HttpRequest& request, const BodySink* sink, std::unique_ptr<Connection>& conn,
                                bool* stale) {
    *stale = false;
    Deadline deadline = std::chrono::steady_clock::now() + request.timeout;
    if (!conn) {
      Result<std::unique_ptr<Connection>> opened = Open(request, deadline);
      if (!opened) return std::move(opened).error();
      conn = std::move(*opened);
    }
    if (conn->secure) return ExchangeOn(*conn->secure, request, sink, conn, deadline, stale);
    return ExchangeOn(*conn->plain, request, sink, conn, deadline, stale);
  }

  template <typename Stream>
  Result<HttpResponse> ExchangeOn(Stream& stream, const HttpRequest& request, const BodySink* sink,
                                  std::unique_ptr<Connection>& conn, Deadline deadline, bool* stale) {
    http::request<http::string_body> req;
    req.version(11);
    req.method_string(request.method);
    req.target(url_.prefix + request.target);
    req.set(http::field::host, url_.authority);
    req.set(http::field::user_agent, options_.user_agent);
    bool has_accept = false;
    for (const auto& [name, value] : request.headers) {
      req.set(name, value);
      if (beast::iequals(name, "Accept")) has_accept = true;
    }
    if (!has_accept) req.set(http::field::accept, "application/json");
    if (!config_.bearer_token.empty()) req.set(http::field::authorization, "Bearer " + config_.bearer_token);
    req.body() = request.body;
    req.keep_alive(true);
    req.prepare_payload();

    Connection& c = *conn;
    c.lowest().expires_at(deadline);
    beast::error_code ec = RunUntilDone(c.ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    if (ec) {
      *stale = c.reused;
      return NetworkError(request, "sending the request", ec, nullptr);
    }

    HttpResponse response;
    auto copy_headers = [&response](const auto& base) {
      response.status = static_cast<int>(base.result_int());
      for (const auto& field : base) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
    };

    if (sink == nullptr) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      parser.header_limit(64 * 1024);
      c.lowest().expires_at(deadline);
      ec = RunUntilDone(c.ioc, [&](auto handler) { http::async_read_header(stream, c.buffer, parser, std::move(handler)); });
      if (ec) {
        *stale = c.reused && c.buffer.size() == 0;
        return NetworkError(request, "reading the response header", ec, nullptr);
      }
      c.lowest().expires_at(deadline);
      ec = RunUntilDone(c.ioc, [&](auto handler) { http::async_read(stream, c.buffer, parser, std::move(handler)); });
      if (ec == http::error::body_limit) {
        return MakeError(ErrorCode::kLimitExceeded, request.method + " " + request.target + ": response body exceeds " +
                                                        std::to_string(options_.max_body_bytes) + " bytes");
      }
      if (ec) return NetworkError(request, "reading the response body", ec, nullptr);
      copy_headers(parser.get().base());
      bool keep = parser.get().keep_alive();
      response.body = std::move(parser.get().body());
      if (keep) ReturnIdle(std::move(conn));
      return response;
    }

    // Streamed: hand each chunk over as it arrives; the timeout is the
    // longest silence allowed between chunks.
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto abort = [&c] {
      beast::error_code ignored;
      c.lowest().socket().cancel(ignored);
    };
    c.lowest().expires_after(request.timeout);
    ec = RunUntilDoneOrCancelled(c.ioc, request.cancel, abort, [&](auto handler) {
      http::async_read_header(stream, c.buffer, parser, std::move(handler));
    });
    if (ec && request.cancel != nullptr && request.cancel->load()) return Cancelled(request);
    if (ec) {
      *stale = c.reused && c.buffer.size() == 0;
      return NetworkError(request, "reading the response header", ec, nullptr);
    }
    copy_headers(parser.get().base());
    std::vector<char> chunk(64 * 1024);
    bool stopped = false;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      c.lowest().expires_after(request.timeout);
      // read_some: hand over each event as it arrives; async_read would
      // wait until the whole chunk buffer filled or the stream ended.
      ec = RunUntilDoneOrCancelled(c.ioc, request.cancel, abort, [&](auto handler) {
        http::async_read_some(stream, c.buffer, parser, std::move(handler));
      });
      if (ec && request.cancel != nullptr && request.cancel->load()) return Cancelled(request);
      if (ec == http::error::need_buffer) ec = {};
      std::size_t got = chunk.size() - parser.get().body().size;
      if (got > 0 && !(*sink)(std::string_view(chunk.data(), got))) {
        stopped = true;
        break;
      }
      if (ec) return NetworkError(request, "reading the response stream", ec, nullptr);
    }
    if (!stopped && parser.get().keep_alive()) ReturnIdle(std::move(conn));
    return response;
  }

  ConnectionConfig config_;
  ServerUrl url_;
  std::unique_ptr<asio::ssl::context> tls_;
  HttpTransportOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> MakeHttpTransport(const ConnectionConfig& config,
                                                         const HttpTransportOptions& options) {
  Result<ServerUrl> url = ParseServerUrl(config.server, config.source);
  if (!url) return std::move(url).error();
  auto fail = [&](const std::string& field, const std::string& message) {
    Location where;
    where.file = config.source;
    where.field = field;
    return MakeError(ErrorCode::kInvalidInput, message, where);
  };
  std::unique_ptr<asio::ssl::context> tls;
  if (url->tls) {
    tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (config.insecure_skip_tls_verify) {
      spdlog::warn("cluster {}: TLS verification is off (insecure-skip-tls-verify in {}); anyone on the path "
                   "can impersonate the API server",
                   config.server, config.source);
      tls->set_verify_mode(asio::ssl::verify_none);
    } else {
      tls->set_verify_mode(asio::ssl::verify_peer);
      if (config.ca_pem.empty()) {
        tls->set_default_verify_paths(ec);
        if (ec) return fail("certificate-authority", "cannot load the system CA certificates: " + ec.message());
      } else {
        tls->add_certificate_authority(asio::buffer(config.ca_pem), ec);
        if (ec) return fail("certificate-authority", "not a PEM certificate: " + ec.message());
      }
    }
    if (!config.client_cert_pem.empty()) {
      tls->use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
      if (ec) return fail("client-certificate", "not a PEM certificate: " + ec.message());
      tls->use_private_key(asio::buffer(config.client_key_pem), asio::ssl::context::pem, ec);
      if (ec) return fail("client-key", "not a PEM private key matching the certificate: " + ec.message());
    }
  }
  ConnectionConfig used = config;
  if (!url->tls && !used.bearer_token.empty()) {
    // As kubectl does: a token sent in clear text is a token given away.
    spdlog::warn("cluster {}: not sending the bearer token from {} over plain HTTP; use https", config.server,
                 config.source);
    used.bearer_token.clear();
  }
  return std::unique_ptr<HttpTransport>(
      std::make_unique<BeastTransport>(std::move(used), std::move(*url), std::move(tls), options));
}

}  // namespace keelson::cluster
