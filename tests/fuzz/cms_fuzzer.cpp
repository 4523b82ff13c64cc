// Fuzzes the CMS (X.509) signature decoder and verifier: the input is tried
// as armored text and as the DER inside the armor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/trust/encoding.h"
#include "agent/trust/x509.h"

namespace {

// A throwaway self-signed P-256 CA, valid until 2126; its key was discarded.
constexpr std::string_view kRoot = R"(-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUUIJ5GQOc6BFdi12cWcIaqoBXbFMwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRS2VlbHNvbiBGdXp6IFJvb3QwIBcNMjYxMTI3MTA0MTMxWhgP
MjEyNjExMDMxMDQxMzFaMBwxGjAYBgNVBAMMEUtlZWxzb24gRnV6eiBSb290MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbpq4NNjvCIXYmBHzm0zhmvtXtRA1BRoq
6Du8eSH9YNsu7e0bsHbTzhl/L6xKU/XoHuoaCuyzIbLzADXkrbPKhaNTMFEwHQYD
VR0OBBYEFL1iZwrvc5SA11l+P19w0DZUyDuQMB8GA1UdIwQYMBaAFL1iZwrvc5SA
11l+P19w0DZUyDuQMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
eI6mnP6ugeFPdenpkjJdYQkJNWOBfN1JzriBr5qhZZ4CIQCxksCvGrTM2TWsfSmX
UdhZw/0todbsnVoqdL8Yup54XQ==
-----END CERTIFICATE-----
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::trust;
  static keelson::Result<X509Roots> roots = X509Roots::Parse(kRoot, "root.pem");
  if (!roots.ok()) std::abort();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string armored = "-----BEGIN SIGNED MESSAGE-----\n" + Base64Encode(bytes) + "\n-----END SIGNED MESSAGE-----\n";
  for (std::string_view text : {std::string_view(armored), bytes}) {
    keelson::Status structure = CheckCmsSignatureStructure(text);
    (void)structure;
    keelson::Result<X509Signer> signer = VerifyCmsSignature(text, "payload", *roots, 1800000000);
    (void)signer;
  }
  keelson::Result<X509Roots> parsed = X509Roots::Parse(bytes, "fuzz.pem");
  (void)parsed;
  return 0;
}
