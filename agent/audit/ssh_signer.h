// Signs data in OpenSSH's SSHSIG format with the agent's ed25519 key: the
// format git writes into a commit's gpgsig header when gpg.format=ssh, so
// stock `git verify-commit` with an allowed_signers file checks what this
// class signs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::audit {

class SshSigner {
 public:
  // Reads an OpenSSH private key file ("-----BEGIN OPENSSH PRIVATE KEY-----",
  // the openssh-key-v1 format ssh-keygen writes) holding one unencrypted
  // ed25519 key. Encrypted keys, other key types and malformed files fail
  // with kInvalidInput naming the file; the key material never appears in
  // an error message.
  static Result<SshSigner> FromPrivateKeyFile(const std::string& path);
  static Result<SshSigner> FromPrivateKeyText(std::string_view text, const std::string& file_for_errors);

  SshSigner(const SshSigner&) = default;
  SshSigner& operator=(const SshSigner&) = default;
  ~SshSigner();  // wipes the private key from memory

  // The public key in SSH wire format, as a .pub line ("ssh-ed25519 AAAA...
  // comment"), and its "SHA256:..." fingerprint.
  std::string PublicKeyBlob() const;
  std::string PublicKeyLine() const;
  std::string Fingerprint() const;

  // The armored SSHSIG ("-----BEGIN SSH SIGNATURE-----" ...) over `message`
  // in namespace `ns` with sha512, as `ssh-keygen -Y sign -n NS` makes it.
  // Const and safe to call from several threads at once.
  Result<std::string> Sign(std::string_view message, std::string_view ns) const;

 private:
  SshSigner() = default;
  std::array<unsigned char, 32> seed_{};
  std::array<unsigned char, 32> public_{};
  std::string comment_;
};

}  // namespace keelson::audit
