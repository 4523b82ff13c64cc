// Trust in an HTTPS server through a CA bundle of the operator's choosing
// (a private CA instead of, or besides, the system store).
//
// The transport hands over only the server's leaf certificate, so any
// intermediate certificates must be in the bundle too. Immutable after
// Load, so safe for concurrent use.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::source {

class CertificateAuthorities {
 public:
  // Reads every PEM certificate from `path`; kInvalidInput when there is
  // none or one does not parse.
  static Result<CertificateAuthorities> Load(const std::string& path);

  // Ok when the DER certificate chains to a certificate of the bundle, is
  // within its validity period, is meant for TLS servers and names `host`
  // (DNS name or IP address). kAccessDenied with OpenSSL's reason otherwise.
  Status Verify(std::string_view leaf_der, std::string_view host) const;

  const std::string& path() const { return path_; }

 private:
  struct Store;
  std::shared_ptr<const Store> store_;
  std::string path_;
};

}  // namespace keelson::source
