// SSH signatures in the SSHSIG format that `ssh-keygen -Y sign` writes
// (OpenSSH PROTOCOL.sshsig), as git stores them for gpg.format=ssh.
//
// Supported keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa
// (signatures rsa-sha2-256/512 only; SHA-1 "ssh-rsa" signatures are
// refused, as ssh-keygen does). Certificates and security-key (sk-) keys
// are refused with an error saying so. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "agent/trust/crypto.h"
#include "renderers/manifest/result.h"

namespace keelson::trust {

// Armored signatures larger than this are refused before decoding.
inline constexpr std::size_t kMaxSshSignatureBytes = 64u << 10;

struct SshPublicKey {
  std::string algorithm;  // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ...
  std::string blob;       // the key in SSH wire format

  // "SHA256:" and the unpadded base64 of SHA-256(blob), as ssh-keygen -l.
  std::string Fingerprint() const;
  // "ssh-ed25519 AAAA..." (no comment), the authorized_keys form.
  std::string ToText() const;
  // The key as an OpenSSL key.
  Result<PublicKey> ToPublicKey() const;
};

// Parses and checks a wire-format key blob.
Result<SshPublicKey> ParseSshPublicKeyBlob(std::string_view blob);
// Parses "TYPE BASE64" (the type must match the blob).
Result<SshPublicKey> ParseSshPublicKeyText(std::string_view type, std::string_view base64);

struct SshSignature {
  SshPublicKey key;
  std::string name_space;       // "git" for git objects
  std::string hash_algorithm;   // "sha256" or "sha512"
  std::string signature_algorithm;  // "ssh-ed25519", "rsa-sha2-512", ...
  std::string signature_blob;   // algorithm-specific signature bytes
};

// Parses "-----BEGIN SSH SIGNATURE-----" ... "-----END SSH SIGNATURE-----".
Result<SshSignature> ParseSshSignature(std::string_view armored);
// Parses the binary SSHSIG blob (after base64 decoding).
Result<SshSignature> ParseSshSignatureBlob(std::string_view blob);

// Checks the namespace, then the signature over `message` with the key the
// signature names (the caller decides separately whether that key is
// trusted). kCheckFailed when it does not verify.
Status VerifySshSignature(const SshSignature& signature, std::string_view message,
                          std::string_view expected_namespace);

}  // namespace keelson::trust
