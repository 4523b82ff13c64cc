// X.509 signatures as gpgsm writes them for git (gpg.format=x509): a
// detached CMS SignedData in "-----BEGIN SIGNED MESSAGE-----" armor, checked
// with OpenSSL's CMS API against configured root certificates.
//
// X509Roots is immutable after Parse and safe to share between threads.
// Errors: kInvalidInput for malformed input, kCheckFailed for a signature
// or chain that is not acceptable, saying why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::trust {

inline constexpr std::size_t kMaxCmsSignatureBytes = 256u << 10;
inline constexpr std::size_t kMaxRootsBytes = 16u << 20;

struct X509Signer {
  std::string subject;      // RFC 2253 form, e.g. "emailAddress=a@b,CN=Alice"
  std::string email;        // first rfc822Name, else the subject's emailAddress
  std::string fingerprint;  // SHA-256 of the certificate, uppercase hex
};

class X509Roots;
Result<X509Signer> VerifyCmsSignature(std::string_view armored, std::string_view payload, const X509Roots& roots,
                                      std::int64_t now);

class X509Roots {
 public:
  // One or more PEM certificates ("-----BEGIN CERTIFICATE-----"). Each must
  // be a CA certificate. `file` names the input in errors.
  static Result<X509Roots> Parse(std::string_view pem, std::string_view file);

  X509Roots(X509Roots&&) noexcept;
  X509Roots& operator=(X509Roots&&) noexcept;
  ~X509Roots();
  std::size_t size() const;

 private:
  friend Result<X509Signer> VerifyCmsSignature(std::string_view, std::string_view, const X509Roots&, std::int64_t);
  struct Impl;
  X509Roots();
  std::unique_ptr<Impl> impl_;
};

// Decodes the armor and the CMS structure and checks it is a detached
// SignedData with exactly one signer. Used on its own by the fuzzer.
Status CheckCmsSignatureStructure(std::string_view armored);

// Verifies `armored` over `payload`: the content digest and signature, then
// the signer's chain to one of `roots` at time `now` (validity periods of
// every certificate; S/MIME signing key usage).
Result<X509Signer> VerifyCmsSignature(std::string_view armored, std::string_view payload, const X509Roots& roots,
                                      std::int64_t now);

}  // namespace keelson::trust
