// Node → YAML in go-yaml v2's block style. The scalar style rules and the
// folding at column 80 follow that emitter's documented behaviour so that
// output compares byte for byte with `kubectl kustomize` and Helm's toYaml.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "renderers/manifest/yaml.h"

namespace keelson::manifest {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (1 for invalid
// bytes) and stores the code point.
int DecodeUtf8(std::string_view s, std::size_t i, char32_t* cp) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + static_cast<std::size_t>(len) > s.size()) len = 1;
  if (len == 1) {
    *cp = b;
    return 1;
  }
  char32_t v = b & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((c & 0xC0) != 0x80) {
      *cp = b;
      return 1;
    }
    v = (v << 6) | (c & 0x3F);
  }
  *cp = v;
  return len;
}

bool ValidUtf8Impl(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    int len = DecodeUtf8(s, i, &cp);
    if (len == 1) return false;
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += static_cast<std::size_t>(len);
  }
  return true;
}

bool IsBreakCp(char32_t c) { return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool IsSpaceCp(char32_t c) { return c == ' '; }
bool IsBlankzCp(char32_t c) { return c == ' ' || c == '\t' || IsBreakCp(c) || c == 0; }

// go-yaml's is_printable: note that TAB, CR and every 4-byte sequence are
// not "printable" there, so such strings are double-quoted and escaped.
bool IsPrintableCp(char32_t c, int len) {
  if (c == 0x0A) return true;
  if (c >= 0x20 && c <= 0x7E) return true;
  if (len == 2) return c >= 0xA0;
  if (len == 3) return c != 0xFEFF && c != 0xFFFE && c != 0xFFFF && !(c >= 0xD800 && c <= 0xDFFF);
  return false;
}

bool IsBase60Float(std::string_view s) {
  // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  ++i;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) ++i;
  int groups = 0;
  while (i < s.size() && s[i] == ':') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 2) ++i;
    std::size_t n = i - start;
    if (n == 0) return false;
    if (n == 2 && s[start] > '5') return false;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) ++i;
  }
  return i == s.size();
}

// go-yaml v2 resolves plain scalars that look like dates as timestamps, so
// such strings must be quoted. Layouts: 2006-1-2, with an optional time part.
bool LooksLikeTimestamp(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i != 4 || i == s.size() || s[i] != '-') return false;
  auto number = [&](int max_digits, int lo, int hi) {
    std::size_t start = i;
    int v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && static_cast<int>(i - start) < max_digits) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    return i > start && v >= lo && v <= hi;
  };
  ++i;
  if (!number(2, 1, 12) || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!number(2, 1, 31)) return false;
  if (i == s.size()) return true;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
  ++i;
  if (!number(2, 0, 24) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!number(2, 0, 59) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!number(2, 0, 60)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z' && i + 1 == s.size()) return true;
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  if (!number(2, 0, 23) || i >= s.size() || s[i] != ':') return false;
  ++i;
  return number(2, 0, 59) && i == s.size();
}

// Whether go-yaml v2 may write the string unquoted as far as typing goes.
bool ResolvesToString(std::string_view s) {
  if (s.empty()) return false;
  if (ResolvePlainScalar(s, Schema::kYaml11).IsString() == false) return false;
  if (s == "<<") return true;
  if (IsBase60Float(s)) return false;
  char c = s[0];
  if ((c >= '0' && c <= '9') && LooksLikeTimestamp(s)) return false;
  return true;
}

enum class Style { kPlain, kSingle, kDouble, kLiteral };

struct Analysis {
  bool multiline = false;
  bool flow_plain_allowed = true;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
  bool block_allowed = true;
};

