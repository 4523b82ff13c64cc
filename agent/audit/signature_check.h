// Checks SSHSIG signatures (ed25519 keys) against an OpenSSH
// allowed_signers file, the way `git verify-commit` does with
// gpg.format=ssh. This is the audit reader's own narrow verifier; once
// agent/trust's SSHSIG verifier is merged, the audit reader should call
// that instead and this file should go.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::audit {

struct AllowedSigner {
  std::string principals;               // as written, e.g. "keelson-prod" or "a@x,b@x"
  std::string key_blob;                 // SSH wire format public key
  std::vector<std::string> namespaces;  // empty: any namespace
  int line = 0;
};

// An allowed_signers file: "PRINCIPALS [OPTIONS] KEYTYPE BASE64 [COMMENT]"
// per line, '#' comments and blank lines ignored. Supported options:
// namespaces="a,b". cert-authority lines are kept but never match a plain
// key; valid-after/valid-before are refused with an error naming the line,
// because honouring them needs the signing time rules of ssh-keygen.
class AllowedSigners {
 public:
  static Result<AllowedSigners> Parse(std::string_view text, const std::string& file);
  static Result<AllowedSigners> Load(const std::string& path);

  // The first entry for this public key that allows namespace `ns`.
  const AllowedSigner* Find(std::string_view key_blob, std::string_view ns) const;
  std::size_t size() const { return signers_.size(); }

 private:
  std::vector<AllowedSigner> signers_;
};

struct VerifiedSignature {
  std::string principals;   // the allowed_signers entry that matched
  std::string fingerprint;  // "SHA256:..." of the signing key
};

// The key that made an armored SSHSIG, without checking anything else; for
// display ("signed by SHA256:... (unverified)").
Result<std::string> SignatureKeyFingerprint(std::string_view armored);

// Verifies an armored SSHSIG over `message` for namespace `ns`: well formed,
// namespace matches, an ed25519 signature with sha256 or sha512 that
// verifies, made by a key the allowed signers permit for `ns`. Fails with
// kCheckFailed (bad or untrusted signature) or kInvalidInput (malformed).
Result<VerifiedSignature> VerifySshSignature(std::string_view armored, std::string_view message, std::string_view ns,
                                             const AllowedSigners& allowed);

}  // namespace keelson::audit
