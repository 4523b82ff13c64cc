#include "renderers/helm/functions.h"

// The SHA*_Init family is deprecated in OpenSSL 3 in favour of EVP, whose
// first use costs a provider load (see Digest).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "renderers/helm/decimal.h"
#include "renderers/helm/semver.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

namespace {

using Args = std::vector<Value>;

Error Fail(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

Status Arity(const char* name, const Args& a, std::size_t want) {
  if (a.size() != want) {
    return Fail(std::string("wrong number of args for ") + name + ": want " + std::to_string(want) + " got " +
                std::to_string(a.size()));
  }
  return Status::Ok();
}

Status AtLeast(const char* name, const Args& a, std::size_t want) {
  if (a.size() < want) {
    return Fail(std::string("wrong number of args for ") + name + ": want at least " + std::to_string(want) +
                " got " + std::to_string(a.size()));
  }
  return Status::Ok();
}

#define KEELSON_ARITY(name, n)             \
  do {                                     \
    Status st_ = Arity(name, a, n);        \
    if (!st_.ok()) return std::move(st_).error(); \
  } while (0)
#define KEELSON_ATLEAST(name, n)           \
  do {                                     \
    Status st_ = AtLeast(name, a, n);      \
    if (!st_.ok()) return std::move(st_).error(); \
  } while (0)

// Sprig's strval: strings as is, everything else through %v.
std::string StrVal(const Value& v) { return v.IsString() ? v.AsString() : FormatValue(v); }
// A parameter Go declares as string; nil (a missing value) reads as "".
std::string Str(const Value& v) { return v.IsNil() ? std::string() : StrVal(v); }

// cast.ToInt64E as Sprig uses it.
std::int64_t ToInt64(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return v.AsInt();
    case Value::Kind::kFloat: return GoFloatToInt64(v.AsFloat());
    case Value::Kind::kBool: return v.AsBool() ? 1 : 0;
    case Value::Kind::kString: {
      std::string s = v.AsString();
      bool neg = false;
      std::string_view body = s;
      if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
        neg = body[0] == '-';
        body.remove_prefix(1);
      }
      int base = 10;
      if (body.size() > 1 && body[0] == '0') {
        char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
        if (p == 'x') { base = 16; body.remove_prefix(2); }
        else if (p == 'b') { base = 2; body.remove_prefix(2); }
        else if (p == 'o') { base = 8; body.remove_prefix(2); }
        else { base = 8; body.remove_prefix(1); }
      }
      std::int64_t out = 0;
      auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), out, base);
      if (ec != std::errc() || p != body.data() + body.size() || body.empty()) return 0;
      return neg ? -out : out;
    }
    default: return 0;
  }
}

double ToFloat(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return static_cast<double>(v.AsInt());
    case Value::Kind::kFloat: return v.AsFloat();
    case Value::Kind::kBool: return v.AsBool() ? 1 : 0;
    case Value::Kind::kString: {
      const std::string& s = v.AsString();
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || p != s.data() + s.size()) return 0;
      return d;
    }
    default: return 0;
  }
}

// A Go `int` parameter: template literals are ints; other numbers convert.
std::int64_t IntParam(const Value& v) { return ToInt64(v); }

// Sprig's strslice.
std::vector<std::string> StrSlice(const Value& v) {
  std::vector<std::string> out;
  if (v.IsList()) {
    for (const Value& item : v.AsList()) {
      if (!item.IsNil()) out.push_back(StrVal(item));
    }
  } else if (!v.IsNil()) {
    out.push_back(StrVal(v));
  }
  return out;
}

