// The sandbox's HTTP/1.1 server (Boost.Beast): one session object per
// connection, keep-alive, a timeout before every read, capped header and
// body sizes, optional TLS, chunked streaming for watches, and the fault
// injection the API configures. It also drives the simulated controllers
// and periodic state snapshots on timers.
//
// Everything runs on the io_context the caller runs, on one thread; the
// SandboxApi must outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "renderers/manifest/result.h"
#include "sandbox/api.h"

namespace keelson::sandbox {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port
  // PEM files; both set means HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Request bodies above this are refused with 413 (large CRDs stay well
  // below; the cap bounds memory per connection).
  std::size_t max_body_bytes = 16u << 20;
  std::size_t max_header_bytes = 64u << 10;
  // A connection that sends nothing for this long is closed.
  std::chrono::seconds idle_timeout{120};
  // Watches whose client does not read are cut off when this many bytes
  // are queued.
  std::size_t max_watch_queue_bytes = 64u << 20;
  // How often the simulated controllers run.
  std::chrono::milliseconds controller_interval{100};
  // How often changed state is written to the state file (the whole
  // snapshot each time, so not after every request); a crash loses at most
  // this much, a clean stop (SIGTERM) nothing.
  std::chrono::milliseconds save_interval{1000};
};

class SandboxServer {
 public:
  SandboxServer(boost::asio::io_context& io, SandboxApi& api, ServerOptions options);
  ~SandboxServer();
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  // Loads TLS material, binds and starts accepting. Fails with a message
  // naming the address or file.
  Status Start();
  // "127.0.0.1:PORT" once started.
  std::string address() const;
  bool tls() const;
  // Stops accepting and cancels the timers; open sessions end when the
  // io_context stops.
  void Stop();

  struct Impl;  // defined in server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace keelson::sandbox
