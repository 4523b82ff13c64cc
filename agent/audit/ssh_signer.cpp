#include "agent/audit/ssh_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "agent/trust/encoding.h"
#include "agent/trust/sshsig.h"

namespace keelson::audit {

namespace {

constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr std::size_t kMaxKeyFile = std::size_t{64} * 1024;

Error KeyError(const std::string& file, std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), Location{file, 0, 0, ""});
}

// Holds decoded key bytes and wipes them when done.
struct Wiped {
  std::string bytes;
  ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

SshSigner::~SshSigner() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

Result<SshSigner> SshSigner::FromPrivateKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read the audit signing key", Location{path, 0, 0, ""});
  Wiped text;
  text.bytes.resize(kMaxKeyFile + 1);
  in.read(text.bytes.data(), static_cast<std::streamsize>(text.bytes.size()));
  text.bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (text.bytes.size() > kMaxKeyFile) return KeyError(path, "key file is larger than 64 KiB; not an OpenSSH key");
  return FromPrivateKeyText(text.bytes, path);
}

Result<SshSigner> SshSigner::FromPrivateKeyText(std::string_view text, const std::string& file) {
  std::size_t begin = text.find(kBegin);
  std::size_t end = text.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return KeyError(file, "not an OpenSSH private key (expected \"" + std::string(kBegin) +
                              "\"; convert with `ssh-keygen -p -f FILE`)");
  }
  Wiped decoded;
  std::optional<std::string> raw = trust::Base64Decode(text.substr(begin + kBegin.size(), end - begin - kBegin.size()));
  if (!raw) return KeyError(file, "OpenSSH private key: bad base64");
  decoded.bytes = std::move(*raw);
  std::string_view data = decoded.bytes;
  if (!data.starts_with(kMagic)) return KeyError(file, "OpenSSH private key: missing openssh-key-v1 header");
  trust::ByteReader r(data.substr(kMagic.size()));
  std::string_view cipher = r.SshString();
  std::string_view kdf = r.SshString();
  (void)r.SshString();  // kdf options
  std::uint32_t count = r.U32();
  if (!r.ok()) return KeyError(file, "OpenSSH private key: truncated header");
  if (cipher != "none" || kdf != "none") {
    return KeyError(file, "the audit signing key is encrypted (cipher " + std::string(cipher) +
                              "); the agent needs an unencrypted key file readable only by it");
  }
  if (count != 1)
    return KeyError(file, "OpenSSH private key: expected exactly one key, found " + std::to_string(count));
  std::string_view public_blob = r.SshString();
  std::string_view private_section = r.SshString();
  if (!r.ok() || !r.empty()) return KeyError(file, "OpenSSH private key: truncated key section");

  trust::ByteReader pub(public_blob);
  std::string_view pub_type = pub.SshString();
  if (pub.ok() && pub_type != "ssh-ed25519") {
    return KeyError(file, "the audit signing key must be ssh-ed25519, not " + std::string(pub_type));
  }
  std::string_view pub_key = pub.SshString();
  if (!pub.ok() || !pub.empty()) return KeyError(file, "OpenSSH private key: malformed public key");

  trust::ByteReader priv(private_section);
  std::uint32_t check1 = priv.U32();
  std::uint32_t check2 = priv.U32();
  std::string_view type = priv.SshString();
  std::string_view key_pub = priv.SshString();
  std::string_view key_priv = priv.SshString();
  std::string_view comment = priv.SshString();
  if (!priv.ok()) return KeyError(file, "OpenSSH private key: truncated private section");
  if (check1 != check2)
    return KeyError(file, "OpenSSH private key: check bytes differ (wrong passphrase or corrupt file)");
  if (type != "ssh-ed25519" || key_pub.size() != 32 || key_priv.size() != 64 || key_pub != pub_key ||
      key_priv.substr(32) != key_pub) {
    return KeyError(file, "OpenSSH private key: inconsistent ed25519 key");
  }
  // Padding is 1, 2, 3, ... up to the cipher block size (8 for "none").
  std::string_view padding = priv.Rest();
  if (padding.size() >= 8) return KeyError(file, "OpenSSH private key: bad padding");
  for (std::size_t i = 0; i < padding.size(); ++i) {
    if (static_cast<unsigned char>(padding[i]) != i + 1) return KeyError(file, "OpenSSH private key: bad padding");
  }

  SshSigner signer;
  std::copy(key_priv.begin(), key_priv.begin() + 32, signer.seed_.begin());
  std::copy(key_pub.begin(), key_pub.end(), signer.public_.begin());
  signer.comment_ = std::string(comment);

  // The private half must really produce the stored public half.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, signer.seed_.data(), signer.seed_.size()), EVP_PKEY_free);
  std::array<unsigned char, 32> derived{};
  std::size_t derived_len = derived.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), derived.data(), &derived_len) != 1 || derived_len != 32 ||
      CRYPTO_memcmp(derived.data(), signer.public_.data(), 32) != 0) {
    return KeyError(file, "OpenSSH private key: private key does not match its public key");
  }
  return signer;
}

std::string SshSigner::PublicKeyBlob() const {
  std::string blob;
  trust::AppendSshString(blob, "ssh-ed25519");
  trust::AppendSshString(blob, std::string_view(reinterpret_cast<const char*>(public_.data()), public_.size()));
  return blob;
}

std::string SshSigner::PublicKeyLine() const {
  std::string line = "ssh-ed25519 " + trust::Base64Encode(PublicKeyBlob());
  if (!comment_.empty()) line += " " + comment_;
  return line;
}

std::string SshSigner::Fingerprint() const {
  return trust::SshPublicKey{"ssh-ed25519", PublicKeyBlob()}.Fingerprint();
}

Result<std::string> SshSigner::Sign(std::string_view message, std::string_view ns) const {
  if (ns.empty()) return MakeError(ErrorCode::kInvalidInput, "SSH signature namespace must not be empty");
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest);

  // What is signed: MAGIC || namespace || reserved || hash algorithm || H(message).
  std::string to_sign = "SSHSIG";
  trust::AppendSshString(to_sign, ns);
  trust::AppendSshString(to_sign, "");
  trust::AppendSshString(to_sign, "sha512");
  trust::AppendSshString(to_sign, std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  std::size_t sig_len = sizeof sig;
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(to_sign.data()),
                     to_sign.size()) != 1 ||
      sig_len != 64) {
    return MakeError(ErrorCode::kInternal, "OpenSSL could not make an ed25519 signature");
  }

  std::string signature_blob;
  trust::AppendSshString(signature_blob, "ssh-ed25519");
  trust::AppendSshString(signature_blob, std::string_view(reinterpret_cast<const char*>(sig), sig_len));

  std::string blob = "SSHSIG";
  trust::AppendU32(blob, 1);
  trust::AppendSshString(blob, PublicKeyBlob());
  trust::AppendSshString(blob, ns);
  trust::AppendSshString(blob, "");
  trust::AppendSshString(blob, "sha512");
  trust::AppendSshString(blob, signature_blob);

  std::string b64 = trust::Base64Encode(blob);
  std::string armored = "-----BEGIN SSH SIGNATURE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) armored += b64.substr(i, 70) + "\n";
  armored += "-----END SSH SIGNATURE-----\n";
  return armored;
}

}  // namespace keelson::audit
