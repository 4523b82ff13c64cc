#include "agent/trust/sshsig.h"

#include "agent/trust/encoding.h"

namespace keelson::trust {
namespace {

constexpr std::string_view kBegin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view kEnd = "-----END SSH SIGNATURE-----";
constexpr std::string_view kMagic = "SSHSIG";

Error Invalid(std::string message) { return MakeError(ErrorCode::kInvalidInput, "SSH signature: " + std::move(message)); }
Error Failed(std::string message) { return MakeError(ErrorCode::kCheckFailed, std::move(message)); }

// An SSH mpint used as an unsigned number: a leading zero byte is allowed
// only to keep the top bit clear; negative numbers are refused.
bool UnsignedMpint(std::string_view v, std::string_view* out) {
  if (v.empty()) return false;
  if (static_cast<unsigned char>(v[0]) & 0x80) return false;
  if (v[0] == 0) {
    if (v.size() < 2 || !(static_cast<unsigned char>(v[1]) & 0x80)) return false;
    v.remove_prefix(1);
  }
  *out = v;
  return true;
}

KeyType CurveOf(std::string_view algorithm) {
  if (algorithm == "ecdsa-sha2-nistp256") return KeyType::kEcdsaP256;
  if (algorithm == "ecdsa-sha2-nistp384") return KeyType::kEcdsaP384;
  return KeyType::kEcdsaP521;
}

}  // namespace

std::string SshPublicKey::Fingerprint() const {
  return "SHA256:" + Base64Encode(Digest(HashAlgorithm::kSha256, blob), false);
}

std::string SshPublicKey::ToText() const { return algorithm + " " + Base64Encode(blob); }

Result<PublicKey> SshPublicKey::ToPublicKey() const {
  ByteReader r(blob);
  std::string_view type = r.SshString();
  if (type == "ssh-ed25519") {
    std::string_view raw = r.SshString();
    if (!r.ok() || !r.empty()) return Invalid("malformed ssh-ed25519 key");
    return PublicKey::Ed25519(raw);
  }
  if (type == "ecdsa-sha2-nistp256" || type == "ecdsa-sha2-nistp384" || type == "ecdsa-sha2-nistp521") {
    std::string_view curve = r.SshString();
    std::string_view point = r.SshString();
    if (!r.ok() || !r.empty() || type.substr(11) != curve) return Invalid("malformed " + std::string(type) + " key");
    return PublicKey::Ecdsa(CurveOf(type), point);
  }
  if (type == "ssh-rsa") {
    std::string_view e, n;
    std::string_view e_raw = r.SshString();
    std::string_view n_raw = r.SshString();
    if (!r.ok() || !r.empty() || !UnsignedMpint(e_raw, &e) || !UnsignedMpint(n_raw, &n)) {
      return Invalid("malformed ssh-rsa key");
    }
    return PublicKey::Rsa(n, e);
  }
  return Invalid("unsupported key type \"" + std::string(type) + "\"");
}

Result<SshPublicKey> ParseSshPublicKeyBlob(std::string_view blob) {
  ByteReader r(blob);
  std::string_view type = r.SshString();
  if (!r.ok()) return Invalid("truncated public key");
  std::string type_text(type);
  if (type_text.find("-cert-v01@openssh.com") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidInput,
                     "SSH certificates (" + type_text + ") are not supported; list the signer's plain key instead");
  }
  if (type_text.starts_with("sk-")) {
    return MakeError(ErrorCode::kInvalidInput, "security-key SSH keys (" + type_text + ") are not supported");
  }
  SshPublicKey key{type_text, std::string(blob)};
  // Building the OpenSSL key checks the structure, the curve point and the
  // RSA size.
  Result<PublicKey> pk = key.ToPublicKey();
  if (!pk.ok()) return std::move(pk).error();
  return key;
}

Result<SshPublicKey> ParseSshPublicKeyText(std::string_view type, std::string_view base64) {
  std::optional<std::string> blob = Base64Decode(base64);
  if (!blob) return Invalid("public key is not valid base64");
  Result<SshPublicKey> key = ParseSshPublicKeyBlob(*blob);
  if (!key.ok()) return key;
  if (key->algorithm != type) {
    return Invalid("key type \"" + std::string(type) + "\" does not match the key data (" + key->algorithm + ")");
  }
  return key;
}

