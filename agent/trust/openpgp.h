// OpenPGP (RFC 4880) as gpg writes it for git: armored public keyrings and
// detached v4 signatures.
//
// Keys: RSA, ECDSA (NIST P-256/384/521) and EdDSA (Ed25519) v4 keys and
// subkeys. Other algorithms (ElGamal, DSA, ECDH, v5 keys) are parsed past
// and marked unusable, so a keyring with an encryption subkey still loads.
// Self-signatures are checked when the keyring is loaded: user IDs need a
// valid self-certification, subkeys a valid binding signature (and, when
// they may sign, a valid embedded back-signature); key expiry and
// revocations come from those signatures only.
//
// A PgpKeyring is immutable after Parse and safe to share between threads.
// Errors: kInvalidInput for malformed input (with the file and the packet
// offset), kCheckFailed for a signature that is not acceptable, saying why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/trust/crypto.h"
#include "renderers/manifest/result.h"

namespace keelson::trust {

// Inputs larger than these are refused.
inline constexpr std::size_t kMaxPgpKeyringBytes = 32u << 20;
inline constexpr std::size_t kMaxPgpSignatureBytes = 64u << 10;
inline constexpr std::size_t kMaxPgpPackets = 100'000;

// One decoded packet.
struct PgpPacket {
  int tag = 0;
  std::string body;
  std::size_t offset = 0;  // where the packet starts in the binary input
};

// Splits binary OpenPGP data into packets (old and new header formats;
// partial body lengths are refused: keys and signatures never use them).
Result<std::vector<PgpPacket>> ParsePgpPackets(std::string_view binary);

// Decodes ASCII armor (RFC 4880 section 6.2), checking the CRC-24 when
// present. Several armored blocks are concatenated. `kind` is the text after
// "BEGIN PGP " that every block must have (e.g. "PUBLIC KEY BLOCK").
Result<std::string> DearmorPgp(std::string_view text, std::string_view kind);

struct PgpSignature {
  int version = 0;
  int type = 0;            // 0x00 binary document, 0x13 positive cert, ...
  int key_algorithm = 0;
  int hash_algorithm = 0;
  std::string hashed_prefix;  // version .. end of hashed subpackets
  std::string hash_left16;
  std::vector<std::string> mpis;
  std::int64_t created = 0;
  std::optional<std::int64_t> expires_after;      // seconds after creation
  std::optional<std::int64_t> key_expires_after;  // seconds after key creation
  std::optional<int> key_flags;
  std::string issuer_key_id;       // 8 bytes
  std::string issuer_fingerprint;  // 20 bytes (v4)
  std::optional<std::string> embedded_signature;  // a packet body
  bool primary_user_id = false;
  std::string revocation_reason;
  std::string critical_unknown;  // a critical subpacket we do not know
};

Result<PgpSignature> ParsePgpSignaturePacket(std::string_view body);
// An armored detached signature holding exactly one signature packet.
Result<PgpSignature> ParseArmoredPgpSignature(std::string_view armored);

struct PgpKey {
  std::string body;         // the public key packet body, as hashed
  std::string fingerprint;  // 20 bytes
  std::string key_id;       // the last 8 bytes of the fingerprint
  std::int64_t created = 0;
  int algorithm = 0;
  std::optional<PublicKey> key;  // unset when the algorithm is unsupported
  std::string unusable;          // why the key cannot sign, when it cannot
  std::optional<std::int64_t> expires;  // absolute time, from self-signatures
  std::optional<int> key_flags;
  bool revoked = false;
  std::string revocation_reason;

  std::string FingerprintHex() const;  // 40 uppercase hex digits
};

struct PgpCertificate {
  PgpKey primary;
  std::vector<std::string> user_ids;  // those with a valid self-certification
  std::string primary_user_id;        // the one flagged primary, else the first
  std::vector<PgpKey> subkeys;        // only those with a valid binding
};

// The outcome of a good signature.
struct PgpSigner {
  const PgpCertificate* certificate = nullptr;
  const PgpKey* key = nullptr;  // the primary key or a subkey
};

class PgpKeyring {
 public:
  // Armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----", several blocks allowed)
  // or binary keyring data. `file` names the input in errors.
  static Result<PgpKeyring> Parse(std::string_view data, std::string_view file);

  const std::vector<PgpCertificate>& certificates() const { return certificates_; }

  // Verifies a document signature (types 0x00 and 0x01) over `data` with
  // the keyring's keys at time `now`: the key must exist, be able to sign,
  // and be neither revoked nor expired (now, and when the signature was
  // made); the signature must not be older than the key nor expired.
  Result<PgpSigner> Verify(const PgpSignature& signature, std::string_view data, std::int64_t now) const;

 private:
  std::vector<PgpCertificate> certificates_;
};

// The e-mail inside "Name <email>", or the whole user ID when it has none.
std::string PgpUserIdEmail(std::string_view user_id);

}  // namespace keelson::trust
