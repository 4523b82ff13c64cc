#include "agent/source/known_hosts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

namespace keelson::source {
namespace {

constexpr std::size_t kMaxKnownHostsBytes = 4u << 20;

std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The key type named inside an SSH wire blob (its first string).
std::string BlobKeyType(std::string_view blob) {
  if (blob.size() < 4) return {};
  std::uint32_t len = (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[0])) << 24) |
                      (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[1])) << 16) |
                      (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[2])) << 8) |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(blob[3]));
  if (len > blob.size() - 4) return {};
  return std::string(blob.substr(4, len));
}

bool HashedMatch(std::string_view pattern, const std::string& name) {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  std::string_view rest = pattern.substr(3);
  std::size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return false;
  std::optional<std::string> salt = DecodeBase64(rest.substr(0, bar));
  std::optional<std::string> hash = DecodeBase64(rest.substr(bar + 1));
  if (!salt || !hash || hash->size() != 20) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac, &mac_len) == nullptr) {
    return false;
  }
  return mac_len == 20 && CRYPTO_memcmp(mac, hash->data(), 20) == 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view name) {
  // Iterative matcher with one backtrack point: linear in practice and never
  // recursive, whatever the pattern.
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<KnownHosts> KnownHosts::Parse(std::string_view text, const std::string& file_name) {
  KnownHosts hosts;
  hosts.file_name_ = file_name;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> f = Fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    Entry e;
    e.line = number;
    std::size_t i = 0;
    if (f[0][0] == '@') {
      if (f[0] == "@revoked") e.marker = Entry::Marker::kRevoked;
      else if (f[0] == "@cert-authority") e.marker = Entry::Marker::kCertAuthority;
      else return MakeError(ErrorCode::kInvalidInput, "unknown marker " + f[0], Location{file_name, number, 1, {}});
      i = 1;
    }
    if (f.size() < i + 3) {
      return MakeError(ErrorCode::kInvalidInput, "expected \"hosts key-type base64-key\"",
                       Location{file_name, number, 1, {}});
    }
    std::stringstream patterns(f[i]);
    for (std::string p; std::getline(patterns, p, ',');) {
      if (!p.empty()) e.patterns.push_back(p.starts_with("|1|") ? p : Lower(p));
    }
    e.key_type = f[i + 1];
    std::optional<std::string> blob = DecodeBase64(f[i + 2]);
    if (!blob || BlobKeyType(*blob) != e.key_type) {
      return MakeError(ErrorCode::kInvalidInput, "key is not valid base64 of a " + e.key_type + " key",
                       Location{file_name, number, 1, {}});
    }
    e.key_blob = std::move(*blob);
    hosts.entries_.push_back(std::move(e));
  }
  return hosts;
}

Result<KnownHosts> KnownHosts::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read known_hosts file", Location{path, 0, 0, {}});
  std::string text;
  text.resize(kMaxKnownHostsBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKnownHostsBytes) {
    return MakeError(ErrorCode::kLimitExceeded, "known_hosts file larger than 4 MiB", Location{path, 0, 0, {}});
  }
  return Parse(text, path);
}

bool KnownHosts::HostMatches(const Entry& entry, const std::string& name) {
  bool matched = false;
  for (const std::string& p : entry.patterns) {
    bool negated = p[0] == '!';
    std::string_view pat = negated ? std::string_view(p).substr(1) : std::string_view(p);
    bool hit = pat.starts_with("|1|") ? HashedMatch(pat, name) : WildcardMatch(pat, name);
    if (hit && negated) return false;  // a negated match overrides everything
    matched |= hit;
  }
  return matched;
}

Status KnownHosts::Check(std::string_view host, int port, std::string_view key_type,
                         std::string_view key_blob) const {
  std::string name = port == 22 ? Lower(host) : "[" + Lower(host) + "]:" + std::to_string(port);
  bool listed = false;
  bool only_ca = true;
  for (const Entry& e : entries_) {
    if (!HostMatches(e, name)) continue;
    if (e.marker == Entry::Marker::kRevoked) {
      if (e.key_blob == key_blob) {
        return MakeError(ErrorCode::kAccessDenied, "host key of " + name + " is marked @revoked",
                         Location{file_name_, e.line, 1, {}});
      }
      continue;
    }
    if (e.marker == Entry::Marker::kCertAuthority) continue;
    only_ca = false;
    listed = true;
  }
  if (!listed) {
    std::string why = only_ca && std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
                        return e.marker == Entry::Marker::kCertAuthority && HostMatches(e, name);
                      })
                          ? " (only @cert-authority entries, which are not supported)"
                          : "";
    return MakeError(ErrorCode::kAccessDenied,
                     "host " + name + " is not in known_hosts" + why + "; add its key (ssh-keyscan) to trust it",
                     Location{file_name_, 0, 0, {}});
  }
  for (const Entry& e : entries_) {
    if (e.marker == Entry::Marker::kNone && e.key_blob == key_blob && HostMatches(e, name)) return Status::Ok();
  }
  return MakeError(ErrorCode::kAccessDenied,
                   "host key of " + name + " (" + std::string(key_type) +
                       ") does not match known_hosts: the key changed or someone is intercepting the connection",
                   Location{file_name_, 0, 0, {}});
}

}  // namespace keelson::source
