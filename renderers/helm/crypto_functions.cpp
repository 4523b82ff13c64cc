// Sprig's certificate and password functions on OpenSSL and libcrypt:
// genPrivateKey, genCA, genSelfSignedCert, genSignedCert and their
// *WithKey forms, buildCustomCert, htpasswd, bcrypt, encryptAES,
// decryptAES and derivePassword, as Sprig computes them.
#include <crypt.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "renderers/helm/functions.h"

namespace keelson::helm {

namespace {

using Args = std::vector<Value>;
using R = Result<Value>;

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

Error CryptoError(const std::string& what) { return MakeError(ErrorCode::kInternal, what); }

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string Str(const Value& v) { return v.IsString() ? v.AsString() : v.IsNil() ? "" : FormatValue(v); }

Result<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int ok = 0;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA || EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    // Traditional "RSA PRIVATE KEY" / "EC PRIVATE KEY" blocks, as Go's
    // x509.MarshalPKCS1PrivateKey / MarshalECPrivateKey print.
    ok = PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (!ok) return CryptoError("cannot encode private key");
  return BioText(bio.get());
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return CryptoError("cannot encode certificate");
  return BioText(bio.get());
}

PkeyPtr GenerateKey(const std::string& type) {
  if (type == "rsa") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(4096)));
  if (type == "ecdsa") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (type == "ed25519") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return nullptr;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return CryptoError("cannot build certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

struct CertRequest {
  std::string common_name;
  std::vector<std::string> ips;
  std::vector<std::string> dns;
  std::int64_t days = 365;
  bool is_ca = false;
};

Result<X509Ptr> BuildCert(const CertRequest& req, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(std::clamp<std::int64_t>(req.days, -36500, 36500) * 86400));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(req.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer ? issuer : cert.get();
  Status st = AddExtension(cert.get(), signer, NID_key_usage,
                           req.is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                                     : "critical,digitalSignature,keyEncipherment");
  if (st.ok()) st = AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  if (st.ok()) st = AddExtension(cert.get(), signer, NID_basic_constraints, req.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  std::string san;
  for (const auto& d : req.dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : req.ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (st.ok() && !san.empty()) st = AddExtension(cert.get(), signer, NID_subject_alt_name, san);
  if (!st.ok()) return std::move(st).error();
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) return CryptoError("cannot sign certificate");
  return cert;
}

Value CertificateObject(const std::string& cert, const std::string& key) {
  auto obj = std::make_shared<TableObject>("sprig.certificate");
  obj->SetField("Cert", Value::String(cert));
  obj->SetField("Key", Value::String(key));
  return Value::FromObject(obj);
}

std::vector<std::string> StringsOf(const Value& v) {
  std::vector<std::string> out;
  if (v.IsList()) {
    for (const Value& item : v.AsList()) out.push_back(Str(item));
  }
  return out;
}

// A private key from PEM, as Sprig's parsePrivateKeyPEM accepts them
// (PKCS#8 "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY").
Result<PkeyPtr> KeyFromPem(const std::string& pem) {
  std::size_t begin = pem.find("-----BEGIN ");
  if (begin == std::string::npos) return MakeError(ErrorCode::kInvalidInput, "no PEM data in input");
  std::size_t type_end = pem.find("-----", begin + 11);
  std::string type = type_end == std::string::npos ? "" : pem.substr(begin + 11, type_end - begin - 11);
  if (type != "PRIVATE KEY" && type != "RSA PRIVATE KEY" && type != "EC PRIVATE KEY") {
    if (!type.ends_with(" PRIVATE KEY")) {
      return MakeError(ErrorCode::kInvalidInput, "no private key data in PEM block of type " + type);
    }
    return MakeError(ErrorCode::kInvalidInput, "invalid private key type " + type);
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return MakeError(ErrorCode::kInvalidInput, "parsing " + type + " from PEM failed");
  return key;
}

R Issue(const CertRequest& req, const Value* ca, const std::string* key_pem_in = nullptr) {
  PkeyPtr key;
  if (key_pem_in != nullptr) {
    auto parsed = KeyFromPem(*key_pem_in);
    if (!parsed.ok()) return MakeError(ErrorCode::kInvalidInput, "parsing private key: " + parsed.error().message);
    key = std::move(parsed).value();
  } else {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  }
  if (!key) return CryptoError("cannot generate RSA key");
  X509Ptr issuer;
  PkeyPtr issuer_key;
  if (ca != nullptr) {
    if (!ca->IsObject() || !ca->AsObject().Field("Cert") || !ca->AsObject().Field("Key")) {
      return MakeError(ErrorCode::kInvalidInput, "wrong type for value; expected sprig.certificate");
    }
    std::string cert_pem = Str(*ca->AsObject().Field("Cert"));
    std::string key_pem = Str(*ca->AsObject().Field("Key"));
    BioPtr cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    issuer.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    BioPtr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    issuer_key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!issuer || !issuer_key) return MakeError(ErrorCode::kInvalidInput, "error parsing CA certificate or key");
  }
  auto cert = BuildCert(req, key.get(), issuer.get(), issuer_key.get());
  if (!cert.ok()) return std::move(cert).error();
  auto cert_pem = CertPem(cert->get());
  auto key_pem = PrivateKeyPem(key.get());
  if (!cert_pem.ok()) return std::move(cert_pem).error();
  if (!key_pem.ok()) return std::move(key_pem).error();
  return CertificateObject(*cert_pem, *key_pem);
}

Result<std::string> Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2a$", 10, nullptr, 0, salt, sizeof salt) == nullptr) {
    return CryptoError("bcrypt salt generation failed");
  }
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  if (hash == nullptr || hash[0] == '*') return CryptoError("bcrypt hashing failed");
  return std::string(hash);
}

