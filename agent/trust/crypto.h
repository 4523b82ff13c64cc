// The OpenSSL calls every signature format shares: building public keys from
// their raw parts, hashing, and verifying RSA PKCS#1 v1.5, ECDSA and Ed25519
// signatures. Keys are owned by PublicKey (moves only). All functions are
// thread-safe; failures come back as Error (kInvalidInput for malformed key
// material) or as false for a signature that does not verify.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

struct evp_pkey_st;
struct evp_md_st;

namespace keelson::trust {

enum class HashAlgorithm { kSha1, kSha224, kSha256, kSha384, kSha512 };

const char* HashName(HashAlgorithm hash);  // "SHA256"
const evp_md_st* HashMd(HashAlgorithm hash);

// The digest of `data`.
std::string Digest(HashAlgorithm hash, std::string_view data);

// A running digest for data fed in pieces.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm hash);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(std::string_view data);
  std::string Final();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

enum class KeyType { kRsa, kEcdsaP256, kEcdsaP384, kEcdsaP521, kEd25519 };

// Human name: "RSA-3072", "ECDSA-P256", "Ed25519".
std::string KeyTypeName(KeyType type, int bits);

// Smallest RSA modulus accepted, in bits. Smaller keys are refused when the
// key is built, whatever the format.
inline constexpr int kMinRsaBits = 2048;

class PublicKey {
 public:
  // RSA from big-endian modulus and exponent bytes.
  static Result<PublicKey> Rsa(std::string_view modulus, std::string_view exponent);
  // ECDSA from an uncompressed SEC1 point (0x04 || X || Y).
  static Result<PublicKey> Ecdsa(KeyType curve, std::string_view point);
  // Ed25519 from its 32 raw bytes.
  static Result<PublicKey> Ed25519(std::string_view raw);

  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  ~PublicKey();

  KeyType type() const { return type_; }
  int bits() const { return bits_; }

  // RSASSA-PKCS1-v1_5 over a precomputed digest made with `hash`.
  bool VerifyRsaDigest(HashAlgorithm hash, std::string_view digest, std::string_view signature) const;
  // ECDSA over a precomputed digest, the signature given as big-endian r, s.
  bool VerifyEcdsaDigest(std::string_view digest, std::string_view r, std::string_view s) const;
  // Pure Ed25519 over `message` with a 64-byte signature.
  bool VerifyEd25519(std::string_view message, std::string_view signature) const;

 private:
  PublicKey(evp_pkey_st* key, KeyType type, int bits);
  evp_pkey_st* key_ = nullptr;
  KeyType type_ = KeyType::kRsa;
  int bits_ = 0;
};

// Constant-time equality of two byte strings of possibly different length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace keelson::trust