bool DeepEqual(const Value& a, const Value& b, int depth = 0) {
  CheckValueDepth(depth);
  if (a.kind() != b.kind()) return false;
  // The same list or map is equal to itself, as reflect.DeepEqual says
  // without looking inside (so a map holding itself compares equal too).
  if ((a.IsList() || a.IsMap()) && a.identity() == b.identity()) return true;
  switch (a.kind()) {
    case Value::Kind::kNil: return true;
    case Value::Kind::kBool: return a.AsBool() == b.AsBool();
    case Value::Kind::kInt: return a.AsInt() == b.AsInt() && a.is_int64() == b.is_int64();
    case Value::Kind::kFloat: return a.AsFloat() == b.AsFloat();
    case Value::Kind::kString: return a.AsString() == b.AsString();
    case Value::Kind::kList: {
      if (a.AsList().size() != b.AsList().size()) return false;
      for (std::size_t i = 0; i < a.AsList().size(); ++i) {
        if (!DeepEqual(a.AsList()[i], b.AsList()[i], depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kMap: {
      if (a.AsMap().size() != b.AsMap().size()) return false;
      for (const auto& [k, v] : a.AsMap()) {
        auto it = b.AsMap().find(k);
        if (it == b.AsMap().end() || !DeepEqual(v, it->second, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kObject: return &a.AsObject() == &b.AsObject();
  }
  return false;
}

Result<const List*> ListArg(const char* fn, const Value& v) {
  if (!v.IsList()) return Fail(std::string("Cannot ") + fn + " on type " + v.TypeName());
  return &v.AsList();
}

Result<MapPtr> MapArg(const char* fn, const Value& v) {
  if (!v.IsMap()) {
    return Fail(std::string("wrong type for value; expected map[string]interface {}; got ") + v.TypeName() +
                " (in " + fn + ")");
  }
  return v.map_ptr();
}

// mergo's Merge/MergeWithOverwrite for map[string]interface{}.
void MergeMaps(Map& dst, const Map& src, bool overwrite, int depth) {
  if (depth > 100) return;
  for (const auto& [key, s] : src) {
    auto it = dst.find(key);
    bool present = it != dst.end();
    if (s.IsNil()) {
      if (overwrite) dst[key] = Value();
      continue;
    }
    if (s.IsMap() && present && it->second.IsMap()) {
      MergeMaps(it->second.MutableMap(), s.AsMap(), overwrite, depth + 1);
      continue;
    }
    if ((s.IsMap() || s.IsList()) && present && !IsEmpty(it->second) && !overwrite) continue;
    if (overwrite || !present || IsEmpty(it->second)) dst[key] = s;
  }
}

// Go's regexp is RE2; so is this. Charts apply the same few patterns in
// loops (bitnami's common library on every label), and compiling one cost
// more than matching, so compiled patterns are kept process-wide, shared
// by renders on any thread (RE2 objects are thread-safe), up to a bound.
Result<std::shared_ptr<const re2::RE2>> CompileRegex(const std::string& pattern) {
  if (pattern.size() > 64 * 1024) return MakeError(ErrorCode::kLimitExceeded, "regexp pattern too long");
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> cache;
  constexpr std::size_t kMaxCached = 512;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(pattern);
    if (it != cache.end()) return it->second;
  }
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (!re->ok()) return Fail("error parsing regexp: " + re->error() + ": `" + pattern + "`");
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

// Go's path.Clean: the shortest equivalent path, lexically.
std::string CleanPath(std::string_view p) {
  if (p.empty()) return ".";
  bool rooted = p[0] == '/';
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t slash = p.find('/', start);
    std::string_view part = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

// Sprig's float arithmetic: exact decimals of the operands (see decimal.h).
Result<Value> DecimalFold(const char* name, const Value& first, const Args& rest, std::size_t from,
                          ExactDecimal (ExactDecimal::*op)(const ExactDecimal&) const) {
  auto acc = ExactDecimal::FromDouble(ToFloat(first));
  for (std::size_t i = from; i < rest.size(); ++i) {
    auto x = ExactDecimal::FromDouble(ToFloat(rest[i]));
    if (!acc || !x) return Fail(std::string(name) + ": operand is not a finite number");
    acc = ((*acc).*op)(*x);
  }
  if (!acc) return Fail(std::string(name) + ": operand is not a finite number");
  return Value::Float(acc->ToDouble());
}

// Go's base32.StdEncoding.
std::string Base32Encode(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    std::uint64_t block = 0;
    std::size_t n = std::min<std::size_t>(5, in.size() - i);
    for (std::size_t k = 0; k < 5; ++k) block = (block << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0);
    static const std::size_t kChars[] = {0, 2, 4, 5, 7, 8};
    for (std::size_t k = 0; k < 8; ++k) {
      out += k < kChars[n] ? kAlphabet[(block >> (35 - 5 * k)) & 31] : '=';
    }
    i += n;
  }
  return out;
}

Result<std::string> Base32Decode(std::string_view in) {
  std::string out;
  std::uint64_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    char c = in[i];
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
    if (v < 0) return Fail("illegal base32 data at input byte " + std::to_string(i));
    acc = (acc << 5) | static_cast<std::uint64_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  std::size_t padding = in.size() - i;
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return Fail("illegal base32 data at input byte " + std::to_string(i));
  }
  if (in.size() % 8 != 0 || (padding != 0 && padding != 1 && padding != 3 && padding != 4 && padding != 6)) {
    return Fail("illegal base32 data at input byte " + std::to_string(in.size() - (in.size() % 8 == 0 ? padding : 0)));
  }
  return out;
}

// Sprig's wrapWith (Apache Commons' WordUtils.wrap on bytes, long words
// broken).
std::string WrapCustom(const std::string& s, std::int64_t width, std::string newline) {
  if (s.empty()) return "";
  if (newline.empty()) newline = "\n";
  std::size_t w = width < 1 ? 1 : static_cast<std::size_t>(width);
  std::string out;
  std::size_t offset = 0;
  while (s.size() - offset > w) {
    if (s[offset] == ' ') {
      ++offset;
      continue;
    }
    std::size_t space = s.substr(offset, w + 1).rfind(' ');
    if (space != std::string::npos) {
      out += s.substr(offset, space) + newline;
      offset += space + 1;
    } else {
      out += s.substr(offset, w) + newline;
      offset += w;
    }
  }
  return out + s.substr(offset);
}

// Apache Commons' StringUtils.abbreviate(str, offset, maxWidth), as Sprig's
// abbrevboth uses it (byte offsets).
std::string AbbreviateFull(const std::string& s, std::int64_t offset, std::int64_t width) {
  auto len = static_cast<std::int64_t>(s.size());
  if (s.empty() || width < 4 || len <= width) return s;
  if (offset > len) offset = len;
  if (len - offset < width - 3) offset = len - (width - 3);
  if (offset <= 4) return s.substr(0, static_cast<std::size_t>(width - 3)) + "...";
  if (width < 7) return "";
  if (offset + width - 3 < len) {
    std::string rest = s.substr(static_cast<std::size_t>(offset));
    std::int64_t w = width - 3;
    if (w >= 4 && static_cast<std::int64_t>(rest.size()) > w) rest = rest.substr(0, static_cast<std::size_t>(w - 3)) + "...";
    return "..." + rest;
  }
  return "..." + s.substr(static_cast<std::size_t>(len - (width - 3)));
}

std::size_t RuneWidth(const std::string& s, std::size_t pos) {
  if (pos >= s.size()) return 1;
  auto c = static_cast<unsigned char>(s[pos]);
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return std::min(n, s.size() - pos);
}

// Every match as Go's allMatches finds them: [start, end) of each group,
// -1 for groups that did not take part; empty matches right after a
// previous match are skipped.
std::vector<std::vector<std::ptrdiff_t>> AllMatches(const re2::RE2& re, const std::string& s, std::int64_t n) {
  std::vector<std::vector<std::ptrdiff_t>> out;
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(ngroups));
  std::size_t pos = 0;
  std::ptrdiff_t prev_end = -1;
  while ((n < 0 || static_cast<std::int64_t>(out.size()) < n) && pos <= s.size()) {
    if (!re.Match(s, pos, s.size(), re2::RE2::UNANCHORED, groups.data(), ngroups)) break;
    std::ptrdiff_t mstart = groups[0].data() - s.data();
    std::ptrdiff_t mend = mstart + static_cast<std::ptrdiff_t>(groups[0].size());
    bool accept = true;
    if (mend == static_cast<std::ptrdiff_t>(pos)) {
      if (mstart == prev_end) accept = false;
      pos += RuneWidth(s, pos);
    } else {
      pos = static_cast<std::size_t>(mend);
    }
    prev_end = mend;
    if (accept) {
      std::vector<std::ptrdiff_t> m;
      for (const auto& g : groups) {
        if (g.data() == nullptr) {
          m.push_back(-1);
          m.push_back(-1);
        } else {
          m.push_back(g.data() - s.data());
          m.push_back(g.data() - s.data() + static_cast<std::ptrdiff_t>(g.size()));
        }
      }
      out.push_back(std::move(m));
    }
  }
  return out;
}

// Go's Regexp.Expand template: $1, ${1}, $name, $$.
std::string ExpandReplacement(const std::string& repl, const std::string& s, const std::vector<std::ptrdiff_t>& m,
                              const re2::RE2& re) {
  std::string out;
  for (std::size_t i = 0; i < repl.size(); ++i) {
    char c = repl[i];
    if (c != '$' || i + 1 >= repl.size()) {
      out += c;
      continue;
    }
    if (repl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    std::size_t j = i + 1;
    if (repl[j] == '{') {
      std::size_t close = repl.find('}', j);
      if (close == std::string::npos) {
        out += c;
        continue;
      }
      name = repl.substr(j + 1, close - j - 1);
      j = close + 1;
    } else {
      while (j < repl.size() && (std::isalnum(static_cast<unsigned char>(repl[j])) || repl[j] == '_')) name += repl[j++];
    }
    if (name.empty()) {
      out += c;
      continue;
    }
    int idx = -1;
    bool numeric = std::all_of(name.begin(), name.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
    if (numeric) {
      idx = name.size() > 6 ? -1 : std::stoi(name);
    } else {
      auto named = re.NamedCapturingGroups();
      auto it = named.find(name);
      if (it != named.end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<std::size_t>(idx) * 2 + 1 < m.size() && m[static_cast<std::size_t>(idx) * 2] >= 0) {
      auto b = static_cast<std::size_t>(m[static_cast<std::size_t>(idx) * 2]);
      auto e = static_cast<std::size_t>(m[static_cast<std::size_t>(idx) * 2 + 1]);
      out.append(s, b, e - b);
    }
    i = j - 1;
  }
  return out;
}

// Go's ReplaceAllString / ReplaceAllLiteralString.
std::string RegexReplace(const re2::RE2& re, const std::string& s, const std::string& repl, bool literal) {
  std::string out;
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(ngroups));
  std::size_t search = 0, last_end = 0;
  while (search <= s.size()) {
    if (!re.Match(s, search, s.size(), re2::RE2::UNANCHORED, groups.data(), ngroups)) break;
    auto a0 = static_cast<std::size_t>(groups[0].data() - s.data());
    std::size_t a1 = a0 + groups[0].size();
    out.append(s, last_end, a0 - std::min(a0, last_end));
    if (a1 > last_end || a0 == 0) {
      if (literal) {
        out += repl;
      } else {
        std::vector<std::ptrdiff_t> m;
        for (const auto& g : groups) {
          m.push_back(g.data() ? g.data() - s.data() : -1);
          m.push_back(g.data() ? g.data() - s.data() + static_cast<std::ptrdiff_t>(g.size()) : -1);
        }
        out += ExpandReplacement(repl, s, m, re);
      }
    }
    last_end = a1;
    std::size_t width = RuneWidth(s, search);
    if (search + width > a1) {
      search += width;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  if (last_end < s.size()) out.append(s, last_end, std::string::npos);
  return out;
}

Result<std::string> Base64Decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') { ++pad; continue; }
    else if (c == '\n' || c == '\r') continue;
    else return Fail("illegal base64 data at input byte " + std::to_string(i));
    if (pad > 0) return Fail("illegal base64 data at input byte " + std::to_string(i));
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if ((in.size() - pad) % 4 == 1 || pad > 2) return Fail("illegal base64 data at input byte " + std::to_string(in.size()));
  return out;
}

enum class HashKind { kSha1, kSha256, kSha512 };

// Hex digest through OpenSSL's direct hash functions: the EVP interface
// loads and searches OpenSSL's provider tables on first use, which cost
// more than everything else a checksum annotation does.
std::string Digest(HashKind kind, std::string_view in) {
  unsigned char buf[SHA512_DIGEST_LENGTH];
  unsigned int len = 0;
  switch (kind) {
    case HashKind::kSha1: {
      SHA_CTX c;
      SHA1_Init(&c);
      SHA1_Update(&c, in.data(), in.size());
      SHA1_Final(buf, &c);
      len = SHA_DIGEST_LENGTH;
      break;
    }
    case HashKind::kSha256: {
      SHA256_CTX c;
      SHA256_Init(&c);
      SHA256_Update(&c, in.data(), in.size());
      SHA256_Final(buf, &c);
      len = SHA256_DIGEST_LENGTH;
      break;
    }
    case HashKind::kSha512: {
      SHA512_CTX c;
      SHA512_Init(&c);
      SHA512_Update(&c, in.data(), in.size());
      SHA512_Final(buf, &c);
      len = SHA512_DIGEST_LENGTH;
      break;
    }
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[buf[i] >> 4];
    out += kHex[buf[i] & 0xF];
  }
  return out;
}

std::string RandomFrom(std::string_view alphabet, std::int64_t count) {
  std::string out;
  if (count <= 0) return out;
  count = std::min<std::int64_t>(count, 1 << 20);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(count) * 2);
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  for (std::int64_t i = 0; i < count; ++i) {
    std::size_t r = (static_cast<std::size_t>(bytes[static_cast<std::size_t>(i) * 2]) << 8) | bytes[static_cast<std::size_t>(i) * 2 + 1];
    out += alphabet[r % alphabet.size()];
  }
  return out;
}

Value StringList(const std::vector<std::string>& items) {
  List out;
  out.reserve(items.size());
  for (const auto& s : items) out.push_back(Value::String(s));
  return Value::NewList(std::move(out));
}

std::vector<std::string> SplitString(const std::string& s, const std::string& sep, std::int64_t n = -1) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (sep.empty()) {
    for (char c : s) out.emplace_back(1, c);
    return out;
  }
  std::size_t start = 0;
  while (true) {
    if (n > 0 && static_cast<std::int64_t>(out.size()) == n - 1) {
      out.push_back(s.substr(start));
      break;
    }
    std::size_t p = s.find(sep, start);
    if (p == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  return out;
}

std::string ReplaceAll(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) {
    std::string out = to;
    for (char c : s) {
      out += c;
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        // Go inserts after each rune; approximate on byte boundaries of
        // ASCII and rune starts.
      }
      out += to;
    }
    return out;
  }
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
  }
  out.append(s, start, std::string::npos);
  return out;
}

bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string TrimSpace(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && IsSpace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && IsSpace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string TrimCutset(const std::string& s, const std::string& cutset, bool left, bool right) {
  std::size_t b = 0, e = s.size();
  if (left) while (b < e && cutset.find(s[b]) != std::string::npos) ++b;
  if (right) while (e > b && cutset.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

Value SemverObject(const SemVersion& v) {
  auto obj = std::make_shared<TableObject>("*semver.Version");
  obj->SetMethod("Major", [m = v.major](const Args&) -> Result<Value> { return Value::Int64(static_cast<std::int64_t>(m)); });
  obj->SetMethod("Minor", [m = v.minor](const Args&) -> Result<Value> { return Value::Int64(static_cast<std::int64_t>(m)); });
  obj->SetMethod("Patch", [m = v.patch](const Args&) -> Result<Value> { return Value::Int64(static_cast<std::int64_t>(m)); });
  obj->SetMethod("Prerelease", [p = v.prerelease](const Args&) -> Result<Value> { return Value::String(p); });
  obj->SetMethod("Metadata", [p = v.metadata](const Args&) -> Result<Value> { return Value::String(p); });
  obj->SetMethod("Original", [p = v.original](const Args&) -> Result<Value> { return Value::String(p); });
  std::string text = std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
  if (!v.prerelease.empty()) text += "-" + v.prerelease;
  if (!v.metadata.empty()) text += "+" + v.metadata;
  obj->SetMethod("String", [text](const Args&) -> Result<Value> { return Value::String(text); });
  obj->SetStringer("String");
  return Value::FromObject(obj);
}

std::string CaseSplitJoin(const std::string& s, char sep) {
  // xstrings.ToSnakeCase-like: word boundaries at case changes and
  // non-alphanumerics.
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c)) {
      if (!out.empty() && out.back() != sep) out += sep;
      continue;
    }
    if (std::isupper(c)) {
      bool prev_lower = i > 0 && (std::islower(static_cast<unsigned char>(s[i - 1])) || std::isdigit(static_cast<unsigned char>(s[i - 1])));
      bool next_lower = i + 1 < s.size() && std::islower(static_cast<unsigned char>(s[i + 1]));
      bool prev_upper = i > 0 && std::isupper(static_cast<unsigned char>(s[i - 1]));
      if (!out.empty() && out.back() != sep && (prev_lower || (prev_upper && next_lower))) out += sep;
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  while (!out.empty() && out.back() == sep) out.pop_back();
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view in) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += kTable[n & 63];
  }
  if (i + 1 == in.size()) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

Value FromYamlValue(std::string_view text) {
  auto node = ParseFirstYamlDocument(text, "fromYaml");
  if (!node.ok()) {
    Map m;
    m["Error"] = Value::String("error converting YAML to JSON: yaml: " + node.error().message);
    return Value::NewMap(std::move(m));
  }
  if (node->IsNull()) return Value::NewMap();
  if (!node->IsMapping()) {
    Map m;
    m["Error"] = Value::String("error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}");
    return Value::NewMap(std::move(m));
  }
  if (Status s = CheckJsonFloats(*node, "fromYaml"); !s) {
    Map m;
    m["Error"] = Value::String(s.error().message);
    return Value::NewMap(std::move(m));
  }
  return FromNodeAsJson(*node);
}

FunctionTable MakeHelmFunctions() {
  FunctionTable table;
  AddBuiltins(table);
  AddCryptoFunctions(table);
  AddDateFunctions(table);
  AddUrlFunctions(table);
  auto& f = table.functions;
  using R = Result<Value>;

  // ---------------------------------------------------------- strings
  f["toString"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("toString", 1); return Value::String(StrVal(a[0])); };
  f["trim"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("trim", 1); return Value::String(TrimSpace(Str(a[0]))); };
  f["trimAll"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("trimAll", 2); return Value::String(TrimCutset(Str(a[1]), Str(a[0]), true, true)); };
  f["trimall"] = f["trimAll"];
  f["trimSuffix"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("trimSuffix", 2);
    std::string s = Str(a[1]), suf = Str(a[0]);
    if (s.ends_with(suf)) s.resize(s.size() - suf.size());
    return Value::String(s);
  };
  f["trimPrefix"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("trimPrefix", 2);
    std::string s = Str(a[1]), pre = Str(a[0]);
    if (s.starts_with(pre)) s.erase(0, pre.size());
    return Value::String(s);
  };
  f["upper"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("upper", 1);
    std::string s = Str(a[0]);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Value::String(s);
  };
  f["lower"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("lower", 1);
    std::string s = Str(a[0]);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Value::String(s);
  };
  f["title"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("title", 1);
    std::string s = Str(a[0]);
    bool prev_sep = true;
    for (char& c : s) {
      auto u = static_cast<unsigned char>(c);
      if (prev_sep) c = static_cast<char>(std::toupper(u));
      prev_sep = !(std::isalnum(u) || c == '_' || u >= 0x80);
    }
    return Value::String(s);
  };
  f["untitle"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("untitle", 1);
    std::string s = Str(a[0]);
    bool prev_space = true;
    for (char& c : s) {
      auto u = static_cast<unsigned char>(c);
      if (prev_space) c = static_cast<char>(std::tolower(u));
      prev_space = IsSpace(u);
    }
    return Value::String(s);
  };
  f["repeat"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("repeat", 2);
    std::int64_t n = IntParam(a[0]);
    std::string s = Str(a[1]);
    if (n < 0) return Fail("strings: negative Repeat count");
    if (s.empty()) return Value::String("");
    if (static_cast<std::uint64_t>(n) > (64u << 20) / s.size()) return MakeError(ErrorCode::kLimitExceeded, "repeat: result too large");
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += s;
    return Value::String(out);
  };
  f["substr"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("substr", 3);
    std::int64_t start = IntParam(a[0]), end = IntParam(a[1]);
    std::string s = Str(a[2]);
    auto len = static_cast<std::int64_t>(s.size());
    if (start < 0) {
      if (end < 0 || end > len) return Fail("slice bounds out of range");
      return Value::String(s.substr(0, static_cast<std::size_t>(end)));
    }
    if (start > len) return Fail("slice bounds out of range");
    if (end < 0 || end > len) return Value::String(s.substr(static_cast<std::size_t>(start)));
    if (start > end) return Fail("slice bounds out of range");
    return Value::String(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)));
  };
  f["nospace"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("nospace", 1);
    std::string out;
    for (char c : Str(a[0])) {
      if (!IsSpace(static_cast<unsigned char>(c))) out += c;
    }
    return Value::String(out);
  };
  f["trunc"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("trunc", 2);
    std::int64_t c = IntParam(a[0]);
    std::string s = Str(a[1]);
    auto len = static_cast<std::int64_t>(s.size());
    if (c < 0 && len + c > 0) return Value::String(s.substr(static_cast<std::size_t>(len + c)));
    if (c >= 0 && len > c) return Value::String(s.substr(0, static_cast<std::size_t>(c)));
    return Value::String(s);
  };
  f["abbrev"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("abbrev", 2);
    std::int64_t w = IntParam(a[0]);
    std::string s = Str(a[1]);
    if (w < 4 || static_cast<std::int64_t>(s.size()) <= w) return Value::String(s);
    return Value::String(s.substr(0, static_cast<std::size_t>(w - 3)) + "...");
  };
  f["abbrevboth"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("abbrevboth", 3);
    std::int64_t left = IntParam(a[0]), right = IntParam(a[1]);
    std::string s = Str(a[2]);
    if (right < 4 || (left > 0 && right < 7)) return Value::String(s);
    return Value::String(AbbreviateFull(s, left, right));
  };
  f["initials"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("initials", 1);
    std::string out;
    bool start = true;
    for (char c : Str(a[0])) {
      if (IsSpace(static_cast<unsigned char>(c))) { start = true; continue; }
      if (start) out += c;
      start = false;
    }
    return Value::String(out);
  };
  f["contains"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("contains", 2);
    return Value::Bool(Str(a[1]).find(Str(a[0])) != std::string::npos);
  };
  f["hasPrefix"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("hasPrefix", 2); return Value::Bool(Str(a[1]).starts_with(Str(a[0]))); };
  f["hasSuffix"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("hasSuffix", 2); return Value::Bool(Str(a[1]).ends_with(Str(a[0]))); };
  f["quote"] = [](CallContext&, Args& a) -> R {
    std::string out;
    bool first = true;
    for (const Value& v : a) {
      if (v.IsNil()) continue;
      if (!first) out += ' ';
      first = false;
      out += GoQuote(StrVal(v));
    }
    return Value::String(out);
  };
  f["squote"] = [](CallContext&, Args& a) -> R {
    std::string out;
    bool first = true;
    for (const Value& v : a) {
      if (v.IsNil()) continue;
      if (!first) out += ' ';
      first = false;
      out += "'" + StrVal(v) + "'";
    }
    return Value::String(out);
  };
  f["cat"] = [](CallContext&, Args& a) -> R {
    std::string out;
    bool first = true;
    for (const Value& v : a) {
      if (v.IsNil()) continue;
      if (!first) out += ' ';
      first = false;
      out += StrVal(v);
    }
    return Value::String(out);
  };
  f["indent"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("indent", 2);
    std::int64_t n = IntParam(a[0]);
    if (n < 0) return Fail("strings: negative Repeat count");
    if (n > 100000) return MakeError(ErrorCode::kLimitExceeded, "indent: width too large");
    std::string pad(static_cast<std::size_t>(n), ' ');
    return Value::String(pad + ReplaceAll(Str(a[1]), "\n", "\n" + pad));
  };
  f["nindent"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("nindent", 2);
    std::int64_t n = IntParam(a[0]);
    if (n < 0) return Fail("strings: negative Repeat count");
    if (n > 100000) return MakeError(ErrorCode::kLimitExceeded, "nindent: width too large");
    std::string pad(static_cast<std::size_t>(n), ' ');
    return Value::String("\n" + pad + ReplaceAll(Str(a[1]), "\n", "\n" + pad));
  };
  f["replace"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("replace", 3);
    return Value::String(ReplaceAll(Str(a[2]), Str(a[0]), Str(a[1])));
  };
  f["plural"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("plural", 3);
    return IntParam(a[2]) == 1 ? Value::String(Str(a[0])) : Value::String(Str(a[1]));
  };
  f["snakecase"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("snakecase", 1); return Value::String(CaseSplitJoin(Str(a[0]), '_')); };
  f["kebabcase"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("kebabcase", 1); return Value::String(CaseSplitJoin(Str(a[0]), '-')); };
  f["camelcase"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("camelcase", 1);
    std::string out;
    bool up = true;
    for (char c : Str(a[0])) {
      if (c == '_' || c == ' ' || c == '-') { up = true; continue; }
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
    return Value::String(out);
  };
  f["swapcase"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("swapcase", 1);
    std::string s = Str(a[0]);
    for (char& c : s) {
      auto u = static_cast<unsigned char>(c);
      c = static_cast<char>(std::isupper(u) ? std::tolower(u) : std::toupper(u));
    }
    return Value::String(s);
  };
  f["join"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("join", 2);
    std::string sep = Str(a[0]), out;
    auto parts = StrSlice(a[1]);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += sep;
      out += parts[i];
    }
    return Value::String(out);
  };
  f["split"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("split", 2);
    auto parts = SplitString(Str(a[1]), Str(a[0]));
    Map m;
    for (std::size_t i = 0; i < parts.size(); ++i) m["_" + std::to_string(i)] = Value::String(parts[i]);
    return Value::NewMap(std::move(m));
  };
  f["splitn"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("splitn", 3);
    auto parts = SplitString(Str(a[2]), Str(a[0]), IntParam(a[1]));
    Map m;
    for (std::size_t i = 0; i < parts.size(); ++i) m["_" + std::to_string(i)] = Value::String(parts[i]);
    return Value::NewMap(std::move(m));
  };
  f["splitList"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("splitList", 2);
    return StringList(SplitString(Str(a[1]), Str(a[0])));
  };
  f["toStrings"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toStrings", 1);
    std::vector<std::string> out;
    if (a[0].IsList()) {
      for (const Value& v : a[0].AsList()) out.push_back(StrVal(v));
    } else if (!a[0].IsNil()) {
      out.push_back(StrVal(a[0]));
    }
    return StringList(out);
  };
  f["sortAlpha"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("sortAlpha", 1);
    auto parts = StrSlice(a[0]);
    std::sort(parts.begin(), parts.end());
    return StringList(parts);
  };
  f["wrap"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("wrap", 2);
    std::int64_t width = IntParam(a[0]);
    std::string s = Str(a[1]), out, line;
    for (const auto& word : SplitString(s, " ")) {
      if (!line.empty() && static_cast<std::int64_t>(line.size() + 1 + word.size()) > width) {
        out += line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    return Value::String(out + line);
  };
  f["wrapWith"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("wrapWith", 3);
    return Value::String(WrapCustom(Str(a[2]), IntParam(a[0]), Str(a[1])));
  };
  f["shuffle"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("shuffle", 1);
    std::string s = Str(a[0]);
    for (std::size_t i = s.size(); i > 1; --i) {
      unsigned char r[4];
      RAND_bytes(r, 4);
      std::size_t j = ((static_cast<std::size_t>(r[0]) << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) % i;
      std::swap(s[i - 1], s[j]);
    }
    return Value::String(s);
  };

  // ------------------------------------------------------------- random
  static const std::string kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  static const std::string kDigits = "0123456789";
  f["randAlphaNum"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("randAlphaNum", 1); return Value::String(RandomFrom(kAlpha + kDigits, IntParam(a[0]))); };
  f["randAlpha"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("randAlpha", 1); return Value::String(RandomFrom(kAlpha, IntParam(a[0]))); };
  f["randNumeric"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("randNumeric", 1); return Value::String(RandomFrom(kDigits, IntParam(a[0]))); };
  f["randAscii"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("randAscii", 1);
    std::string ascii;
    for (char c = 32; c < 127; ++c) ascii += c;
    return Value::String(RandomFrom(ascii, IntParam(a[0])));
  };
  f["randInt"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("randInt", 2);
    std::int64_t lo = IntParam(a[0]), hi = IntParam(a[1]);
    // Go computes rand.Intn(hi-lo)+lo in wrapping int arithmetic.
    std::int64_t span = GoSub(hi, lo);
    if (span <= 0) return Fail("invalid argument to Intn");
    unsigned char r[8];
    RAND_bytes(r, 8);
    std::uint64_t x = 0;
    for (unsigned char b : r) x = (x << 8) | b;
    return Value::Int(lo + static_cast<std::int64_t>(x % static_cast<std::uint64_t>(span)));
  };
  f["uuidv4"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("uuidv4", 0);
    unsigned char b[16];
    RAND_bytes(b, 16);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
      out += kHex[b[i] >> 4];
      out += kHex[b[i] & 0xF];
    }
    return Value::String(out);
  };

  // ------------------------------------------------------- conversions
  f["atoi"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("atoi", 1);
    std::string s = Str(a[0]);
    std::int64_t out = 0;
    std::string_view body = s;
    if (!body.empty() && body[0] == '+') body.remove_prefix(1);
    auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), out);
    if (ec != std::errc() || p != body.data() + body.size()) out = 0;
    return Value::Int(out);
  };
  f["int"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("int", 1); return Value::Int(ToInt64(a[0])); };
  f["int64"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("int64", 1); return Value::Int64(ToInt64(a[0])); };
  f["float64"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("float64", 1); return Value::Float(ToFloat(a[0])); };
  f["toDecimal"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toDecimal", 1);
    std::string s = StrVal(a[0]);
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 8);
    if (ec != std::errc() || p != s.data() + s.size()) out = 0;
    return Value::Int64(out);
  };

  // --------------------------------------------------------------- math
  f["add"] = [](CallContext&, Args& a) -> R {
    std::int64_t sum = 0;
    for (const Value& v : a) sum = GoAdd(sum, ToInt64(v));
    return Value::Int64(sum);
  };
  f["add1"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("add1", 1); return Value::Int64(GoAdd(ToInt64(a[0]), 1)); };
  f["sub"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("sub", 2); return Value::Int64(GoSub(ToInt64(a[0]), ToInt64(a[1]))); };
  f["mul"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("mul", 1);
    std::int64_t p = ToInt64(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) p = GoMul(p, ToInt64(a[i]));
    return Value::Int64(p);
  };
  f["div"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("div", 2);
    std::int64_t d = ToInt64(a[1]);
    if (d == 0) return Fail("runtime error: integer divide by zero");
    return Value::Int64(GoDiv(ToInt64(a[0]), d));
  };
  f["randBytes"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("randBytes", 1);
    std::int64_t n = IntParam(a[0]);
    if (n < 0) return Fail("runtime error: makeslice: len out of range");
    if (n > (1 << 20)) return MakeError(ErrorCode::kLimitExceeded, "randBytes: count too large");
    std::string bytes(static_cast<std::size_t>(n), '\0');
    if (n > 0) RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
    return Value::String(Base64Encode(bytes));
  };
  f["mod"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("mod", 2);
    std::int64_t d = ToInt64(a[1]);
    if (d == 0) return Fail("runtime error: integer divide by zero");
    return Value::Int64(GoRem(ToInt64(a[0]), d));
  };
  f["max"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("max", 1);
    std::int64_t m = ToInt64(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) m = std::max(m, ToInt64(a[i]));
    return Value::Int64(m);
  };
  f["biggest"] = f["max"];
  f["min"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("min", 1);
    std::int64_t m = ToInt64(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) m = std::min(m, ToInt64(a[i]));
    return Value::Int64(m);
  };
  f["addf"] = [](CallContext&, Args& a) -> R { return DecimalFold("addf", Value::Float(0), a, 0, &ExactDecimal::Add); };
  f["add1f"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("add1f", 1);
    Args one{Value::Float(1)};
    return DecimalFold("add1f", a[0], one, 0, &ExactDecimal::Add);
  };
  f["subf"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("subf", 1);
    return DecimalFold("subf", a[0], a, 1, &ExactDecimal::Sub);
  };
  f["mulf"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("mulf", 1);
    return DecimalFold("mulf", a[0], a, 1, &ExactDecimal::Mul);
  };
  f["divf"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("divf", 1);
    auto acc = ExactDecimal::FromDouble(ToFloat(a[0]));
    for (std::size_t i = 1; i < a.size() && acc; ++i) {
      auto x = ExactDecimal::FromDouble(ToFloat(a[i]));
      if (!x) return Fail("divf: operand is not a finite number");
      acc = acc->Div(*x);
      if (!acc) return Fail("decimal division by 0");
    }
    if (!acc) return Fail("divf: operand is not a finite number");
    return Value::Float(acc->ToDouble());
  };
  f["maxf"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("maxf", 1);
    double m = ToFloat(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) m = std::fmax(m, ToFloat(a[i]));
    return Value::Float(m);
  };
  f["minf"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("minf", 1);
    double m = ToFloat(a[0]);
    for (std::size_t i = 1; i < a.size(); ++i) m = std::fmin(m, ToFloat(a[i]));
    return Value::Float(m);
  };
  f["floor"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("floor", 1); return Value::Float(std::floor(ToFloat(a[0]))); };
  f["ceil"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("ceil", 1); return Value::Float(std::ceil(ToFloat(a[0]))); };
  f["round"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("round", 2);
    double x = ToFloat(a[0]);
    double p = std::pow(10.0, static_cast<double>(ToInt64(a[1])));
    double r = a.size() > 2 ? ToFloat(a[2]) : 0.5;
    double digit = x * p;
    double intpart = 0;
    double frac = std::modf(digit, &intpart);
    if (frac >= r) intpart += 1;
    return Value::Float(intpart / p);
  };
  f["until"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("until", 1);
    std::int64_t n = IntParam(a[0]);
    if (n > 1'000'000 || n < -1'000'000) return MakeError(ErrorCode::kLimitExceeded, "until: count too large");
    List out;
    if (n >= 0) {
      for (std::int64_t i = 0; i < n; ++i) out.push_back(Value::Int(i));
    } else {
      for (std::int64_t i = 0; i > n; --i) out.push_back(Value::Int(i));
    }
    return Value::NewList(std::move(out));
  };
  f["untilStep"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("untilStep", 3);
    std::int64_t start = IntParam(a[0]), stop = IntParam(a[1]), step = IntParam(a[2]);
    List out;
    if (step == 0) return Value::NewList();
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i = GoAdd(i, step)) {
      if (out.size() > 1'000'000) return MakeError(ErrorCode::kLimitExceeded, "untilStep: count too large");
      out.push_back(Value::Int(i));
    }
    return Value::NewList(std::move(out));
  };
  f["seq"] = [](CallContext&, Args& a) -> R {
    std::int64_t start = 1, end = 0, step = 1;
    if (a.size() == 1) {
      end = ToInt64(a[0]);
    } else if (a.size() == 2) {
      start = ToInt64(a[0]);
      end = ToInt64(a[1]);
      step = start <= end ? 1 : -1;
    } else if (a.size() == 3) {
      start = ToInt64(a[0]);
      step = ToInt64(a[1]);
      end = ToInt64(a[2]);
    } else {
      return Value::String("");
    }
    std::string out;
    if (step == 0 || (step > 0 && start > end) || (step < 0 && start < end)) return Value::String("");
    for (std::int64_t i = start; step > 0 ? i <= end : i >= end; i = GoAdd(i, step)) {
      if (out.size() > (16u << 20)) return MakeError(ErrorCode::kLimitExceeded, "seq: result too large");
      if (!out.empty()) out += ' ';
      out += std::to_string(i);
    }
    return Value::String(out);
  };

  // ------------------------------------------------------------ defaults
  f["default"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("default", 1);
    if (a.size() < 2 || IsEmpty(a[1])) return a[0];
    return a[1];
  };
  f["empty"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("empty", 1); return Value::Bool(IsEmpty(a[0])); };
  f["coalesce"] = [](CallContext&, Args& a) -> R {
    for (const Value& v : a) {
      if (!IsEmpty(v)) return v;
    }
    return Value();
  };
  f["all"] = [](CallContext&, Args& a) -> R {
    for (const Value& v : a) {
      if (IsEmpty(v)) return Value::Bool(false);
    }
    return Value::Bool(true);
  };
  f["any"] = [](CallContext&, Args& a) -> R {
    for (const Value& v : a) {
      if (!IsEmpty(v)) return Value::Bool(true);
    }
    return Value::Bool(false);
  };
  f["ternary"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("ternary", 3);
    return IsTrue(a[2]) ? a[0] : a[1];
  };
  f["fromJson"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("fromJson", 1);
    auto node = manifest::ParseJson(Str(a[0]), "fromJson");
    if (!node.ok() || !node->IsMapping()) {
      Map m;
      m["Error"] = Value::String(node.ok() ? "json: cannot unmarshal into Go value of type map[string]interface {}"
                                           : node.error().message);
      return Value::NewMap(std::move(m));
    }
    return FromNodeAsJson(*node);
  };
  f["fromJsonArray"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("fromJsonArray", 1);
    auto node = manifest::ParseJson(Str(a[0]), "fromJsonArray");
    if (!node.ok() || !node->IsSequence()) {
      return Value::NewList({Value::String(node.ok() ? "json: cannot unmarshal into Go value of type []interface {}"
                                                     : node.error().message)});
    }
    return FromNodeAsJson(*node);
  };
  f["toJson"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("toJson", 1); return Value::String(ToJsonText(a[0])); };
  f["mustToJson"] = f["toJson"];
  f["toRawJson"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toRawJson", 1);
    std::string s = ToJsonText(a[0]);
    s = ReplaceAll(ReplaceAll(ReplaceAll(s, "\\u003c", "<"), "\\u003e", ">"), "\\u0026", "&");
    return Value::String(s);
  };
  f["toPrettyJson"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toPrettyJson", 1);
    // Indent the compact form; strings are already escaped so structure
    // characters inside them are skipped by tracking quotes.
    std::string in = ToJsonText(a[0]), out;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
      char c = in[i];
      if (quoted) {
        out += c;
        if (c == '\\') out += in[++i];
        else if (c == '"') quoted = false;
        continue;
      }
      switch (c) {
        case '"': quoted = true; out += c; break;
        case '{': case '[':
          if (i + 1 < in.size() && (in[i + 1] == '}' || in[i + 1] == ']')) { out += c; out += in[++i]; break; }
          out += c; out += '\n'; ++depth; out += std::string(static_cast<std::size_t>(depth) * 2, ' '); break;
        case '}': case ']':
          out += '\n'; --depth; out += std::string(static_cast<std::size_t>(depth) * 2, ' '); out += c; break;
        case ',': out += ",\n"; out += std::string(static_cast<std::size_t>(depth) * 2, ' '); break;
        case ':': out += ": "; break;
        default: out += c;
      }
    }
    return Value::String(out);
  };  f["mustToPrettyJson"] = f["toPrettyJson"];
  f["mustToRawJson"] = f["toRawJson"];
  f["mustFromJson"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("mustFromJson", 1);
    auto node = manifest::ParseJson(Str(a[0]), "mustFromJson");
    if (!node.ok()) return Fail(node.error().message);
    return FromNodeAsJson(*node);
  };


  // --------------------------------------------------------------- lists
  f["list"] = [](CallContext&, Args& a) -> R { return Value::NewList(List(a.begin(), a.end())); };
  f["tuple"] = f["list"];
  auto push = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("append", 2);
    auto l = ListArg("push", a[0]);
    if (!l.ok()) return std::move(l).error();
    List out = **l;
    out.push_back(a[1]);
    return Value::NewList(std::move(out));
  };
  f["append"] = push;
  f["push"] = push;
  f["mustAppend"] = push;
  f["mustPush"] = push;
  f["prepend"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("prepend", 2);
    auto l = ListArg("prepend", a[0]);
    if (!l.ok()) return std::move(l).error();
    List out;
    out.push_back(a[1]);
    out.insert(out.end(), (*l)->begin(), (*l)->end());
    return Value::NewList(std::move(out));
  };
  f["mustPrepend"] = f["prepend"];
  f["first"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("first", 1);
    auto l = ListArg("find first", a[0]);
    if (!l.ok()) return std::move(l).error();
    return (*l)->empty() ? Value() : (*l)->front();
  };
  f["mustFirst"] = f["first"];
  f["last"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("last", 1);
    auto l = ListArg("find last", a[0]);
    if (!l.ok()) return std::move(l).error();
    return (*l)->empty() ? Value() : (*l)->back();
  };
  f["mustLast"] = f["last"];
  f["rest"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("rest", 1);
    auto l = ListArg("find rest", a[0]);
    if (!l.ok()) return std::move(l).error();
    if ((*l)->empty()) return Value();
    return Value::NewList(List((*l)->begin() + 1, (*l)->end()));
  };
  f["mustRest"] = f["rest"];
  f["initial"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("initial", 1);
    auto l = ListArg("find initial", a[0]);
    if (!l.ok()) return std::move(l).error();
    if ((*l)->empty()) return Value();
    return Value::NewList(List((*l)->begin(), (*l)->end() - 1));
  };
  f["mustInitial"] = f["initial"];
  f["reverse"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("reverse", 1);
    auto l = ListArg("find reverse", a[0]);
    if (!l.ok()) return std::move(l).error();
    return Value::NewList(List((*l)->rbegin(), (*l)->rend()));
  };
  f["mustReverse"] = f["reverse"];
  f["uniq"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("uniq", 1);
    auto l = ListArg("find uniq", a[0]);
    if (!l.ok()) return std::move(l).error();
    List out;
    for (const Value& v : **l) {
      bool seen = false;
      for (const Value& o : out) seen = seen || DeepEqual(o, v);
      if (!seen) out.push_back(v);
    }
    return Value::NewList(std::move(out));
  };
  f["mustUniq"] = f["uniq"];
  f["compact"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("compact", 1);
    auto l = ListArg("compact", a[0]);
    if (!l.ok()) return std::move(l).error();
    List out;
    for (const Value& v : **l) {
      if (!IsEmpty(v)) out.push_back(v);
    }
    return Value::NewList(std::move(out));
  };
  f["mustCompact"] = f["compact"];
  f["without"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("without", 1);
    auto l = ListArg("find without", a[0]);
    if (!l.ok()) return std::move(l).error();
    List out;
    for (const Value& v : **l) {
      bool drop = false;
      for (std::size_t i = 1; i < a.size(); ++i) drop = drop || DeepEqual(v, a[i]);
      if (!drop) out.push_back(v);
    }
    return Value::NewList(std::move(out));
  };
  f["mustWithout"] = f["without"];
  f["has"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("has", 2);
    if (a[1].IsNil()) return Value::Bool(false);
    auto l = ListArg("find has", a[1]);
    if (!l.ok()) return std::move(l).error();
    for (const Value& v : **l) {
      if (DeepEqual(v, a[0])) return Value::Bool(true);
    }
    return Value::Bool(false);
  };
  f["mustHas"] = f["has"];
  f["concat"] = [](CallContext&, Args& a) -> R {
    List out;
    for (const Value& v : a) {
      if (!v.IsList()) return Fail("Cannot concat type " + v.TypeName() + " as list");
      out.insert(out.end(), v.AsList().begin(), v.AsList().end());
    }
    return Value::NewList(std::move(out));
  };
  f["slice"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("slice", 1);
    auto l = ListArg("slice", a[0]);
    if (!l.ok()) return std::move(l).error();
    auto n = static_cast<std::int64_t>((*l)->size());
    std::int64_t lo = a.size() > 1 ? ToInt64(a[1]) : 0;
    std::int64_t hi = a.size() > 2 ? ToInt64(a[2]) : n;
    if (lo < 0 || hi > n || lo > hi) return Fail("slice bounds out of range");
    return Value::NewList(List((*l)->begin() + lo, (*l)->begin() + hi));
  };
  f["mustSlice"] = f["slice"];
  f["chunk"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("chunk", 2);
    std::int64_t size = IntParam(a[0]);
    auto l = ListArg("chunk", a[1]);
    if (!l.ok()) return std::move(l).error();
    if (size <= 0) return Fail("chunk size must be positive");
    List out;
    for (std::size_t i = 0; i < (*l)->size(); i += static_cast<std::size_t>(size)) {
      std::size_t end = std::min((*l)->size(), i + static_cast<std::size_t>(size));
      out.push_back(Value::NewList(List((*l)->begin() + static_cast<std::ptrdiff_t>(i), (*l)->begin() + static_cast<std::ptrdiff_t>(end))));
    }
    return Value::NewList(std::move(out));
  };

  f["mustChunk"] = f["chunk"];

  // --------------------------------------------------------------- dicts
  f["dict"] = [](CallContext&, Args& a) -> R {
    Map m;
    for (std::size_t i = 0; i < a.size(); i += 2) {
      m.insert_or_assign(StrVal(a[i]), i + 1 < a.size() ? a[i + 1] : Value::String(""));
    }
    return Value::NewMap(std::move(m));
  };
  f["get"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("get", 2);
    auto m = MapArg("get", a[0]);
    if (!m.ok()) return std::move(m).error();
    auto it = (*m)->find(Str(a[1]));
    return it == (*m)->end() ? Value::String("") : it->second;
  };
  f["set"] = [](CallContext& ctx, Args& a) -> R {
    KEELSON_ARITY("set", 3);
    auto m = MapArg("set", a[0]);
    if (!m.ok()) return std::move(m).error();
    ctx.executor.NoteWrite(a[0]);
    (**m).insert_or_assign(Str(a[1]), a[2]);
    return a[0];
  };
  f["unset"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("unset", 2);
    auto m = MapArg("unset", a[0]);
    if (!m.ok()) return std::move(m).error();
    (**m).erase(Str(a[1]));
    return a[0];
  };
  f["hasKey"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("hasKey", 2);
    auto m = MapArg("hasKey", a[0]);
    if (!m.ok()) return std::move(m).error();
    return Value::Bool((*m)->count(Str(a[1])) > 0);
  };
  f["pluck"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("pluck", 1);
    std::string key = Str(a[0]);
    List out;
    for (std::size_t i = 1; i < a.size(); ++i) {
      auto m = MapArg("pluck", a[i]);
      if (!m.ok()) return std::move(m).error();
      auto it = (*m)->find(key);
      if (it != (*m)->end()) out.push_back(it->second);
    }
    return Value::NewList(std::move(out));
  };
  f["keys"] = [](CallContext&, Args& a) -> R {
    std::vector<std::string> out;
    for (const Value& v : a) {
      auto m = MapArg("keys", v);
      if (!m.ok()) return std::move(m).error();
      for (const auto& [k, item] : **m) out.push_back(k);
    }
    return StringList(out);
  };
  f["values"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("values", 1);
    auto m = MapArg("values", a[0]);
    if (!m.ok()) return std::move(m).error();
    List out;
    for (const auto& [k, item] : **m) out.push_back(item);
    return Value::NewList(std::move(out));
  };
  f["pick"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("pick", 1);
    auto m = MapArg("pick", a[0]);
    if (!m.ok()) return std::move(m).error();
    Map out;
    for (std::size_t i = 1; i < a.size(); ++i) {
      auto it = (*m)->find(Str(a[i]));
      if (it != (*m)->end()) out.insert_or_assign(it->first, it->second);
    }
    return Value::NewMap(std::move(out));
  };
  f["omit"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("omit", 1);
    auto m = MapArg("omit", a[0]);
    if (!m.ok()) return std::move(m).error();
    Map out;
    for (const auto& [k, v] : **m) {
      bool drop = false;
      for (std::size_t i = 1; i < a.size(); ++i) drop = drop || Str(a[i]) == k;
      if (!drop) out.insert_or_assign(k, v);
    }
    return Value::NewMap(std::move(out));
  };
  f["dig"] = [](CallContext&, Args& a) -> R {
    KEELSON_ATLEAST("dig", 3);
    const Value& dict = a.back();
    const Value& dflt = a[a.size() - 2];
    Value cur = dict;
    for (std::size_t i = 0; i + 2 < a.size(); ++i) {
      if (!cur.IsMap()) return Fail("dig: value is not a map");
      auto it = cur.AsMap().find(Str(a[i]));
      if (it == cur.AsMap().end()) return dflt;
      cur = it->second;
    }
    return cur;
  };
  auto merge = [](bool overwrite) {
    return [overwrite](CallContext& ctx, Args& a) -> R {
      KEELSON_ATLEAST("merge", 1);
      auto dst = MapArg("merge", a[0]);
      if (!dst.ok()) return std::move(dst).error();
      ctx.executor.NoteWrite(a[0]);
      for (std::size_t i = 1; i < a.size(); ++i) {
        if (a[i].IsNil()) continue;
        auto src = MapArg("merge", a[i]);
        if (!src.ok()) return std::move(src).error();
        MergeMaps(**dst, **src, overwrite, 0);
      }
      return a[0];
    };
  };
  f["merge"] = merge(false);
  f["mustMerge"] = merge(false);
  f["mergeOverwrite"] = merge(true);
  f["mustMergeOverwrite"] = merge(true);
  f["deepCopy"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("deepCopy", 1); return DeepCopy(a[0]); };
  f["mustDeepCopy"] = f["deepCopy"];

  // ---------------------------------------------------------------- types
  f["typeOf"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("typeOf", 1); return Value::String(a[0].TypeName()); };
  f["typeIs"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("typeIs", 2); return Value::Bool(Str(a[0]) == a[1].TypeName()); };
  f["typeIsLike"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("typeIsLike", 2);
    std::string t = a[1].TypeName();
    return Value::Bool(Str(a[0]) == t || "*" + Str(a[0]) == t);
  };
  f["kindOf"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("kindOf", 1); return Value::String(a[0].KindName()); };
  f["kindIs"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("kindIs", 2); return Value::Bool(Str(a[0]) == a[1].KindName()); };
  f["deepEqual"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("deepEqual", 2); return Value::Bool(DeepEqual(a[0], a[1])); };

  // ------------------------------------------------------------ encodings
  f["b64enc"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("b64enc", 1); return Value::String(Base64Encode(Str(a[0]))); };
  f["b64dec"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("b64dec", 1);
    auto r = Base64Decode(Str(a[0]));
    return Value::String(r.ok() ? *r : r.error().message);
  };
  f["b32enc"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("b32enc", 1); return Value::String(Base32Encode(Str(a[0]))); };
  f["b32dec"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("b32dec", 1);
    auto r = Base32Decode(Str(a[0]));
    return Value::String(r.ok() ? *r : r.error().message);
  };
  f["sha256sum"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("sha256sum", 1); return Value::String(Digest(HashKind::kSha256, Str(a[0]))); };
  f["sha1sum"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("sha1sum", 1); return Value::String(Digest(HashKind::kSha1, Str(a[0]))); };
  f["sha512sum"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("sha512sum", 1); return Value::String(Digest(HashKind::kSha512, Str(a[0]))); };
  f["adler32sum"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("adler32sum", 1);
    std::uint32_t s1 = 1, s2 = 0;
    for (unsigned char c : Str(a[0])) {
      s1 = (s1 + c) % 65521;
      s2 = (s2 + s1) % 65521;
    }
    return Value::String(std::to_string((s2 << 16) | s1));
  };

  // --------------------------------------------------------------- regex
  auto regex_match = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("regexMatch", 2);
    auto re = CompileRegex(Str(a[0]));
    if (!re.ok()) return std::move(re).error();
    return Value::Bool(re2::RE2::PartialMatch(Str(a[1]), **re));
  };
  f["regexMatch"] = regex_match;
  f["mustRegexMatch"] = regex_match;
  auto regex_find = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("regexFind", 2);
    auto re = CompileRegex(Str(a[0]));
    if (!re.ok()) return std::move(re).error();
    std::string s = Str(a[1]);
    auto m = AllMatches(**re, s, 1);
    if (m.empty()) return Value::String("");
    return Value::String(s.substr(static_cast<std::size_t>(m[0][0]), static_cast<std::size_t>(m[0][1] - m[0][0])));
  };
  f["regexFind"] = regex_find;
  f["mustRegexFind"] = regex_find;
  auto regex_find_all = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("regexFindAll", 3);
    auto re = CompileRegex(Str(a[0]));
    if (!re.ok()) return std::move(re).error();
    std::string s = Str(a[1]);
    std::vector<std::string> out;
    for (const auto& m : AllMatches(**re, s, IntParam(a[2]))) {
      out.push_back(s.substr(static_cast<std::size_t>(m[0]), static_cast<std::size_t>(m[1] - m[0])));
    }
    return StringList(out);
  };
  f["regexFindAll"] = regex_find_all;
  f["mustRegexFindAll"] = regex_find_all;
  auto regex_replace = [](bool literal) {
    return [literal](CallContext&, Args& a) -> R {
      KEELSON_ARITY("regexReplaceAll", 3);
      auto re = CompileRegex(Str(a[0]));
      if (!re.ok()) return std::move(re).error();
      return Value::String(RegexReplace(**re, Str(a[1]), Str(a[2]), literal));
    };
  };
  f["regexReplaceAll"] = regex_replace(false);
  f["mustRegexReplaceAll"] = regex_replace(false);
  f["regexReplaceAllLiteral"] = regex_replace(true);
  f["mustRegexReplaceAllLiteral"] = regex_replace(true);
  auto regex_split = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("regexSplit", 3);
    auto re = CompileRegex(Str(a[0]));
    if (!re.ok()) return std::move(re).error();
    std::string s = Str(a[1]);
    std::int64_t n = IntParam(a[2]);
    std::vector<std::string> out;
    if (n == 0) return StringList(out);
    if (!Str(a[0]).empty() && s.empty()) return StringList({""});
    std::size_t beg = 0, end = 0;
    for (const auto& m : AllMatches(**re, s, n)) {
      if (n > 0 && static_cast<std::int64_t>(out.size()) == n - 1) break;
      end = static_cast<std::size_t>(m[0]);
      if (m[1] != 0) out.push_back(s.substr(beg, end - beg));
      beg = static_cast<std::size_t>(m[1]);
    }
    if (end != s.size()) out.push_back(s.substr(beg));
    return StringList(out);
  };
  f["regexSplit"] = regex_split;
  f["mustRegexSplit"] = regex_split;
  f["regexQuoteMeta"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("regexQuoteMeta", 1);
    std::string out;
    for (char c : Str(a[0])) {
      if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
    return Value::String(out);
  };

  // -------------------------------------------------------------- semver
  f["semverCompare"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("semverCompare", 2);
    auto v = ParseSemVersion(Str(a[1]));
    if (!v.ok()) return std::move(v).error();
    auto ok = SemVerSatisfies(Str(a[0]), *v);
    if (!ok.ok()) return std::move(ok).error();
    return Value::Bool(*ok);
  };
  f["semver"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("semver", 1);
    auto v = ParseSemVersion(Str(a[0]));
    if (!v.ok()) return std::move(v).error();
    return SemverObject(*v);
  };

  // ---------------------------------------------------------------- paths
  f["base"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("base", 1);
    std::string s = Str(a[0]);
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    if (s.empty()) return Value::String(".");
    std::size_t p = s.rfind('/');
    return Value::String(p == std::string::npos || s == "/" ? s : s.substr(p + 1));
  };
  f["dir"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("dir", 1);
    std::string s = Str(a[0]);
    std::size_t p = s.rfind('/');
    return Value::String(CleanPath(p == std::string::npos ? "" : std::string_view(s).substr(0, p + 1)));
  };
  f["ext"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("ext", 1);
    std::string s = Str(a[0]);
    for (std::size_t i = s.size(); i > 0; --i) {
      if (s[i - 1] == '/') break;
      if (s[i - 1] == '.') return Value::String(s.substr(i - 1));
    }
    return Value::String("");
  };
  f["isAbs"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("isAbs", 1); return Value::Bool(Str(a[0]).starts_with("/")); };
  f["clean"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("clean", 1); return Value::String(CleanPath(Str(a[0]))); };
  // Go's path/filepath on Linux is its path package.
  f["osBase"] = f["base"];
  f["osClean"] = f["clean"];
  f["osDir"] = f["dir"];
  f["osExt"] = f["ext"];
  f["osIsAbs"] = f["isAbs"];
  f["hello"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("hello", 0); return Value::String("Hello!"); };

  // ----------------------------------------------------------------- helm
  f["toYaml"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("toYaml", 1); return Value::String(ToYamlText(a[0])); };
  f["mustToYaml"] = f["toYaml"];
  f["toToml"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toToml", 1);
    auto text = ToTomlText(a[0]);
    // Helm prints the encoder's error in place of the document.
    return Value::String(text.ok() ? *text : text.error().message);
  };
  f["toYamlPretty"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("toYamlPretty", 1);
    return Value::String(ToYamlPrettyText(a[0]));
  };
  f["fromYaml"] = [](CallContext&, Args& a) -> R { KEELSON_ARITY("fromYaml", 1); return FromYamlValue(Str(a[0])); };
  f["fromYamlArray"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("fromYamlArray", 1);
    auto node = ParseFirstYamlDocument(Str(a[0]), "fromYamlArray");
    if (!node.ok()) return Value::NewList({Value::String("error converting YAML to JSON: yaml: " + node.error().message)});
    if (node->IsNull()) return Value::NewList();
    if (!node->IsSequence()) {
      return Value::NewList({Value::String("error unmarshaling JSON: json: cannot unmarshal object into Go value of type []interface {}")});
    }
    if (Status s = CheckJsonFloats(*node, "fromYamlArray"); !s) return Value::NewList({Value::String(s.error().message)});
    return FromNodeAsJson(*node);
  };
  f["required"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("required", 2);
    if (a[1].IsNil() || (a[1].IsString() && a[1].AsString().empty())) return Fail(Str(a[0]));
    return a[1];
  };
  f["fail"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("fail", 1);
    return Fail(Str(a[0]));
  };
  f["lookup"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("lookup", 4);
    return Value::NewMap();
  };
  f["getHostByName"] = [](CallContext&, Args& a) -> R {
    KEELSON_ARITY("getHostByName", 1);
    return Value::String("");
  };
  f["include"] = [](CallContext& ctx, Args& a) -> R {
    KEELSON_ARITY("include", 2);
    if (!a[0].IsString()) return Fail("wrong type for value; expected string; got " + a[0].TypeName());
    const TemplateSet* set = ctx.executor.current_set();
    if (set == nullptr || set->Find(a[0].AsString()) == nullptr) {
      return Fail("template: no template \"" + a[0].AsString() + "\" associated with template \"gotpl\"");
    }
    auto out = ctx.executor.Execute(*set, a[0].AsString(), a[1]);
    if (!out.ok()) return std::move(out).error();
    return Value::String(std::move(out).value());
  };
  f["tpl"] = [](CallContext& ctx, Args& a) -> R {
    KEELSON_ARITY("tpl", 2);
    std::string text = Str(a[0]);
    auto& cache = ctx.executor.tpl_cache();
    auto it = cache.find(text);
    if (it == cache.end()) {
      auto trees = TemplateSet::ParseTrees("gotpl", text, ctx.executor.functions(), ctx.executor.limits());
      if (!trees.ok()) {
        Error e = std::move(trees).error();
        return Fail("cannot parse template \"" + text + "\": " + e.ToString());
      }
      if (cache.size() > 10000) cache.clear();
      it = cache.emplace(text, std::move(trees).value()).first;
    }
    const TemplateSet* parent = ctx.executor.current_set();
    TemplateSet overlay(parent);
    for (const auto& [name, tree] : it->second) overlay.Add(name, tree);
    TreePtr main = it->second.front().second;  // keeps the tree alive if the cache is cleared
    auto out = ctx.executor.ExecuteTree(overlay, *main, a[1]);
    if (!out.ok()) return std::move(out).error();
    std::string s = std::move(out).value();
    return Value::String(ReplaceAll(s, "<no value>", ""));
  };
  return table;
}

}  // namespace keelson::helm