Analysis AnalyzeScalar(std::string_view value) {
  Analysis a;
  if (value.empty()) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = true;
    a.single_quoted_allowed = true;
    a.block_allowed = false;
    return a;
  }
  bool block_indicators = false, flow_indicators = false, line_breaks = false, special_characters = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false, previous_space = false, previous_break = false;
  if (value.starts_with("---") || value.starts_with("...")) {
    block_indicators = true;
    flow_indicators = true;
  }
  bool preceded_by_whitespace = true;
  for (std::size_t i = 0; i < value.size();) {
    char32_t c = 0;
    int w = DecodeUtf8(value, i, &c);
    std::size_t next = i + static_cast<std::size_t>(w);
    char32_t nc = 0;
    if (next < value.size()) DecodeUtf8(value, next, &nc);
    bool followed_by_whitespace = next >= value.size() || IsBlankzCp(nc);
    if (i == 0) {
      switch (c) {
        case '#': case ',': case '[': case ']': case '{': case '}': case '&': case '*':
        case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
          flow_indicators = true;
          block_indicators = true;
          break;
        case '?': case ':':
          flow_indicators = true;
          if (followed_by_whitespace) block_indicators = true;
          break;
        case '-':
          if (followed_by_whitespace) {
            flow_indicators = true;
            block_indicators = true;
          }
          break;
        default:
          break;
      }
    } else {
      switch (c) {
        case ',': case '?': case '[': case ']': case '{': case '}':
          flow_indicators = true;
          break;
        case ':':
          flow_indicators = true;
          if (followed_by_whitespace) block_indicators = true;
          break;
        case '#':
          if (preceded_by_whitespace) {
            flow_indicators = true;
            block_indicators = true;
          }
          break;
        default:
          break;
      }
    }
    if (!IsPrintableCp(c, w)) special_characters = true;
    if (IsSpaceCp(c)) {
      if (i == 0) leading_space = true;
      if (next == value.size()) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (IsBreakCp(c)) {
      line_breaks = true;
      if (i == 0) leading_break = true;
      if (next == value.size()) trailing_break = true;
      if (previous_space) space_break = true;
      previous_space = false;
      previous_break = true;
    } else {
      previous_space = false;
      previous_break = false;
    }
    preceded_by_whitespace = IsBlankzCp(c);
    i = next;
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
  }
  if (trailing_space) a.block_allowed = false;
  if (break_space) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
  }
  if (space_break || special_characters) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
    a.block_allowed = false;
  }
  if (line_breaks) {
    a.flow_plain_allowed = false;
    a.block_plain_allowed = false;
  }
  if (flow_indicators) a.flow_plain_allowed = false;
  if (block_indicators) a.block_plain_allowed = false;
  return a;
}

Style ChooseStyle(std::string_view value, bool simple_key) {
  Style style;
  if (value.find('\n') != std::string_view::npos) {
    style = Style::kLiteral;
  } else if (ResolvesToString(value)) {
    style = Style::kPlain;
  } else {
    style = Style::kDouble;
  }
  Analysis a = AnalyzeScalar(value);
  if (simple_key && a.multiline) return Style::kDouble;
  if (style == Style::kPlain) {
    if (!a.block_plain_allowed) style = Style::kSingle;
    if (value.empty() && simple_key) style = Style::kSingle;
  }
  if (style == Style::kSingle && !a.single_quoted_allowed) style = Style::kDouble;
  if (style == Style::kLiteral && (!a.block_allowed || simple_key)) style = Style::kDouble;
  return style;
}

class Writer {
 public:
  explicit Writer(const EmitOptions& options) : options_(options) {}

  std::string Take() { return std::move(out_); }

  void Document(const Node& node) {
    if (node.IsMapping() && !node.empty()) {
      Mapping(node, 0);
    } else if (node.IsSequence() && !node.empty()) {
      Sequence(node, 0);
    } else {
      ScalarOrEmpty(node, 2, false);
    }
    if (column_ != 0) Break();
  }

