#include "agent/trust/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cassert>

namespace keelson::trust {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

Error KeyError(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

EVP_PKEY* FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  return key;
}

}  // namespace

const char* HashName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha1: return "SHA1";
    case HashAlgorithm::kSha224: return "SHA224";
    case HashAlgorithm::kSha256: return "SHA256";
    case HashAlgorithm::kSha384: return "SHA384";
    case HashAlgorithm::kSha512: return "SHA512";
  }
  return "?";
}

const EVP_MD* HashMd(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha1: return EVP_sha1();
    case HashAlgorithm::kSha224: return EVP_sha224();
    case HashAlgorithm::kSha256: return EVP_sha256();
    case HashAlgorithm::kSha384: return EVP_sha384();
    case HashAlgorithm::kSha512: return EVP_sha512();
  }
  return EVP_sha256();
}

struct Hasher::State {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx{EVP_MD_CTX_new()};
};

Hasher::Hasher(HashAlgorithm hash) : state_(std::make_unique<State>()) {
  // Failing to set up a built-in digest is an OpenSSL installation fault.
  if (!state_->ctx || EVP_DigestInit_ex(state_->ctx.get(), HashMd(hash), nullptr) != 1) std::abort();
}
Hasher::~Hasher() = default;

void Hasher::Update(std::string_view data) { EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size()); }

std::string Hasher::Final() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx.get(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Digest(HashAlgorithm hash, std::string_view data) {
  Hasher h(hash);
  h.Update(data);
  return h.Final();
}

std::string KeyTypeName(KeyType type, int bits) {
  switch (type) {
    case KeyType::kRsa: return "RSA-" + std::to_string(bits);
    case KeyType::kEcdsaP256: return "ECDSA-P256";
    case KeyType::kEcdsaP384: return "ECDSA-P384";
    case KeyType::kEcdsaP521: return "ECDSA-P521";
    case KeyType::kEd25519: return "Ed25519";
  }
  return "?";
}

PublicKey::PublicKey(EVP_PKEY* key, KeyType type, int bits) : key_(key), type_(type), bits_(bits) {}
PublicKey::PublicKey(PublicKey&& other) noexcept : key_(other.key_), type_(other.type_), bits_(other.bits_) {
  other.key_ = nullptr;
}
PublicKey& PublicKey::operator=(PublicKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    key_ = other.key_;
    type_ = other.type_;
    bits_ = other.bits_;
    other.key_ = nullptr;
  }
  return *this;
}
PublicKey::~PublicKey() { EVP_PKEY_free(key_); }

Result<PublicKey> PublicKey::Rsa(std::string_view modulus, std::string_view exponent) {
  std::unique_ptr<BIGNUM, BnFree> n(BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus.data()),
                                              static_cast<int>(modulus.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> e(BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent.data()),
                                              static_cast<int>(exponent.size()), nullptr));
  if (!n || !e) return KeyError("RSA key: bad modulus or exponent");
  int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits) {
    return KeyError("RSA key of " + std::to_string(bits) + " bits is too small (at least " +
                    std::to_string(kMinRsaBits) + " are required)");
  }
  if (bits > 16384) return KeyError("RSA key of " + std::to_string(bits) + " bits is too large");
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 || BN_num_bits(e.get()) > 64) {
    return KeyError("RSA key: unusable public exponent");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL: cannot build RSA parameters");
  }
  EVP_PKEY* key = FromData("RSA", bld.get());
  if (!key) return KeyError("RSA key: OpenSSL refused the key material");
  return PublicKey(key, KeyType::kRsa, bits);
}

Result<PublicKey> PublicKey::Ecdsa(KeyType curve, std::string_view point) {
  const char* group = nullptr;
  std::size_t field = 0;
  switch (curve) {
    case KeyType::kEcdsaP256: group = "prime256v1"; field = 32; break;
    case KeyType::kEcdsaP384: group = "secp384r1"; field = 48; break;
    case KeyType::kEcdsaP521: group = "secp521r1"; field = 66; break;
    default: return KeyError("not an ECDSA curve");
  }
  if (point.size() != 1 + 2 * field || point[0] != 0x04) {
    return KeyError("ECDSA key: the public point is not an uncompressed point on " + KeyTypeName(curve, 0));
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL: cannot build EC parameters");
  }
  EVP_PKEY* key = FromData("EC", bld.get());
  if (!key) return KeyError("ECDSA key: the public point is not on the curve");
  return PublicKey(key, curve, static_cast<int>(field * 8));
}

Result<PublicKey> PublicKey::Ed25519(std::string_view raw) {
  if (raw.size() != 32) return KeyError("Ed25519 key must be 32 bytes, got " + std::to_string(raw.size()));
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (!key) return KeyError("Ed25519 key: OpenSSL refused the key material");
  return PublicKey(key, KeyType::kEd25519, 256);
}

bool PublicKey::VerifyRsaDigest(HashAlgorithm hash, std::string_view digest, std::string_view signature) const {
  if (type_ != KeyType::kRsa) return false;
  // A signature shorter than the modulus (leading zeros dropped, as OpenPGP
  // MPIs do) is left-padded; a longer one cannot be valid.
  std::size_t mod_bytes = static_cast<std::size_t>((bits_ + 7) / 8);
  if (signature.size() > mod_bytes) return false;
  std::string padded(mod_bytes - signature.size(), '\0');
  padded.append(signature);
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key_, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), HashMd(hash)) <= 0) {
    return false;
  }
  return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(padded.data()), padded.size(),
                         reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
}

bool PublicKey::VerifyEcdsaDigest(std::string_view digest, std::string_view r, std::string_view s) const {
  if (type_ != KeyType::kEcdsaP256 && type_ != KeyType::kEcdsaP384 && type_ != KeyType::kEcdsaP521) return false;
  if (r.size() > 80 || s.size() > 80) return false;
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* br = BN_bin2bn(reinterpret_cast<const unsigned char*>(r.data()), static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()), nullptr);
  if (!sig || !br || !bs || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key_, nullptr));
  bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) > 0 &&
            EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len),
                            reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

bool PublicKey::VerifyEd25519(std::string_view message, std::string_view signature) const {
  if (type_ != KeyType::kEd25519 || signature.size() != 64) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace keelson::trust