Result<SshSignature> ParseSshSignature(std::string_view armored) {
  if (armored.size() > kMaxSshSignatureBytes) return Invalid("armored signature is too large");
  std::size_t begin = armored.find(kBegin);
  if (begin != 0) return Invalid("does not start with " + std::string(kBegin));
  std::size_t end = armored.find(kEnd, kBegin.size());
  if (end == std::string_view::npos) return Invalid("missing " + std::string(kEnd));
  std::string_view rest = armored.substr(end + kEnd.size());
  for (char c : rest) {
    if (c != '\n' && c != '\r' && c != ' ') return Invalid("data after " + std::string(kEnd));
  }
  std::optional<std::string> blob = Base64Decode(armored.substr(kBegin.size(), end - kBegin.size()));
  if (!blob) return Invalid("body is not valid base64");
  return ParseSshSignatureBlob(*blob);
}

Result<SshSignature> ParseSshSignatureBlob(std::string_view blob) {
  ByteReader r(blob);
  if (r.Bytes(kMagic.size()) != kMagic) return Invalid("missing SSHSIG magic");
  std::uint32_t version = r.U32();
  if (!r.ok() || version != 1) return Invalid("unsupported version " + std::to_string(version));
  std::string_view key_blob = r.SshString();
  std::string_view name_space = r.SshString();
  r.SshString();  // reserved
  std::string_view hash = r.SshString();
  std::string_view sig = r.SshString();
  if (!r.ok()) return Invalid("truncated");
  if (!r.empty()) return Invalid("trailing data");
  if (hash != "sha256" && hash != "sha512") return Invalid("unsupported hash algorithm \"" + std::string(hash) + "\"");
  Result<SshPublicKey> key = ParseSshPublicKeyBlob(key_blob);
  if (!key.ok()) return std::move(key).error();
  ByteReader sr(sig);
  std::string_view sig_alg = sr.SshString();
  std::string_view sig_bytes = sr.SshString();
  if (!sr.ok() || !sr.empty()) return Invalid("malformed signature field");
  SshSignature out;
  out.key = std::move(key).value();
  out.name_space.assign(name_space);
  out.hash_algorithm.assign(hash);
  out.signature_algorithm.assign(sig_alg);
  out.signature_blob.assign(sig_bytes);
  return out;
}

Status VerifySshSignature(const SshSignature& signature, std::string_view message,
                          std::string_view expected_namespace) {
  if (signature.name_space != expected_namespace) {
    return Failed("SSH signature is for namespace \"" + signature.name_space + "\", expected \"" +
                  std::string(expected_namespace) + "\"");
  }
  HashAlgorithm message_hash = signature.hash_algorithm == "sha512" ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
  std::string signed_data(kMagic);
  AppendSshString(signed_data, signature.name_space);
  AppendSshString(signed_data, "");
  AppendSshString(signed_data, signature.hash_algorithm);
  AppendSshString(signed_data, Digest(message_hash, message));

  Result<PublicKey> key = signature.key.ToPublicKey();
  if (!key.ok()) return std::move(key).error();
  const std::string& alg = signature.signature_algorithm;
  const std::string& key_alg = signature.key.algorithm;
  bool ok = false;
  if (key_alg == "ssh-ed25519") {
    if (alg != "ssh-ed25519") return Invalid("signature algorithm " + alg + " does not match an ssh-ed25519 key");
    ok = key->VerifyEd25519(signed_data, signature.signature_blob);
  } else if (key_alg.starts_with("ecdsa-sha2-")) {
    if (alg != key_alg) return Invalid("signature algorithm " + alg + " does not match a " + key_alg + " key");
    HashAlgorithm h = key->type() == KeyType::kEcdsaP256   ? HashAlgorithm::kSha256
                      : key->type() == KeyType::kEcdsaP384 ? HashAlgorithm::kSha384
                                                           : HashAlgorithm::kSha512;
    ByteReader r(signature.signature_blob);
    std::string_view r_raw = r.SshString();
    std::string_view s_raw = r.SshString();
    std::string_view rv, sv;
    if (!r.ok() || !r.empty() || !UnsignedMpint(r_raw, &rv) || !UnsignedMpint(s_raw, &sv)) {
      return Invalid("malformed ECDSA signature");
    }
    ok = key->VerifyEcdsaDigest(Digest(h, signed_data), rv, sv);
  } else if (key_alg == "ssh-rsa") {
    HashAlgorithm h;
    if (alg == "rsa-sha2-256") {
      h = HashAlgorithm::kSha256;
    } else if (alg == "rsa-sha2-512") {
      h = HashAlgorithm::kSha512;
    } else {
      return Failed("RSA signature algorithm \"" + alg + "\" is refused (only rsa-sha2-256 and rsa-sha2-512)");
    }
    ok = key->VerifyRsaDigest(h, Digest(h, signed_data), signature.signature_blob);
  } else {
    return Invalid("unsupported key type " + key_alg);
  }
  if (!ok) return Failed("bad SSH signature by " + signature.key.Fingerprint() + " (the content does not match)");
  return Status::Ok();
}

}  // namespace keelson::trust