 private:
  void Put(char c) {
    out_ += c;
    ++column_;
    whitespace_ = c == ' ';
  }
  void PutStr(std::string_view s) {
    for (char c : s) Put(c);
  }
  // Copies one (possibly multi-byte) character; the column counts characters.
  void PutChar(std::string_view s, std::size_t i, int width) {
    out_.append(s.substr(i, static_cast<std::size_t>(width)));
    ++column_;
    whitespace_ = false;
  }
  void Break() {
    out_ += '\n';
    column_ = 0;
    whitespace_ = true;
    indention_ = true;
  }
  void Indent(int indent) {
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) Break();
    while (column_ < indent) Put(' ');
    whitespace_ = true;
    indention_ = true;
  }
  void Indicator(std::string_view indicator, bool need_whitespace) {
    if (need_whitespace && !whitespace_) Put(' ');
    PutStr(indicator);
    whitespace_ = false;
    indention_ = false;
  }

  std::vector<const Node::Entry*> Ordered(const Node& map) const {
    std::vector<const Node::Entry*> entries;
    entries.reserve(map.entries().size());
    for (const Node::Entry& e : map.entries()) entries.push_back(&e);
    if (options_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(), [](const Node::Entry* a, const Node::Entry* b) {
        return GoYamlKeyLess(a->key, b->key);
      });
    }
    return entries;
  }

  // Block mapping whose keys sit at column `indent`. The first key may
  // follow a "- " on the current line.
  void Mapping(const Node& map, int indent) {
    for (const Node::Entry* e : Ordered(map)) {
      Indent(indent);
      // go-yaml writes keys over 128 bytes or spanning lines as complex
      // keys: "? key" on one line, ": value" on the next.
      bool simple = e->key.size() <= 128 && e->key.find_first_of("\r\n") == std::string::npos &&
                    e->key.find("\xC2\x85") == std::string::npos &&
                    e->key.find("\xE2\x80\xA8") == std::string::npos &&
                    e->key.find("\xE2\x80\xA9") == std::string::npos;
      if (simple) {
        Scalar(e->key, indent + 2, /*simple_key=*/true);
        Indicator(":", false);
      } else {
        Indicator("?", true);
        Scalar(e->key, indent + 2, /*simple_key=*/false);
        Indent(indent);
        Indicator(":", true);
      }
      Value(e->value, indent, /*in_mapping=*/true);
    }
  }

  void Sequence(const Node& seq, int indent) {
    for (const Node& item : seq.items()) {
      Indent(indent);
      Indicator("-", true);
      Value(item, indent + 2, /*in_mapping=*/false);
    }
  }

  // A value after "key:" (mapping at `indent`) or after "-" (content column
  // `indent`).
  void Value(const Node& v, int indent, bool in_mapping) {
    if (v.IsMapping() && !v.empty()) {
      if (in_mapping) {
        Mapping(v, indent + 2);
      } else {
        indention_ = true;  // the first key stays on the dash line
        Mapping(v, indent);
      }
    } else if (v.IsSequence() && !v.empty()) {
      if (in_mapping) {
        // go-yaml v2 does not indent sequences under their key.
        Sequence(v, options_.indent_sequences ? indent + 2 : indent);
      } else {
        indention_ = true;
        Sequence(v, indent);
      }
    } else {
      ScalarOrEmpty(v, in_mapping ? indent + 2 : indent, false);
    }
  }

  void ScalarOrEmpty(const Node& v, int indent, bool simple_key) {
    switch (v.type()) {
      case Node::Type::kMapping:
        Indicator("{}", true);
        return;
      case Node::Type::kSequence:
        Indicator("[]", true);
        return;
      case Node::Type::kNull:
        Indicator("null", true);
        return;
      case Node::Type::kBool:
        Indicator(v.AsBool() ? "true" : "false", true);
        return;
      case Node::Type::kInt:
        Indicator(std::to_string(v.AsInt()), true);
        return;
      case Node::Type::kFloat: {
        double f = v.AsFloat();
        std::optional<std::int64_t> i = options_.floats_through_json ? GoJsonRoundTripInt(f) : std::nullopt;
        std::optional<std::uint64_t> u = options_.floats_through_json && !i ? GoJsonRoundTripUint(f) : std::nullopt;
        std::string s = i                ? std::to_string(*i)
                        : u              ? std::to_string(*u)
                        : std::isnan(f)  ? ".nan"
                        : std::isinf(f)  ? (f > 0 ? ".inf" : "-.inf")
                                         : FormatGoFloat(f);
        Indicator(s, true);
        return;
      }
      case Node::Type::kString:
        Scalar(v.AsString(), indent, simple_key);
        return;
    }
  }

  void Scalar(const std::string& value, int indent, bool simple_key) {
    if (!ValidUtf8Impl(value)) {
      // go-yaml writes invalid UTF-8 as base64 under a !!binary tag.
      Indicator("!!binary", true);
      Plain(Base64(value), indent, !simple_key);
      return;
    }
    switch (ChooseStyle(value, simple_key)) {
      case Style::kPlain:
        if (value.empty()) return;  // only reachable for keys, which go single
        Plain(value, indent, !simple_key);
        return;
      case Style::kSingle:
        SingleQuoted(value, indent, !simple_key);
        return;
      case Style::kDouble:
        DoubleQuoted(value, indent, !simple_key);
        return;
      case Style::kLiteral:
        Literal(value, indent);
        return;
    }
  }

  void Plain(std::string_view value, int indent, bool allow_breaks) {
    if (!whitespace_) Put(' ');
    bool spaces = false;
    for (std::size_t i = 0; i < value.size();) {
      char32_t c = 0;
      int w = DecodeUtf8(value, i, &c);
      if (c == ' ') {
        bool next_space = i + 1 < value.size() && value[i + 1] == ' ';
        if (allow_breaks && !spaces && column_ > options_.width && !next_space) {
          Indent(indent);
        } else {
          Put(' ');
        }
        spaces = true;
      } else {
        PutChar(value, i, w);
        spaces = false;
      }
      i += static_cast<std::size_t>(w);
    }
    whitespace_ = false;
    indention_ = false;
  }

  void SingleQuoted(std::string_view value, int indent, bool allow_breaks) {
    Indicator("'", true);
    bool spaces = false;
    for (std::size_t i = 0; i < value.size();) {
      char32_t c = 0;
      int w = DecodeUtf8(value, i, &c);
      if (c == ' ') {
        bool next_space = i + 1 < value.size() && value[i + 1] == ' ';
        if (allow_breaks && !spaces && column_ > options_.width && i != 0 && i != value.size() - 1 &&
            !next_space) {
          Indent(indent);
        } else {
          Put(' ');
        }
        spaces = true;
      } else {
        if (c == '\'') Put('\'');
        PutChar(value, i, w);
        spaces = false;
      }
      i += static_cast<std::size_t>(w);
    }
    Indicator("'", false);
  }

  void DoubleQuoted(std::string_view value, int indent, bool allow_breaks) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    Indicator("\"", true);
    bool spaces = false;
    for (std::size_t i = 0; i < value.size();) {
      char32_t c = 0;
      int w = DecodeUtf8(value, i, &c);
      if (!IsPrintableCp(c, w) || c == 0xFEFF || IsBreakCp(c) || c == '"' || c == '\\') {
        Put('\\');
        switch (c) {
          case 0x00: Put('0'); break;
          case 0x07: Put('a'); break;
          case 0x08: Put('b'); break;
          case 0x09: Put('t'); break;
          case 0x0A: Put('n'); break;
          case 0x0B: Put('v'); break;
          case 0x0C: Put('f'); break;
          case 0x0D: Put('r'); break;
          case 0x1B: Put('e'); break;
          case 0x22: Put('"'); break;
          case 0x5C: Put('\\'); break;
          case 0x85: Put('N'); break;
          case 0xA0: Put('_'); break;
          case 0x2028: Put('L'); break;
          case 0x2029: Put('P'); break;
          default: {
            int digits;
            if (c <= 0xFF) {
              Put('x');
              digits = 2;
            } else if (c <= 0xFFFF) {
              Put('u');
              digits = 4;
            } else {
              Put('U');
              digits = 8;
            }
            for (int k = (digits - 1) * 4; k >= 0; k -= 4) Put(kHex[(c >> k) & 0xF]);
          }
        }
        spaces = false;
      } else if (c == ' ') {
        if (allow_breaks && !spaces && column_ > options_.width && i != 0 && i != value.size() - 1) {
          Indent(indent);
          if (i + 1 < value.size() && value[i + 1] == ' ') Put('\\');
        } else {
          Put(' ');
        }
        spaces = true;
      } else {
        PutChar(value, i, w);
        spaces = false;
      }
      i += static_cast<std::size_t>(w);
    }
    Indicator("\"", false);
  }

  void Literal(std::string_view value, int indent) {
    Indicator("|", true);
    if (value[0] == ' ' || value[0] == '\n') PutStr("2");
    std::size_t last = value.size() - 1;
    if (value[last] != '\n') {
      PutStr("-");
    } else if (last == 0 || value[last - 1] == '\n') {
      PutStr("+");
    }
    Break();
    bool breaks = true;
    for (std::size_t i = 0; i < value.size();) {
      char32_t c = 0;
      int w = DecodeUtf8(value, i, &c);
      if (c == '\n') {
        Break();
        breaks = true;
      } else {
        if (breaks) {
          Indent(indent);
          breaks = false;
        }
        PutChar(value, i, w);
      }
      i += static_cast<std::size_t>(w);
    }
    indention_ = breaks;
    whitespace_ = breaks;
  }

  static std::string Base64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    while (i + 2 < in.size()) {
      std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                        static_cast<unsigned char>(in[i + 2]);
      out += kAlphabet[(v >> 18) & 63];
      out += kAlphabet[(v >> 12) & 63];
      out += kAlphabet[(v >> 6) & 63];
      out += kAlphabet[v & 63];
      i += 3;
    }
    if (i < in.size()) {
      std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
      if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
      out += kAlphabet[(v >> 18) & 63];
      out += kAlphabet[(v >> 12) & 63];
      out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
      out += '=';
    }
    return out;
  }

  const EmitOptions& options_;
  std::string out_;
  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
};

