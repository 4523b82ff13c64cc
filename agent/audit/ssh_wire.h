// The SSH wire encoding (RFC 4251 section 5) and base64, shared by the
// SSHSIG signer, the signature check and the private key reader. Internal
// to agent/audit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keelson::audit::wire {

// Reads big-endian integers and length-prefixed strings from a byte
// buffer. Every read is bounds-checked; a failed read leaves the reader in
// a failed state so callers check once at the end or per field.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::optional<std::uint32_t> U32();
  std::optional<std::string_view> String();
  std::optional<std::string_view> Bytes(std::size_t n);
  bool empty() const { return pos_ == data_.size(); }
  std::string_view rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

void PutU32(std::string& out, std::uint32_t value);
void PutString(std::string& out, std::string_view value);

std::string Base64Encode(std::string_view bytes);
// Strict decoding: whitespace is skipped, anything else outside the
// alphabet fails.
std::optional<std::string> Base64Decode(std::string_view text);

// "SHA256:<unpadded base64>" as ssh-keygen -l prints it.
std::string Fingerprint(std::string_view public_key_blob);

}  // namespace keelson::audit::wire
