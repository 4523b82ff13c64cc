// Sprig's certificate and password functions on OpenSSL and libcrypt:
// genPrivateKey, genCA, genSelfSignedCert, genSignedCert, htpasswd,
// derivePassword is not provided.
#include <crypt.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

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
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(std::min<std::int64_t>(req.days, 36500) * 86400));
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

R Issue(const CertRequest& req, const Value* ca) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
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

Status Arity(const char* name, const Args& a, std::size_t n) {
  if (a.size() == n) return Status::Ok();
  return MakeError(ErrorCode::kInvalidInput, std::string("wrong number of args for ") + name + ": want " +
                                                 std::to_string(n) + " got " + std::to_string(a.size()));
}

std::int64_t Days(const Value& v) {
  if (v.IsInt()) return v.AsInt();
  if (v.IsFloat()) return static_cast<std::int64_t>(v.AsFloat());
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
  f["htpasswd"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("htpasswd", a, 2); !st.ok()) return std::move(st).error();
    std::string user = Str(a[0]), password = Str(a[1]);
    if (user.find(':') != std::string::npos) return Value::String("invalid username: " + user);
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn("$2a$", 10, nullptr, 0, salt, sizeof salt) == nullptr) {
      return CryptoError("bcrypt salt generation failed");
    }
    crypt_data data{};
    const char* hash = crypt_r(password.c_str(), salt, &data);
    if (hash == nullptr || hash[0] == '*') return CryptoError("bcrypt hashing failed");
    return Value::String(user + ":" + hash);
  };
}

}  // namespace keelson::helm
