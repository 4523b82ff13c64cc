// The real transport: HTTP/1.1 over TCP or TLS (OpenSSL via Boost.Beast)
// with a pool of keep-alive connections. Beast stays inside the .cpp.
//
// TLS verifies the server certificate against the configured CA (or the
// system roots) and the host name (or IP address) by default; a config with
// insecure_skip_tls_verify turns both off and logs a warning. A bearer token
// is never sent over plain HTTP (kubectl withholds it too); a warning says
// so. Thread-safe:
// each call takes an idle connection from the pool or opens a new one; a
// connection goes back to the pool only after a complete keep-alive
// response. A call that fails on a reused connection before any byte of the
// response arrived is tried once more on a fresh one (the server may have
// closed the idle connection).
#pragma once

#include <cstddef>
#include <memory>

#include "agent/cluster/config.h"
#include "agent/cluster/transport.h"

namespace keelson::cluster {

struct HttpTransportOptions {
  // Idle connections kept per transport; more concurrent calls open more
  // connections that are closed after use.
  std::size_t max_idle_connections = 8;
  // Responses larger than this fail (lists are paginated well below it).
  std::size_t max_body_bytes = 256u << 20;
  std::string user_agent = "keelson";
};

// Builds a transport for `config`. Fails with kInvalidInput when the server
// URL, CA, client certificate or key is malformed, naming config.source.
Result<std::unique_ptr<HttpTransport>> MakeHttpTransport(const ConnectionConfig& config,
                                                         const HttpTransportOptions& options = {});

}  // namespace keelson::cluster
