// SSH host key checking against a known_hosts file in OpenSSH's format.
//
// Supported: plain and hashed (|1|salt|hash) host names, "[host]:port" for
// non-standard ports, comma-separated patterns with * and ? wildcards and
// "!" negation, and @revoked lines. @cert-authority lines are skipped (host
// certificates are not supported by the transport) and reported by
// Check() when they are the only entries for the host. Immutable after
// Load, so safe for concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::source {

class KnownHosts {
 public:
  // Parses the file's text; malformed lines are errors with their line
  // number (a typo must not silently drop a host).
  static Result<KnownHosts> Parse(std::string_view text, const std::string& file_name);
  static Result<KnownHosts> Load(const std::string& path);

  // Ok when `host`:`port` is listed with exactly this key (the SSH wire
  // blob, as the server sent it) and the key is not revoked; otherwise
  // kAccessDenied saying whether the host is unknown, its key differs
  // (possible man-in-the-middle) or the key is revoked.
  Status Check(std::string_view host, int port, std::string_view key_type, std::string_view key_blob) const;

 private:
  struct Entry {
    enum class Marker { kNone, kRevoked, kCertAuthority } marker = Marker::kNone;
    std::vector<std::string> patterns;
    std::string key_type;
    std::string key_blob;
    int line = 0;
  };
  static bool HostMatches(const Entry& entry, const std::string& name);
  std::vector<Entry> entries_;
  std::string file_name_;
};

// True when `name` matches the OpenSSH wildcard `pattern` (* and ?).
bool WildcardMatch(std::string_view pattern, std::string_view name);

}  // namespace keelson::source