// Sprig's AES: AES-256-CBC, the password's bytes zero-padded or cut to 32
// as the key, PKCS#7 padding, a random IV in front, base64.
Result<std::string> EncryptAes(const std::string& password, const std::string& plaintext) {
  if (plaintext.empty()) return std::string();
  unsigned char key[32] = {};
  std::memcpy(key, password.data(), std::min<std::size_t>(32, password.size()));
  std::string out(16 + plaintext.size() + 16, '\0');
  auto* iv = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(iv, 16) != 1) return CryptoError("cannot read random bytes");
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len1 = 0, len2 = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key, iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), iv + 16, &len1, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), iv + 16 + len1, &len2) != 1) {
    return CryptoError("AES encryption failed");
  }
  out.resize(16 + static_cast<std::size_t>(len1 + len2));
  return Base64Encode(out);
}

Result<std::string> DecryptAes(const std::string& password, const std::string& encoded) {
  if (encoded.empty()) return std::string();
  // Go's base64.StdEncoding, as Base64Decode in functions.cpp; decoded
  // here with OpenSSL to keep this file self-contained.
  std::string crypt(encoded.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(crypt.data()),
                          reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (n < 0 || encoded.size() % 4 != 0) return MakeError(ErrorCode::kInvalidInput, "illegal base64 data at input byte 0");
  std::size_t pad = encoded.ends_with("==") ? 2 : encoded.ends_with("=") ? 1 : 0;
  crypt.resize(static_cast<std::size_t>(n) - pad);
  if (crypt.size() < 16) return MakeError(ErrorCode::kInvalidInput, "runtime error: slice bounds out of range");
  if ((crypt.size() - 16) % 16 != 0) return MakeError(ErrorCode::kInvalidInput, "crypto/cipher: input not full blocks");
  if (crypt.size() == 16) return MakeError(ErrorCode::kInvalidInput, "runtime error: index out of range [-1]");
  unsigned char key[32] = {};
  std::memcpy(key, password.data(), std::min<std::size_t>(32, password.size()));
  std::string plain(crypt.size() - 16, '\0');
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key,
                                 reinterpret_cast<const unsigned char*>(crypt.data())) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        reinterpret_cast<const unsigned char*>(crypt.data()) + 16, static_cast<int>(crypt.size() - 16)) != 1) {
    return CryptoError("AES decryption failed");
  }
  // Sprig trusts the last byte as the padding length.
  std::size_t strip = static_cast<unsigned char>(plain.back());
  if (strip > plain.size()) return MakeError(ErrorCode::kInvalidInput, "runtime error: slice bounds out of range");
  plain.resize(plain.size() - strip);
  return plain;
}

