// A bare-bones HTTP client for server tests: sends bytes as given and reads
// what comes back, so malformed and oversized requests can be sent too.
#pragma once

#include <chrono>
#include <string>

namespace keelson::server::testing {

struct RawReply {
  bool connected = false;
  bool closed_by_server = false;  // EOF seen before the deadline
  std::string bytes;
  int status() const;  // from the first status line; 0 when none
  std::string body() const;  // after the first blank line
};

// Connects to 127.0.0.1:port, writes `request`, and reads until the server
// closes the connection or `timeout` passes.
RawReply SendRaw(int port, const std::string& request,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A complete POST with Connection: close.
std::string Post(const std::string& path, const std::string& body, const std::string& extra_headers);

}  // namespace keelson::server::testing
