// Byte-level helpers shared by the signature parsers: strict base64, hex,
// and a bounds-checked big-endian reader. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keelson::trust {

// Decodes standard base64 (RFC 4648, '=' padding optional at the very end).
// Whitespace (space, tab, CR, LF) is skipped; any other character outside
// the alphabet, or bits left over after the last full byte, gives nullopt.
std::optional<std::string> Base64Decode(std::string_view text);
// Encodes with '=' padding when `pad`, without line breaks.
std::string Base64Encode(std::string_view bytes, bool pad = true);

// Lowercase or uppercase hex of every byte.
std::string HexEncode(std::string_view bytes, bool upper = false);

// Reads big-endian integers and length-prefixed strings from a byte view.
// Every read checks the bounds; after a failed read the reader stays failed
// and returns zeros/empty views, so callers can check ok() once at the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  std::uint8_t U8();
  std::uint16_t U16();
  std::uint32_t U32();
  std::string_view Bytes(std::size_t n);
  // A uint32 length followed by that many bytes (SSH wire "string").
  std::string_view SshString();
  // An OpenPGP MPI: a uint16 bit count followed by ceil(bits/8) bytes.
  std::string_view PgpMpi();

  bool ok() const { return ok_; }
  bool empty() const { return pos_ >= data_.size(); }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  std::size_t position() const { return pos_; }
  std::string_view Rest();

 private:
  bool Need(std::size_t n);
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends a uint32 length and the bytes (SSH wire "string").
void AppendSshString(std::string& out, std::string_view bytes);
void AppendU32(std::string& out, std::uint32_t v);

}  // namespace keelson::trust
