#include "agent/trust/x509.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <vector>

#include "agent/trust/encoding.h"

namespace keelson::trust {
namespace {

constexpr std::string_view kBegin = "-----BEGIN SIGNED MESSAGE-----";
constexpr std::string_view kEnd = "-----END SIGNED MESSAGE-----";

struct CmsFree {
  void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BioChainFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct CertStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct CertStackShallowFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

Error Invalid(std::string message) { return MakeError(ErrorCode::kInvalidInput, "X.509 signature: " + std::move(message)); }
Error Failed(std::string message) { return MakeError(ErrorCode::kCheckFailed, std::move(message)); }

Result<std::unique_ptr<CMS_ContentInfo, CmsFree>> DecodeCms(std::string_view armored) {
  if (armored.size() > kMaxCmsSignatureBytes) return Invalid("armored signature is too large");
  if (!armored.starts_with(kBegin)) return Invalid("does not start with " + std::string(kBegin));
  std::size_t end = armored.find(kEnd, kBegin.size());
  if (end == std::string_view::npos) return Invalid("missing " + std::string(kEnd));
  std::optional<std::string> der = Base64Decode(armored.substr(kBegin.size(), end - kBegin.size()));
  if (!der) return Invalid("body is not valid base64");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<CMS_ContentInfo, CmsFree> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der->size())));
  ERR_clear_error();
  if (!cms) return Invalid("not a CMS structure");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return Invalid("CMS content is not SignedData");
  if (CMS_is_detached(cms.get()) != 1) return Invalid("signature is not detached");
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (!infos || sk_CMS_SignerInfo_num(infos) != 1) return Invalid("expected exactly one signer");
  // Set up the digests over an empty content once here: OpenSSL 3.0's
  // CMS_verify leaks its copy of a memory content BIO when this step fails
  // (an unknown digest OID or an empty digestAlgorithms set), so such a
  // signature is refused before CMS_verify ever sees it.
  std::unique_ptr<BIO, BioChainFree> digests(CMS_dataInit(cms.get(), nullptr));
  ERR_clear_error();
  if (!digests) return Invalid("unknown or missing digest algorithm in SignedData");
  return cms;
}

std::string SubjectText(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string EmailOf(X509* cert) {
  std::string email;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && email.empty(); ++i) {
      GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_EMAIL) {
        const ASN1_IA5STRING* s = name->d.rfc822Name;
        email.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (email.empty()) {
    X509_NAME* subject = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, -1);
    if (idx >= 0) {
      ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
      email.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
  }
  return email;
}

}  // namespace

struct X509Roots::Impl {
  std::vector<std::unique_ptr<X509, X509Free>> certs;
};

X509Roots::X509Roots() : impl_(std::make_unique<Impl>()) {}
X509Roots::X509Roots(X509Roots&&) noexcept = default;
X509Roots& X509Roots::operator=(X509Roots&&) noexcept = default;
X509Roots::~X509Roots() = default;
std::size_t X509Roots::size() const { return impl_->certs.size(); }

Result<X509Roots> X509Roots::Parse(std::string_view pem, std::string_view file) {
  auto error = [&](std::string message) {
    Location where;
    where.file.assign(file);
    return MakeError(ErrorCode::kInvalidInput, std::move(message), where);
  };
  if (pem.size() > kMaxRootsBytes) return error("root certificate file is larger than 16 MiB");
  X509Roots roots;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    std::unique_ptr<X509, X509Free> owned(cert);
    if (X509_check_ca(cert) == 0) {
      return error("certificate " + std::to_string(roots.impl_->certs.size() + 1) + " (" + SubjectText(cert) +
                   ") is not a CA certificate");
    }
    roots.impl_->certs.push_back(std::move(owned));
  }
  unsigned long err = ERR_peek_last_error();
  ERR_clear_error();
  bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (roots.impl_->certs.empty()) return error("no PEM certificate found");
  if (err != 0 && !clean_end) return error("malformed PEM certificate after certificate " + std::to_string(roots.size()));
  return roots;
}

Status CheckCmsSignatureStructure(std::string_view armored) {
  auto cms = DecodeCms(armored);
  if (!cms.ok()) return std::move(cms).error();
  return Status::Ok();
}

Result<X509Signer> VerifyCmsSignature(std::string_view armored, std::string_view payload, const X509Roots& roots,
                                      std::int64_t now) {
  auto decoded = DecodeCms(armored);
  if (!decoded.ok()) return std::move(decoded).error();
  CMS_ContentInfo* cms = decoded->get();

  // First the signature over the content; the chain is checked below with
  // our own time and purpose.
  std::unique_ptr<BIO, BioFree> content(BIO_new_mem_buf(payload.data(), static_cast<int>(payload.size())));
  std::unique_ptr<X509_STORE, StoreFree> empty_store(X509_STORE_new());
  int ok = CMS_verify(cms, nullptr, empty_store.get(), content.get(), nullptr,
                      CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
  ERR_clear_error();
  std::unique_ptr<STACK_OF(X509), CertStackShallowFree> signers(CMS_get0_signers(cms));
  if (!signers || sk_X509_num(signers.get()) != 1) {
    return Failed("X.509 signature: the signer's certificate is not included in the signature");
  }
  X509* signer = sk_X509_value(signers.get(), 0);
  X509Signer out;
  out.subject = SubjectText(signer);
  out.email = EmailOf(signer);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(signer, EVP_sha256(), md, &md_len);
  out.fingerprint = HexEncode(std::string_view(reinterpret_cast<char*>(md), md_len), true);
  if (ok != 1) return Failed("bad X.509 signature by \"" + out.subject + "\" (the content does not match)");

  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (const auto& cert : roots.impl_->certs) X509_STORE_add_cert(store.get(), cert.get());
  std::unique_ptr<STACK_OF(X509), CertStackFree> untrusted(CMS_get1_certs(cms));
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), signer, untrusted.get()) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL: cannot set up certificate verification");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SMIME_SIGN);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  int chain_ok = X509_verify_cert(ctx.get());
  int chain_error = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (chain_ok != 1) {
    return Failed("certificate of \"" + out.subject + "\" is not trusted: " +
                  X509_verify_cert_error_string(chain_error));
  }
  return out;
}

}  // namespace keelson::trust
