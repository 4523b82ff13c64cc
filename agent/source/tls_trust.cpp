#include "agent/source/tls_trust.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace keelson::source {

struct CertificateAuthorities::Store {
  X509_STORE* store = nullptr;
  ~Store() { X509_STORE_free(store); }
};

Result<CertificateAuthorities> CertificateAuthorities::Load(const std::string& path) {
  Location where{path, 0, 0, {}};
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorCode::kNotFound, "cannot read CA file", where);
  }
  auto store = std::make_shared<Store>();
  store->store = X509_STORE_new();
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store->store, cert);
    X509_free(cert);
    ++count;
  }
  // Reading stops with "no start line" at the end of the file; anything
  // else is a broken certificate.
  unsigned long err = ERR_peek_last_error();
  bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  BIO_free(bio);
  if (count == 0 || (err != 0 && !clean_end)) {
    return MakeError(ErrorCode::kInvalidInput, "CA file holds no readable PEM certificate", where);
  }
  CertificateAuthorities out;
  out.store_ = std::move(store);
  out.path_ = path;
  return out;
}

Status CertificateAuthorities::Verify(std::string_view leaf_der, std::string_view host) const {
  const auto* p = reinterpret_cast<const unsigned char*>(leaf_der.data());
  X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(leaf_der.size()));
  if (leaf == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorCode::kAccessDenied, "server certificate does not parse");
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store_->store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  std::string host_str(host);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host_str.c_str()) != 1) {
    ERR_clear_error();
    X509_VERIFY_PARAM_set1_host(param, host_str.c_str(), host_str.size());
  }
  int ok = X509_verify_cert(ctx);
  int code = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_free(leaf);
  ERR_clear_error();
  if (ok == 1) return Status::Ok();
  return MakeError(ErrorCode::kAccessDenied, "TLS certificate of " + host_str + " is not trusted by " + path_ + ": " +
                                                 X509_verify_cert_error_string(code));
}

}  // namespace keelson::source