std::u32string ToRunes(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    i += static_cast<std::size_t>(DecodeUtf8(s, i, &c));
    out += c;
  }
  return out;
}

bool IsLetterRune(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xC0; }
bool IsDigitRune(char32_t c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsValidUtf8(std::string_view text) { return ValidUtf8Impl(text); }

bool GoYamlKeyLess(std::string_view as, std::string_view bs) {
  bool ascii = true;
  for (char c : as) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  for (char c : bs) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::u32string a = ascii ? std::u32string(as.begin(), as.end()) : ToRunes(as);
  std::u32string b = ascii ? std::u32string(bs.begin(), bs.end()) : ToRunes(bs);
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    bool al = IsLetterRune(a[i]);
    bool bl = IsLetterRune(b[i]);
    if (al && bl) return a[i] < b[i];
    if (al || bl) return bl;
    // go-yaml accumulates digit runs in a Go int64, whose overflow wraps
    // around; unsigned arithmetic wraps the same way without undefined
    // behaviour, and the conversion back to signed is modular (C++20).
    std::uint64_t an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (std::size_t j = i; j-- > 0 && IsDigitRune(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    std::size_t ai = i, bi = i;
    for (; ai < a.size() && IsDigitRune(a[ai]); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && IsDigitRune(b[bi]); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return static_cast<std::int64_t>(an) < static_cast<std::int64_t>(bn);
    if (ai != bi) return ai < bi;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

std::string EmitYaml(const Node& node, const EmitOptions& options) {
  Writer w(options);
  w.Document(node);
  return w.Take();
}

std::string EmitYamlStream(const std::vector<Node>& documents, const EmitOptions& options) {
  std::string out;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) out += "---\n";
    out += EmitYaml(documents[i], options);
  }
  return out;
}

}  // namespace keelson::manifest
