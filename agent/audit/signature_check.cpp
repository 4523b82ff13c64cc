#include "agent/audit/signature_check.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "agent/audit/ssh_wire.h"

namespace keelson::audit {

namespace {

constexpr std::size_t kMaxAllowedSignersFile = std::size_t{4} * 1024 * 1024;
constexpr std::size_t kMaxSignature = std::size_t{64} * 1024;

// Splits off the next whitespace-separated token; double quotes group.
std::string NextToken(std::string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
  std::string token;
  bool quoted = false;
  for (; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '"') {
      quoted = !quoted;
      token.push_back(c);
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t')) break;
    token.push_back(c);
  }
  rest.remove_prefix(i);
  return token;
}

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return std::string(v.substr(1, v.size() - 2));
  return std::string(v);
}

// Splits at commas outside double quotes.
std::vector<std::string> SplitComma(std::string_view v) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : v) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.emplace_back();
      continue;
    }
    out.back().push_back(c);
  }
  return out;
}

bool IsKeyType(std::string_view t) {
  return t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-");
}

Error CheckFailed(std::string message) { return MakeError(ErrorCode::kCheckFailed, std::move(message)); }

struct ParsedSignature {
  std::string key_blob;
  std::string ns;
  std::string hash;
  std::string signature;  // raw 64-byte ed25519 signature
};

Result<ParsedSignature> ParseArmored(std::string_view armored) {
  constexpr std::string_view kBegin = "-----BEGIN SSH SIGNATURE-----";
  constexpr std::string_view kEnd = "-----END SSH SIGNATURE-----";
  if (armored.size() > kMaxSignature) return MakeError(ErrorCode::kInvalidInput, "SSH signature larger than 64 KiB");
  std::size_t begin = armored.find(kBegin);
  std::size_t end = armored.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return MakeError(ErrorCode::kInvalidInput, "not an SSH signature (no BEGIN/END SSH SIGNATURE armor)");
  }
  std::optional<std::string> blob =
      wire::Base64Decode(armored.substr(begin + kBegin.size(), end - begin - kBegin.size()));
  if (!blob || !std::string_view(*blob).starts_with("SSHSIG")) {
    return MakeError(ErrorCode::kInvalidInput, "SSH signature: bad base64 or missing SSHSIG magic");
  }
  wire::Reader r(std::string_view(*blob).substr(6));
  auto version = r.U32();
  auto key = r.String();
  auto ns = r.String();
  auto reserved = r.String();
  auto hash = r.String();
  auto sig = r.String();
  if (!version || !key || !ns || !reserved || !hash || !sig || !r.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "SSH signature: truncated or trailing data");
  }
  if (*version != 1)
    return MakeError(ErrorCode::kInvalidInput, "SSH signature: unsupported version " + std::to_string(*version));
  wire::Reader s(*sig);
  auto sig_type = s.String();
  auto sig_bytes = s.String();
  if (!sig_type || !sig_bytes || !s.empty())
    return MakeError(ErrorCode::kInvalidInput, "SSH signature: malformed signature blob");
  wire::Reader k(*key);
  auto key_type = k.String();
  auto key_bytes = k.String();
  if (!key_type || !key_bytes || !k.empty())
    return MakeError(ErrorCode::kInvalidInput, "SSH signature: malformed public key");
  if (*key_type != "ssh-ed25519" || *sig_type != "ssh-ed25519" || key_bytes->size() != 32 || sig_bytes->size() != 64) {
    return CheckFailed("SSH signature uses key type " + std::string(*key_type) +
                       "; keelson audit verify checks ssh-ed25519 agent keys only");
  }
  return ParsedSignature{std::string(*key), std::string(*ns), std::string(*hash), std::string(*sig_bytes)};
}

}  // namespace

