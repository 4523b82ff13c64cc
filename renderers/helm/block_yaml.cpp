#include "renderers/helm/block_yaml.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_set>

namespace keelson::helm {

namespace {

using manifest::Mark;
using manifest::Node;

// Thrown to abandon the fast path; caught once in TryParseBlockYaml.
struct GiveUp {};

constexpr int kEnd = -1;     // no more content lines
constexpr int kMarker = -2;  // a `---` or `...` line
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxKeyBytes = 1024;  // YAML's limit on implicit keys
constexpr std::size_t npos = std::string_view::npos;

bool IsFlowIndicator(char c) { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'; }

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Keys seen in one mapping, to refuse duplicates whether or not the
// mapping is being built.
class KeySet {
 public:
  // False when the key was already there.
  bool Insert(const std::string& key) {
    if (keys_.size() < 16) {
      for (const auto& k : keys_) {
        if (k == key) return false;
      }
      keys_.push_back(key);
      if (keys_.size() == 16) large_.insert(keys_.begin(), keys_.end());
      return true;
    }
    return large_.insert(key).second;
  }

 private:
  std::vector<std::string> keys_;
  std::unordered_set<std::string> large_;
};

class BlockYamlReader {
 public:
  // With head_only, only the top-level "kind" and "metadata" entries are
  // built; everything else is still read and checked.
  BlockYamlReader(std::string_view text, const manifest::ParseOptions& options, bool head_only)
      : s_(text), options_(options), head_only_(head_only) {}

  Node Read() {
    CheckText();
    int indent = NextContentLine();
    if (indent == kMarker) {
      if (s_.compare(pos_, 3, "---") != 0) Quit();
      std::size_t p = SkipSpaces(pos_ + 3);
      if (!AtEol(p) && s_[p] != '#') Quit();  // content after `---` on its line
      NextLine(p);
      indent = NextContentLine();
      if (indent == kMarker) Quit();
    }
    if (indent == kEnd) return Node();
    Node root = InlineNode(pos_ + static_cast<std::size_t>(indent), -1, 0);
    if (NextContentLine() != kEnd) Quit();
    return root;
  }

 private:
  [[noreturn]] static void Quit() { throw GiveUp{}; }

  // Control characters, DEL, C1 controls, byte order marks and invalid
  // UTF-8 are left to the full parser, which reports them.
  void CheckText() const {
    if (s_.size() > options_.max_input_bytes) Quit();
    bool high = false;
    for (std::size_t i = 0; i < s_.size(); ++i) {
      auto c = static_cast<unsigned char>(s_[i]);
      if (c < 0x20) {
        if (c != '\n' && c != '\t') Quit();
      } else if (c >= 0x7F) {
        if (c == 0x7F) Quit();
        high = true;
        if (c == 0xC2 && i + 1 < s_.size()) {
          auto n = static_cast<unsigned char>(s_[i + 1]);
          if (n >= 0x80 && n <= 0x9F && n != 0x85) Quit();
        }
        if (c == 0xEF && s_.compare(i, 3, "\xEF\xBB\xBF") == 0) Quit();
      }
    }
    if (high && !manifest::IsValidUtf8(s_)) Quit();
  }

  bool AtEol(std::size_t p) const { return p >= s_.size() || s_[p] == '\n'; }

  std::size_t SkipSpaces(std::size_t p) const {
    while (p < s_.size() && s_[p] == ' ') ++p;
    if (p < s_.size() && s_[p] == '\t') Quit();
    return p;
  }

  // Moves pos_ to the start of the line after the one holding p.
  void NextLine(std::size_t p) {
    std::size_t e = s_.find('\n', p);
    if (e == npos) {
      pos_ = s_.size();
    } else {
      pos_ = e + 1;
      ++line_;
    }
  }

  Mark MarkAt(std::size_t p) const { return Mark{line_, static_cast<int>(p - pos_) + 1}; }

  bool IsMarkerLine(std::size_t p) const {
    if (s_.compare(p, 3, "---") != 0 && s_.compare(p, 3, "...") != 0) return false;
    return p + 3 >= s_.size() || s_[p + 3] == ' ' || s_[p + 3] == '\n' || s_[p + 3] == '\t';
  }

  // From the start of a line, skips blank and comment lines. Returns the
  // indentation of the next content line (pos_ at its start), kMarker for a
  // document marker line, or kEnd.
  int NextContentLine() {
    while (pos_ < s_.size()) {
      std::size_t p = pos_;
      while (p < s_.size() && s_[p] == ' ') ++p;
      if (AtEol(p) || s_[p] == '#') {
        NextLine(p);
        continue;
      }
      if (s_[p] == '\t') Quit();
      if (p == pos_ && IsMarkerLine(p)) return kMarker;
      return static_cast<int>(p - pos_);
    }
    return kEnd;
  }

  bool IsSeqEntry(std::size_t p) const {
    if (p >= s_.size() || s_[p] != '-') return false;
    if (p + 1 < s_.size() && s_[p + 1] == '\t') Quit();
    return p + 1 >= s_.size() || s_[p + 1] == ' ' || s_[p + 1] == '\n';
  }

  // Whether a plain scalar may start at p. `-` and (outside flow
  // collections) `:` may start one when not followed by a space; `?`
  // starts are left to the full parser.
  bool PlainStartOk(std::size_t p, bool flow) const {
    switch (s_[p]) {
      case ',': case '[': case ']': case '{': case '}': case '#': case '&': case '*': case '!':
      case '|': case '>': case '\'': case '"': case '%': case '@': case '`': case '?':
      case ' ': case '\t': case '\n':
        return false;
      case ':':
        // `:9121` is a plain scalar in block context.
        if (flow) return false;
        [[fallthrough]];
      case '-': {
        char n = p + 1 < s_.size() ? s_[p + 1] : '\n';
        if (n == ' ' || n == '\n' || n == '\t') return false;
        return !(flow && IsFlowIndicator(n));
      }
      default: return true;
    }
  }

  // Index just past the closing quote of the quoted scalar at p, on the
  // same line; npos when it does not close there.
  std::size_t QuotedEnd(std::size_t p) const {
    char q = s_[p];
    for (std::size_t i = p + 1; i < s_.size(); ++i) {
      char c = s_[i];
      if (c == '\n') return npos;
      if (q == '"' && c == '\\') {
        ++i;
        continue;
      }
      if (c == q) {
        if (q == '\'' && i + 1 < s_.size() && s_[i + 1] == '\'') {
          ++i;
          continue;
        }
        return i + 1;
      }
    }
    return npos;
  }

  // The ':' ending an implicit block key that starts at p, or npos when the
  // line is not a `key: ...` line.
  std::size_t KeyColon(std::size_t p) const {
    if (p >= s_.size()) return npos;
    auto colon_at = [&](std::size_t i) {
      return s_[i] == ':' && (i + 1 >= s_.size() || s_[i + 1] == ' ' || s_[i + 1] == '\n');
    };
    if (s_[p] == '"' || s_[p] == '\'') {
      std::size_t e = QuotedEnd(p);
      if (e == npos) return npos;
      while (e < s_.size() && s_[e] == ' ') ++e;
      return e < s_.size() && colon_at(e) ? e : npos;
    }
    if (!PlainStartOk(p, false)) return npos;
    for (std::size_t i = p; i < s_.size() && s_[i] != '\n'; ++i) {
      if (colon_at(i)) return i;
      if (s_[i] == '\t' || (s_[i] == '#' && s_[i - 1] == ' ')) return npos;
    }
    return npos;
  }

  // A plain scalar's type under the schema.
  Node Plain(std::string_view text) const { return manifest::ResolvePlainScalar(text, options_.schema); }

  // A plain key as the full parser stores it.
  std::string PlainKey(std::string_view raw) const {
    if (raw.size() > kMaxKeyBytes || raw == "<<") Quit();
    Node resolved = Plain(raw);
    if (resolved.IsNull()) Quit();
    if (options_.resolve_plain_keys && (resolved.IsBool() || resolved.IsInt() || resolved.IsFloat())) {
      return resolved.ScalarText();
    }
    return std::string(raw);
  }

  // Decodes the one-line quoted scalar at p; *end is just past its quote.
  std::string Quoted(std::size_t p, std::size_t* end) const {
    std::string out;
    char q = s_[p];
    std::size_t i = p + 1;
    for (;;) {
      if (AtEol(i)) Quit();
      char c = s_[i];
      if (c == q) {
        if (q == '\'' && i + 1 < s_.size() && s_[i + 1] == '\'') {
          out += '\'';
          i += 2;
          continue;
        }
        *end = i + 1;
        return out;
      }
      if (q == '"' && c == '\\') {
        i = Escape(i + 1, out);
        continue;
      }
      out += c;
      ++i;
    }
  }

  // Decodes the escape whose letter is at i; returns the index after it.
  std::size_t Escape(std::size_t i, std::string& out) const {
    if (AtEol(i)) Quit();
    std::size_t hex = 0;
    switch (s_[i]) {
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 't': case '\t': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      case 'r': out += '\r'; break;
      case 'e': out += '\x1B'; break;
      case ' ': out += ' '; break;
      case '"': out += '"'; break;
      case '/': out += '/'; break;
      case '\\': out += '\\'; break;
      case 'N': AppendUtf8(out, 0x85); break;
      case '_': AppendUtf8(out, 0xA0); break;
      case 'L': AppendUtf8(out, 0x2028); break;
      case 'P': AppendUtf8(out, 0x2029); break;
      case 'x': hex = 2; break;
      case 'u': hex = 4; break;
      case 'U': hex = 8; break;
      default: Quit();
    }
    if (hex == 0) return i + 1;
    std::uint32_t cp = 0;
    for (std::size_t k = 1; k <= hex; ++k) {
      if (i + k >= s_.size()) Quit();
      char h = s_[i + k];
      std::uint32_t d;
      if (h >= '0' && h <= '9') {
        d = static_cast<std::uint32_t>(h - '0');
      } else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f') {
        d = static_cast<std::uint32_t>((h | 0x20) - 'a' + 10);
      } else {
        Quit();
      }
      cp = cp * 16 + d;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) Quit();
    AppendUtf8(out, cp);
    return i + 1 + hex;
  }

  // After a scalar or flow collection: only spaces and a comment may follow.
  void EndOfValueLine(std::size_t e) {
    std::size_t p = SkipSpaces(e);
    if (!AtEol(p) && !(s_[p] == '#' && p > e)) Quit();
    NextLine(p);
  }

  void AddEntry(Node& map, std::string key, Node value, Mark key_mark, KeySet& keys) const {
    if (!keys.Insert(key)) Quit();
    if (build_) map.entries().push_back(Node::Entry{std::move(key), std::move(value), key_mark});
  }

  // A node whose first character is at p on the current line; `parent` is
  // the indentation of the enclosing block collection (-1 at the top).
  Node InlineNode(std::size_t p, int parent, int depth) {
    if (depth > kMaxDepth) Quit();
    int column = static_cast<int>(p - pos_);
    if (IsSeqEntry(p)) return Sequence(p, column, depth + 1);
    if (KeyColon(p) != npos) return Mapping(p, column, depth + 1);
    return Scalar(p, parent, depth);
  }

  Node Sequence(std::size_t p, int indent, int depth) {
    Node seq = Node::Sequence();
    seq.set_mark(MarkAt(p));
    for (;;) {
      std::size_t q = SkipSpaces(p + 1);
      Node item;
      if (AtEol(q) || s_[q] == '#') {
        Mark m = MarkAt(p);
        NextLine(q);
        int next = NextContentLine();
        if (next > indent) {
          item = InlineNode(pos_ + static_cast<std::size_t>(next), indent, depth);
        } else {
          item.set_mark(m);
        }
      } else {
        item = InlineNode(q, indent, depth);
      }
      if (build_) seq.items().push_back(std::move(item));
      int next = NextContentLine();
      if (next == indent && IsSeqEntry(pos_ + static_cast<std::size_t>(next))) {
        p = pos_ + static_cast<std::size_t>(next);
        continue;
      }
      if (next > indent) Quit();
      return seq;
    }
  }

  Node Mapping(std::size_t p, int indent, int depth) {
    Node map = Node::Mapping();
    map.set_mark(MarkAt(p));
    KeySet keys;
    const bool outer_build = build_;
    for (;;) {
      std::size_t colon = KeyColon(p);
      if (colon == npos) Quit();
      Mark key_mark = MarkAt(p);
      std::string key;
      if (s_[p] == '"' || s_[p] == '\'') {
        std::size_t end = 0;
        key = Quoted(p, &end);
        if (end - p > kMaxKeyBytes) Quit();
      } else {
        std::size_t e = colon;
        while (e > p && s_[e - 1] == ' ') --e;
        key = PlainKey(s_.substr(p, e - p));
      }
      std::size_t q = SkipSpaces(colon + 1);
      if (head_only_ && depth == 1) build_ = key == "kind" || key == "metadata";
      Node value;
      if (AtEol(q) || s_[q] == '#') {
        Mark m = MarkAt(q);
        NextLine(q);
        int next = NextContentLine();
        if (next > indent) {
          value = InlineNode(pos_ + static_cast<std::size_t>(next), indent, depth);
        } else if (next == indent && IsSeqEntry(pos_ + static_cast<std::size_t>(next))) {
          value = Sequence(pos_ + static_cast<std::size_t>(next), next, depth + 1);
        } else {
          value.set_mark(m);
        }
      } else {
        // `a: - b` and `a: b: c` are errors the full parser reports.
        if (IsSeqEntry(q) || KeyColon(q) != npos) Quit();
        value = Scalar(q, indent, depth);
      }
      build_ = outer_build;
      AddEntry(map, std::move(key), std::move(value), key_mark, keys);
      int next = NextContentLine();
      if (next == indent && !IsSeqEntry(pos_ + static_cast<std::size_t>(next))) {
        p = pos_ + static_cast<std::size_t>(next);
        continue;
      }
      if (next > indent) Quit();
      return map;
    }
  }

  // A scalar or flow collection starting at p; consumes its line (and the
  // lines of a block scalar) and leaves pos_ at the next line.
  Node Scalar(std::size_t p, int parent, int depth) {
    Mark m = MarkAt(p);
    char c = s_[p];
    Node n;
    if (c == '|' || c == '>') {
      n = BlockScalar(p, parent);
    } else if (c == '"' || c == '\'') {
      std::size_t end = 0;
      std::string text = Quoted(p, &end);
      if (build_) n = Node::String(std::move(text));
      EndOfValueLine(end);
    } else if (c == '[' || c == '{') {
      std::size_t e = p;
      n = Flow(e, depth);
      EndOfValueLine(e);
    } else {
      if (!PlainStartOk(p, false)) Quit();
      bool comment = false;
      std::size_t e = PlainLineEnd(p, &comment);
      std::string_view first = s_.substr(p, e - p);
      NextLine(e);
      std::string folded;
      bool continued = !comment && FoldPlainContinuation(parent, first, folded);
      if (build_) n = Plain(continued ? std::string_view(folded) : first);
    }
    n.set_mark(m);
    return n;
  }

  // End (trailing spaces excluded) of the plain scalar text starting at p
  // on its line; *comment tells whether a comment follows it there.
  std::size_t PlainLineEnd(std::size_t p, bool* comment) const {
    std::size_t last = p;
    for (std::size_t e = p; e < s_.size() && s_[e] != '\n'; ++e) {
      char ch = s_[e];
      if (ch == '\t') Quit();
      if (ch == ':' && (e + 1 >= s_.size() || s_[e + 1] == ' ' || s_[e + 1] == '\n')) Quit();
      if (ch == '#' && e > p && s_[e - 1] == ' ') {
        *comment = true;
        break;
      }
      if (ch != ' ') last = e + 1;
    }
    return last;
  }

  // A plain scalar continues on the following lines indented deeper than
  // `parent`: line breaks fold into spaces, empty lines into newlines
  // (the way go-yaml writes long strings). pos_ is at the line after the
  // first; returns false, consuming nothing, when no line continues it.
  bool FoldPlainContinuation(int parent, std::string_view first, std::string& out) {
    std::size_t empties = 0;
    std::size_t scan = pos_;
    int scan_line = line_;
    bool continued = false;
    while (scan < s_.size()) {
      std::size_t q = scan;
      while (q < s_.size() && s_[q] == ' ') ++q;
      if (AtEol(q)) {
        ++empties;
        if (q >= s_.size()) break;
        scan = q + 1;
        ++scan_line;
        continue;
      }
      int indent = static_cast<int>(q - scan);
      if (indent <= parent || s_[q] == '#' || (indent == 0 && IsMarkerLine(q))) break;
      // Continuation lines that start like another construct are left to
      // the full parser.
      if (!PlainStartOk(q, false) || s_[q] == '-') Quit();
      bool comment = false;
      std::size_t e = PlainLineEnd(q, &comment);
      if (comment) Quit();
      if (build_) {
        if (!continued) out.assign(first);
        if (empties == 0) {
          out += ' ';
        } else {
          out.append(empties, '\n');
        }
        out.append(s_.substr(q, e - q));
      }
      continued = true;
      empties = 0;
      std::size_t nl = s_.find('\n', e);
      pos_ = scan = nl == npos ? s_.size() : nl + 1;
      line_ = scan_line = scan_line + (nl == npos ? 0 : 1);
    }
    return continued;
  }

  std::size_t SkipFlowSpaces(std::size_t e) const {
    e = SkipSpaces(e);
    if (AtEol(e) || s_[e] == '#') Quit();  // the collection continues on another line
    return e;
  }

  // A plain scalar inside a flow collection; stops before `:`, which the
  // caller accepts only as a flow mapping's key separator.
  std::string_view FlowPlain(std::size_t& e) const {
    if (!PlainStartOk(e, true)) Quit();
    std::size_t start = e, last = e;
    for (; e < s_.size(); ++e) {
      char ch = s_[e];
      // yaml-cpp reads `?` inside flow scalars as a key indicator.
      if (ch == '\n' || ch == '\t' || ch == '?') Quit();
      if (IsFlowIndicator(ch) || ch == ':') break;
      if (ch == '#' && s_[e - 1] == ' ') Quit();
      if (ch != ' ') last = e + 1;
    }
    return s_.substr(start, last - start);
  }

  Node Flow(std::size_t& e, int depth) {
    if (depth > kMaxDepth) Quit();
    Mark m = MarkAt(e);
    char c = s_[e];
    if (c == '[') {
      Node seq = Node::Sequence();
      seq.set_mark(m);
      e = SkipFlowSpaces(e + 1);
      while (s_[e] != ']') {
        Node item = Flow(e, depth + 1);
        if (build_) seq.items().push_back(std::move(item));
        e = SkipFlowSpaces(e);
        if (s_[e] == ',') {
          e = SkipFlowSpaces(e + 1);
        } else if (s_[e] != ']') {
          Quit();
        }
      }
      ++e;
      return seq;
    }
    if (c == '{') {
      Node map = Node::Mapping();
      map.set_mark(m);
      KeySet keys;
      e = SkipFlowSpaces(e + 1);
      while (s_[e] != '}') {
        Mark key_mark = MarkAt(e);
        std::string key;
        if (s_[e] == '"' || s_[e] == '\'') {
          key = Quoted(e, &e);
        } else {
          key = PlainKey(FlowPlain(e));
        }
        e = SkipFlowSpaces(e);
        if (s_[e] != ':') Quit();
        ++e;
        if (e >= s_.size() || (s_[e] != ' ' && s_[e] != ',' && s_[e] != '}')) Quit();
        e = SkipFlowSpaces(e);
        Node value;
        if (s_[e] == ',' || s_[e] == '}') {
          value.set_mark(MarkAt(e));
        } else {
          value = Flow(e, depth + 1);
        }
        AddEntry(map, std::move(key), std::move(value), key_mark, keys);
        e = SkipFlowSpaces(e);
        if (s_[e] == ',') {
          e = SkipFlowSpaces(e + 1);
        } else if (s_[e] != '}') {
          Quit();
        }
      }
      ++e;
      return map;
    }
    Node n;
    if (c == '"' || c == '\'') {
      std::string text = Quoted(e, &e);
      if (build_) n = Node::String(std::move(text));
    } else {
      std::string_view text = FlowPlain(e);
      if (build_) n = Plain(text);
    }
    n.set_mark(m);
    return n;
  }

  // `|` or `>` at p, with an optional chomping indicator. Content lines are
  // those indented deeper than `parent`, at the first content line's
  // indentation.
  Node BlockScalar(std::size_t p, int parent) {
    if (parent < 0) Quit();
    bool literal = s_[p] == '|';
    enum class Chomp { kClip, kStrip, kKeep } chomp = Chomp::kClip;
    std::size_t e = p + 1;
    if (e < s_.size() && (s_[e] == '-' || s_[e] == '+')) {
      chomp = s_[e] == '-' ? Chomp::kStrip : Chomp::kKeep;
      ++e;
    }
    // yaml-cpp drops a trailing line break of folded scalars kept with `+`.
    if (!literal && chomp == Chomp::kKeep) Quit();
    std::size_t h = SkipSpaces(e);
    if (!AtEol(h) && !(s_[h] == '#' && h > e)) Quit();  // indentation indicators and the rest
    NextLine(h);

    std::string out;
    int content_indent = -1;
    int leading_max = 0;
    std::size_t empties = 0;  // empty lines since the last content line
    bool any_content = false;
    bool final_break = false;
    while (pos_ < s_.size()) {
      std::size_t ls = pos_, q = pos_;
      while (q < s_.size() && s_[q] == ' ') ++q;
      int spaces = static_cast<int>(q - ls);
      bool blank = AtEol(q);
      // Spaces on a last line without a line break are no empty line
      // (past the content indentation they are still text).
      if (blank && q >= s_.size() && (content_indent < 0 || spaces <= content_indent)) {
        if (!literal && any_content) Quit();  // yaml-cpp folds that last line break into a space
        break;
      }
      if (blank && (content_indent < 0 || spaces <= content_indent)) {
        if (content_indent < 0) leading_max = std::max(leading_max, spaces);
        ++empties;
        NextLine(q);
        continue;
      }
      if (content_indent < 0) {
        if (spaces <= parent) break;
        if (leading_max > spaces) Quit();
        content_indent = spaces;
      }
      if (spaces < content_indent) break;
      std::size_t text_start = ls + static_cast<std::size_t>(content_indent);
      std::size_t text_end = s_.find('\n', text_start);
      if (text_end == npos) text_end = s_.size();
      std::string_view text = s_.substr(text_start, text_end - text_start);
      if (literal) {
        if (build_) out.append(any_content ? empties + 1 : empties, '\n');
      } else {
        if (text.empty() || text[0] == ' ' || text[0] == '\t') Quit();  // more-indented lines
        if (!any_content && empties > 0) Quit();
        if (any_content && build_) {
          if (empties == 0) {
            out += ' ';
          } else {
            out.append(empties, '\n');
          }
        }
      }
      if (build_) out.append(text);
      any_content = true;
      empties = 0;
      final_break = text_end < s_.size();
      NextLine(text_end);
    }
    if (!any_content) {
      if (chomp == Chomp::kKeep && empties > 0) Quit();
      return Node::String("");
    }
    if (chomp != Chomp::kStrip && final_break) out += '\n';
    if (chomp == Chomp::kKeep) out.append(empties, '\n');
    return Node::String(std::move(out));
  }

  std::string_view s_;
  const manifest::ParseOptions& options_;
  const bool head_only_;
  bool build_ = true;    // whether the node being read is kept
  std::size_t pos_ = 0;  // start of the current line
  int line_ = 1;
};

}  // namespace

std::string_view FirstYamlDocument(std::string_view text) {
  bool started = false;  // a `---` or content has been seen
  std::size_t line = 0;
  while (line < text.size()) {
    std::size_t end = text.find('\n', line);
    if (end == npos) end = text.size();
    std::string_view l = text.substr(line, end - line);
    bool marker = (l.starts_with("---") || l.starts_with("...")) &&
                  (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker) {
      if (started || l.starts_with("...")) return text.substr(0, line);
      started = true;
    } else {
      std::size_t p = l.find_first_not_of(" \t\r");
      if (p != std::string_view::npos && l[p] != '#' && l[p] != '%') started = true;
    }
    line = end + 1;
  }
  return text;
}

std::optional<Node> TryParseBlockYaml(std::string_view text, const manifest::ParseOptions& options) {
  try {
    return BlockYamlReader(text, options, false).Read();
  } catch (const GiveUp&) {
    return std::nullopt;
  }
}

std::optional<Node> TryParseBlockYamlHead(std::string_view text, const manifest::ParseOptions& options) {
  try {
    return BlockYamlReader(text, options, true).Read();
  } catch (const GiveUp&) {
    return std::nullopt;
  }
}

}  // namespace keelson::helm