// The Master Password algorithm, as Sprig's derivePassword implements it.
Result<std::string> DerivePassword(std::uint32_t counter, const std::string& type, const std::string& password,
                                   const std::string& user, const std::string& site) {
  struct Templates {
    const char* type;
    std::vector<const char*> patterns;
  };
  static const Templates kTemplates[] = {
      {"maximum", {"anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"}},
      {"long", {"CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
                "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
                "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
                "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
                "CvccCvcvCvccno"}},
      {"medium", {"CvcnoCvc", "CvcCvcno"}},
      {"short", {"Cvcn"}},
      {"basic", {"aaanaaan", "aannaaan", "aaannaaa"}},
      {"pin", {"nnnn"}},
  };
  const std::vector<const char*>* patterns = nullptr;
  for (const auto& t : kTemplates) {
    if (type == t.type) patterns = &t.patterns;
  }
  if (patterns == nullptr) return "cannot find password template " + type;
  auto be32 = [](std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
  };
  const std::string seed_name = "com.lyndir.masterpassword";
  std::string salt = seed_name;
  be32(salt, static_cast<std::uint32_t>(user.size()));
  salt += user;
  unsigned char key[64];
  if (EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), 32768, 8, 2, 64ull << 20, key, sizeof key) != 1) {
    return CryptoError("failed to derive password: scrypt failed");
  }
  std::string message = seed_name;
  be32(message, static_cast<std::uint32_t>(site.size()));
  message += site;
  be32(message, counter);
  unsigned char seed[EVP_MAX_MD_SIZE];
  unsigned int seed_len = 0;
  if (HMAC(EVP_sha256(), key, sizeof key, reinterpret_cast<const unsigned char*>(message.data()), message.size(), seed,
           &seed_len) == nullptr) {
    return CryptoError("failed to derive password: HMAC failed");
  }
  std::string_view pattern = (*patterns)[seed[0] % patterns->size()];
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    std::string_view chars;
    switch (pattern[i]) {
      case 'V': chars = "AEIOU"; break;
      case 'C': chars = "BCDFGHJKLMNPQRSTVWXYZ"; break;
      case 'v': chars = "aeiou"; break;
      case 'c': chars = "bcdfghjklmnpqrstvwxyz"; break;
      case 'A': chars = "AEIOUBCDFGHJKLMNPQRSTVWXYZ"; break;
      case 'a': chars = "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"; break;
      case 'n': chars = "0123456789"; break;
      case 'o': chars = "@&%?,=[]_:-+*$#!'^~;()/."; break;
      default: chars = "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()"; break;
    }
    out += chars[seed[i + 1] % chars.size()];
  }
  return out;
}

Status Arity(const char* name, const Args& a, std::size_t n) {
  if (a.size() == n) return Status::Ok();
  return MakeError(ErrorCode::kInvalidInput, std::string("wrong number of args for ") + name + ": want " +
                                                 std::to_string(n) + " got " + std::to_string(a.size()));
}

std::int64_t Days(const Value& v) {
  if (v.IsInt()) return v.AsInt();
  if (v.IsFloat()) return GoFloatToInt64(v.AsFloat());
  return 365;
}

}  // namespace

