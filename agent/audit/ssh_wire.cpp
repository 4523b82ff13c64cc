#include "agent/audit/ssh_wire.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace keelson::audit::wire {

std::optional<std::uint32_t> Reader::U32() {
  std::optional<std::string_view> b = Bytes(4);
  if (!b) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(b->data());
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::optional<std::string_view> Reader::String() {
  std::size_t saved = pos_;
  std::optional<std::uint32_t> n = U32();
  if (!n) return std::nullopt;
  std::optional<std::string_view> b = Bytes(*n);
  if (!b) pos_ = saved;
  return b;
}

std::optional<std::string_view> Reader::Bytes(std::size_t n) {
  if (data_.size() - pos_ < n) return std::nullopt;
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

void PutU32(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

void PutString(std::string& out, std::string_view value) {
  PutU32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{at(i)} << 16) | (std::uint32_t{at(i + 1)} << 8) | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (bytes.size() - i == 1) {
    std::uint32_t v = std::uint32_t{at(i)} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (bytes.size() - i == 2) {
    std::uint32_t v = (std::uint32_t{at(i)} << 16) | (std::uint32_t{at(i + 1)} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  int padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (padding > 2 || bits >= 6) return std::nullopt;
  return out;
}

std::string Fingerprint(std::string_view public_key_blob) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(public_key_blob.data()), public_key_blob.size(), digest);
  std::string b64 = Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace keelson::audit::wire