Result<AllowedSigners> AllowedSigners::Parse(std::string_view text, const std::string& file) {
  AllowedSigners out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    Location where{file, line_no, 0, ""};
    std::string_view rest = line;
    AllowedSigner signer;
    signer.line = line_no;
    signer.principals = Unquote(NextToken(rest));
    std::string token = NextToken(rest);
    bool cert_authority = false;
    if (!IsKeyType(token)) {
      for (const std::string& option : SplitComma(token)) {
        std::size_t eq = option.find('=');
        std::string name = option.substr(0, eq);
        if (name == "cert-authority") {
          cert_authority = true;
        } else if (name == "namespaces" && eq != std::string::npos) {
          signer.namespaces = SplitComma(Unquote(option.substr(eq + 1)));
        } else if (name == "valid-after" || name == "valid-before") {
          return MakeError(ErrorCode::kInvalidInput,
                           "option " + name + " is not supported by keelson; check with `git verify-commit`", where);
        } else {
          return MakeError(ErrorCode::kInvalidInput, "unknown option \"" + name + "\"", where);
        }
      }
      token = NextToken(rest);
    }
    if (!IsKeyType(token)) return MakeError(ErrorCode::kInvalidInput, "expected a key type such as ssh-ed25519", where);
    std::string b64 = NextToken(rest);
    std::optional<std::string> blob = wire::Base64Decode(b64);
    if (!blob || b64.empty()) return MakeError(ErrorCode::kInvalidInput, "public key is not valid base64", where);
    wire::Reader r(*blob);
    auto type = r.String();
    if (!type || *type != token) {
      return MakeError(ErrorCode::kInvalidInput, "public key does not match its key type " + token, where);
    }
    if (cert_authority) continue;  // a CA key never signs commits directly
    signer.key_blob = std::move(*blob);
    out.signers_.push_back(std::move(signer));
  }
  return out;
}

Result<AllowedSigners> AllowedSigners::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read allowed signers file", Location{path, 0, 0, ""});
  std::string text(kMaxAllowedSignersFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxAllowedSignersFile) {
    return MakeError(ErrorCode::kLimitExceeded, "allowed signers file is larger than 4 MiB", Location{path, 0, 0, ""});
  }
  return Parse(text, path);
}

const AllowedSigner* AllowedSigners::Find(std::string_view key_blob, std::string_view ns) const {
  for (const AllowedSigner& s : signers_) {
    if (s.key_blob != key_blob) continue;
    if (s.namespaces.empty()) return &s;
    for (const std::string& n : s.namespaces) {
      if (n == ns) return &s;
    }
  }
  return nullptr;
}

Result<std::string> SignatureKeyFingerprint(std::string_view armored) {
  Result<ParsedSignature> parsed = ParseArmored(armored);
  if (!parsed.ok()) return std::move(parsed).error();
  return wire::Fingerprint(parsed->key_blob);
}

Result<VerifiedSignature> VerifySshSignature(std::string_view armored, std::string_view message, std::string_view ns,
                                             const AllowedSigners& allowed) {
  Result<ParsedSignature> parsed = ParseArmored(armored);
  if (!parsed.ok()) return std::move(parsed).error();
  const ParsedSignature& sig = *parsed;
  std::string fingerprint = wire::Fingerprint(sig.key_blob);
  if (sig.ns != ns)
    return CheckFailed("SSH signature is for namespace \"" + sig.ns + "\", not \"" + std::string(ns) + "\"");

  std::string digest;
  if (sig.hash == "sha512") {
    digest.resize(SHA512_DIGEST_LENGTH);
    SHA512(reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           reinterpret_cast<unsigned char*>(digest.data()));
  } else if (sig.hash == "sha256") {
    digest.resize(SHA256_DIGEST_LENGTH);
    SHA256(reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           reinterpret_cast<unsigned char*>(digest.data()));
  } else {
    return CheckFailed("SSH signature uses unsupported hash \"" + sig.hash + "\"");
  }
  std::string signed_data = "SSHSIG";
  wire::PutString(signed_data, sig.ns);
  wire::PutString(signed_data, "");
  wire::PutString(signed_data, sig.hash);
  wire::PutString(signed_data, digest);

  wire::Reader k(sig.key_blob);
  (void)k.String();
  std::string_view raw_key = *k.String();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_key.data()),
                                  raw_key.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL could not load an ed25519 public key");
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.signature.data()), sig.signature.size(),
                       reinterpret_cast<const unsigned char*>(signed_data.data()), signed_data.size()) != 1) {
    return CheckFailed("SSH signature by " + fingerprint + " does not verify (the signed content was changed)");
  }
  const AllowedSigner* signer = allowed.Find(sig.key_blob, ns);
  if (signer == nullptr) {
    return CheckFailed("signed by " + fingerprint + ", which is not in the allowed signers for namespace \"" +
                       std::string(ns) + "\"");
  }
  return VerifiedSignature{signer->principals, fingerprint};
}

}  // namespace keelson::audit