void AddCryptoFunctions(FunctionTable& table) {
  auto& f = table.functions;
  f["genPrivateKey"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genPrivateKey", a, 1); !st.ok()) return std::move(st).error();
    PkeyPtr key = GenerateKey(Str(a[0]));
    if (!key) return Value::String("Unknown type " + Str(a[0]));
    auto pem = PrivateKeyPem(key.get());
    if (!pem.ok()) return std::move(pem).error();
    return Value::String(*pem);
  };
  f["genCA"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genCA", a, 2); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), {}, {}, Days(a[1]), true};
    return Issue(req, nullptr);
  };
  f["genSelfSignedCert"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genSelfSignedCert", a, 4); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), StringsOf(a[1]), StringsOf(a[2]), Days(a[3]), false};
    return Issue(req, nullptr);
  };
  f["genSignedCert"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genSignedCert", a, 5); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), StringsOf(a[1]), StringsOf(a[2]), Days(a[3]), false};
    return Issue(req, &a[4]);
  };
  f["genCAWithKey"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genCAWithKey", a, 3); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), {}, {}, Days(a[1]), true};
    std::string key = Str(a[2]);
    return Issue(req, nullptr, &key);
  };
  f["genSelfSignedCertWithKey"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genSelfSignedCertWithKey", a, 5); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), StringsOf(a[1]), StringsOf(a[2]), Days(a[3]), false};
    std::string key = Str(a[4]);
    return Issue(req, nullptr, &key);
  };
  f["genSignedCertWithKey"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("genSignedCertWithKey", a, 6); !st.ok()) return std::move(st).error();
    CertRequest req{Str(a[0]), StringsOf(a[1]), StringsOf(a[2]), Days(a[3]), false};
    std::string key = Str(a[5]);
    return Issue(req, &a[4], &key);
  };
  f["buildCustomCert"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("buildCustomCert", a, 2); !st.ok()) return std::move(st).error();
    auto decode = [](const std::string& b64) -> std::optional<std::string> {
      if (b64.size() % 4 != 0) return std::nullopt;
      std::string out(b64.size(), '\0');
      int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
      if (n < 0) return std::nullopt;
      std::size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
      out.resize(static_cast<std::size_t>(n) - pad);
      return out;
    };
    auto cert = decode(Str(a[0]));
    if (!cert) return MakeError(ErrorCode::kInvalidInput, "unable to decode base64 certificate");
    auto key = decode(Str(a[1]));
    if (!key) return MakeError(ErrorCode::kInvalidInput, "unable to decode base64 private key");
    BioPtr cb(BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size())));
    X509Ptr parsed(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!parsed) return MakeError(ErrorCode::kInvalidInput, "unable to decode certificate");
    auto pkey = KeyFromPem(*key);
    if (!pkey.ok()) return MakeError(ErrorCode::kInvalidInput, "error parsing private key: " + pkey.error().message);
    return CertificateObject(*cert, *key);
  };
  f["htpasswd"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("htpasswd", a, 2); !st.ok()) return std::move(st).error();
    std::string user = Str(a[0]), password = Str(a[1]);
    if (user.find(':') != std::string::npos) return Value::String("invalid username: " + user);
    auto hash = Bcrypt(password);
    if (!hash.ok()) return std::move(hash).error();
    return Value::String(user + ":" + *hash);
  };
  f["bcrypt"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("bcrypt", a, 1); !st.ok()) return std::move(st).error();
    auto hash = Bcrypt(Str(a[0]));
    if (!hash.ok()) return Value::String("failed to encrypt string with bcrypt: " + hash.error().message);
    return Value::String(*hash);
  };
  f["encryptAES"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("encryptAES", a, 2); !st.ok()) return std::move(st).error();
    auto out = EncryptAes(Str(a[0]), Str(a[1]));
    if (!out.ok()) return std::move(out).error();
    return Value::String(*out);
  };
  f["decryptAES"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("decryptAES", a, 2); !st.ok()) return std::move(st).error();
    auto out = DecryptAes(Str(a[0]), Str(a[1]));
    if (!out.ok()) return std::move(out).error();
    return Value::String(*out);
  };
  f["derivePassword"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("derivePassword", a, 5); !st.ok()) return std::move(st).error();
    std::int64_t counter = a[0].IsInt() ? a[0].AsInt() : a[0].IsFloat() ? GoFloatToInt64(a[0].AsFloat()) : 0;
    if (counter < 0 || counter > 0xFFFFFFFFll) {
      return MakeError(ErrorCode::kInvalidInput, "derivePassword: counter out of range for uint32");
    }
    auto out = DerivePassword(static_cast<std::uint32_t>(counter), Str(a[1]), Str(a[2]), Str(a[3]), Str(a[4]));
    if (!out.ok()) return std::move(out).error();
    return Value::String(*out);
  };
}

}  // namespace keelson::helm
