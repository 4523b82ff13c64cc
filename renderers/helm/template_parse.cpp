// Lexer and parser for Go's text/template syntax.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>

#include "renderers/helm/template.h"
#include "renderers/helm/template_tree.h"

namespace keelson::helm {

namespace {

enum class Tok {
  kText, kLeftDelim, kRightDelim, kIdentifier, kField, kVariable, kDot, kNil, kBool,
  kNumber, kString, kRawString, kChar, kPipe, kLeftParen, kRightParen, kDeclare, kAssign, kComma,
  kIf, kElse, kEnd, kRange, kWith, kDefine, kTemplate, kBlock, kBreak, kContinue, kEof,
};

// Token text points into the arena's copy of the source, which also gives
// its position. Spaces inside actions are not tokens: they only separate
// operands, which the parser reads from `space_before`.
struct Token {
  Tok type;
  bool space_before;
  std::string_view text;
};

// Line and 0-based column (byte offset in the line, as Go reports it) of
// offsets into a text. Queries move mostly forward; each costs the
// distance from the previous one.
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : text_(text) {}

  std::pair<int, int> At(std::size_t at) {
    at = std::min(at, text_.size());
    if (at >= pos_) {
      const char* begin = text_.data() + pos_;
      const char* end = text_.data() + at;
      auto lines = std::count(begin, end, '\n');
      if (lines > 0) {
        line_ += static_cast<int>(lines);
        const void* last = memrchr(begin, '\n', static_cast<std::size_t>(end - begin));
        line_start_ = static_cast<std::size_t>(static_cast<const char*>(last) - text_.data()) + 1;
      }
    } else if (at < line_start_) {
      // Back before the current line: uncount the lines in between.
      line_ -= static_cast<int>(std::count(text_.data() + at, text_.data() + line_start_, '\n'));
      const void* last = at == 0 ? nullptr : memrchr(text_.data(), '\n', at);
      line_start_ = last == nullptr ? 0 : static_cast<std::size_t>(static_cast<const char*>(last) - text_.data()) + 1;
    }
    pos_ = at;
    return {line_, static_cast<int>(at - line_start_)};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
};

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  // ASCII letters, digits and '_', plus every byte of a multi-byte rune
  // (the locale-aware std::isalnum was a tenth of parse time).
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_';
}

Tok KeywordToken(std::string_view word) {
  static constexpr std::pair<std::string_view, Tok> kKeywords[] = {
      {"if", Tok::kIf}, {"else", Tok::kElse}, {"end", Tok::kEnd}, {"range", Tok::kRange},
      {"with", Tok::kWith}, {"define", Tok::kDefine}, {"template", Tok::kTemplate},
      {"block", Tok::kBlock}, {"break", Tok::kBreak}, {"continue", Tok::kContinue},
      {"nil", Tok::kNil}, {"true", Tok::kBool}, {"false", Tok::kBool}};
  if (word.size() < 2 || word.size() > 8) return Tok::kIdentifier;
  for (const auto& [kw, tok] : kKeywords) {
    if (word == kw) return tok;
  }
  return Tok::kIdentifier;
}

struct ParseFailure {
  std::string message;
  int line;
  int col;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    out.reserve(in_.size() / 4 + 16);
    bool trim_next = false;
    while (pos_ < in_.size()) {
      std::size_t open = in_.find("{{", pos_);
      std::size_t text_end = open == std::string_view::npos ? in_.size() : open;
      bool left_trim = open != std::string_view::npos && open + 3 < in_.size() + 1 && open + 2 < in_.size() &&
                       in_[open + 2] == '-' && open + 3 < in_.size() && IsSpaceChar(in_[open + 3]);
      std::size_t start = pos_;
      if (trim_next) {
        while (start < text_end && IsSpaceChar(in_[start])) ++start;
        trim_next = false;
      }
      std::size_t end = text_end;
      if (left_trim) {
        while (end > start && IsSpaceChar(in_[end - 1])) --end;
      }
      if (end > start) Emit(out, Tok::kText, start, end - start);
      if (open == std::string_view::npos) {
        pos_ = in_.size();
        break;
      }
      std::size_t delim_pos = open;
      pos_ = open + 2 + (left_trim ? 2 : 0);
      // Comments: {{/* ... */}} with optional trim markers.
      if (in_.substr(pos_).starts_with("/*")) {
        std::size_t close = in_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) Fail("unclosed comment", delim_pos);
        pos_ = close + 2;
        bool right_trim = false;
        if (!AtRightDelim(right_trim)) Fail("comment ends before closing delimiter", delim_pos);
        pos_ += right_trim ? 4 : 2;
        trim_next = right_trim;
        continue;
      }
      Emit(out, Tok::kLeftDelim, delim_pos, 2);
      trim_next = LexAction(out);
    }
    Emit(out, Tok::kEof, pos_, 0);
    return out;
  }

 private:
  [[noreturn]] void Fail(const std::string& message, std::size_t at) {
    auto [line, col] = LineCounter(in_).At(at);
    throw ParseFailure{message, line, col};
  }

  // A token of `len` bytes at `at`.
  void Emit(std::vector<Token>& out, Tok type, std::size_t at, std::size_t len) {
    out.push_back(Token{type, space_before_, in_.substr(at, len)});
    space_before_ = false;
  }

  bool AtRightDelim(bool& trim) {
    std::string_view rest = in_.substr(pos_);
    if (rest.size() >= 4 && IsSpaceChar(rest[0]) && rest[1] == '-' && rest[2] == '}' && rest[3] == '}') {
      trim = true;
      return true;
    }
    trim = false;
    return rest.starts_with("}}");
  }

  // Lexes inside {{ }}; returns whether the closing delimiter trims.
  bool LexAction(std::vector<Token>& out) {
    int parens = 0;
    for (;;) {
      bool trim = false;
      if (AtRightDelim(trim)) {
        if (parens > 0) Fail("unclosed left paren", pos_);
        Emit(out, Tok::kRightDelim, pos_ + (trim ? 2 : 0), 2);
        pos_ += trim ? 4 : 2;
        return trim;
      }
      if (pos_ >= in_.size()) Fail("unclosed action", pos_);
      char c = in_[pos_];
      std::size_t start = pos_;
      if (IsSpaceChar(c)) {
        while (pos_ < in_.size() && IsSpaceChar(in_[pos_])) {
          // Leave a space that starts " -}}" for the delimiter check.
          std::string_view rest = in_.substr(pos_);
          if (rest.size() >= 4 && rest[1] == '-' && rest[2] == '}' && rest[3] == '}') break;
          ++pos_;
        }
        if (pos_ > start) space_before_ = true;
        continue;
      }
      switch (c) {
        case '=':
          ++pos_;
          Emit(out, Tok::kAssign, start, 1);
          continue;
        case ':':
          if (pos_ + 1 >= in_.size() || in_[pos_ + 1] != '=') Fail("expected :=", pos_);
          pos_ += 2;
          Emit(out, Tok::kDeclare, start, 2);
          continue;
        case '|':
          ++pos_;
          Emit(out, Tok::kPipe, start, 1);
          continue;
        case ',':
          ++pos_;
          Emit(out, Tok::kComma, start, 1);
          continue;
        case '(':
          ++pos_;
          ++parens;
          Emit(out, Tok::kLeftParen, start, 1);
          continue;
        case ')':
          ++pos_;
          if (--parens < 0) Fail("unexpected right paren", start);
          Emit(out, Tok::kRightParen, start, 1);
          continue;
        case '"': {
          ++pos_;
          while (true) {
            if (pos_ >= in_.size() || in_[pos_] == '\n') Fail("unterminated quoted string", start);
            if (in_[pos_] == '\\') {
              pos_ += 2;
              continue;
            }
            if (in_[pos_] == '"') break;
            ++pos_;
          }
          ++pos_;
          Emit(out, Tok::kString, start, pos_ - start);
          continue;
        }
        case '`': {
          std::size_t close = in_.find('`', pos_ + 1);
          if (close == std::string_view::npos) Fail("unterminated raw quoted string", start);
          pos_ = close + 1;
          Emit(out, Tok::kRawString, start, pos_ - start);
          continue;
        }
        case '\'': {
          ++pos_;
          while (true) {
            if (pos_ >= in_.size() || in_[pos_] == '\n') Fail("unterminated character constant", start);
            if (in_[pos_] == '\\') {
              pos_ += 2;
              continue;
            }
            if (in_[pos_] == '\'') break;
            ++pos_;
          }
          ++pos_;
          Emit(out, Tok::kChar, start, pos_ - start);
          continue;
        }
        case '$': {
          ++pos_;
          while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
          Emit(out, Tok::kVariable, start, pos_ - start);
          continue;
        }
        case '.': {
          if (pos_ + 1 < in_.size() && in_[pos_ + 1] >= '0' && in_[pos_ + 1] <= '9') {
            LexNumber(out);
            continue;
          }
          ++pos_;
          if (pos_ < in_.size() && IsAlnum(in_[pos_])) {
            while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
            Emit(out, Tok::kField, start, pos_ - start);
          } else {
            Emit(out, Tok::kDot, start, 1);
          }
          continue;
        }
        default: break;
      }
      if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        LexNumber(out);
        continue;
      }
      if (IsAlnum(c)) {
        while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
        std::string_view word = in_.substr(start, pos_ - start);
        Emit(out, KeywordToken(word), start, word.size());
        continue;
      }
      Fail(std::string("unrecognized character in action: ") + (std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : "U+" + std::to_string(static_cast<unsigned char>(c))), start);
    }
  }

  void LexNumber(std::vector<Token>& out) {
    std::size_t start = pos_;
    if (in_[pos_] == '+' || in_[pos_] == '-') ++pos_;
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (IsAlnum(c) || c == '.') {
        ++pos_;
        continue;
      }
      if ((c == '+' || c == '-') && pos_ > start) {
        char prev = static_cast<char>(std::tolower(static_cast<unsigned char>(in_[pos_ - 1])));
        bool hex = in_.substr(start, pos_ - start).find_first_of("xX") != std::string_view::npos;
        if ((prev == 'e' && !hex) || prev == 'p') {
          ++pos_;
          continue;
        }
      }
      break;
    }
    Emit(out, Tok::kNumber, start, pos_ - start);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool space_before_ = false;  // spaces were skipped since the last token
};

// Decodes a Go interpreted string literal (with its quotes).
bool UnquoteGo(std::string_view lit, std::string& out) {
  char q = lit.front();
  if (q == '`') {
    out.assign(lit.substr(1, lit.size() - 2));
    out.erase(std::remove(out.begin(), out.end(), '\r'), out.end());
    return true;
  }
  out.clear();
  std::string_view s = lit.substr(1, lit.size() - 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return false;
    char e = s[i];
    auto hexval = [&](std::size_t n, std::uint32_t& v) {
      if (i + n >= s.size() + 0 && i + n > s.size() - 1 + 1) return false;
      if (i + n >= s.size() + 1) return false;
      v = 0;
      for (std::size_t k = 1; k <= n; ++k) {
        if (i + k >= s.size()) return false;
        char h = s[i + k];
        int d = std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + static_cast<std::uint32_t>(d);
      }
      i += n;
      return true;
    };
    std::uint32_t v = 0;
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': if (q != '\'') return false; out += '\''; break;
      case '"': if (q != '"') return false; out += '"'; break;
      case 'x': if (!hexval(2, v)) return false; out += static_cast<char>(v); break;
      case 'u': case 'U': {
        if (!hexval(e == 'u' ? 4 : 8, v) || v > 0x10FFFF) return false;
        std::string enc;
        if (v < 0x80) enc += static_cast<char>(v);
        else if (v < 0x800) { enc += static_cast<char>(0xC0 | (v >> 6)); enc += static_cast<char>(0x80 | (v & 0x3F)); }
        else if (v < 0x10000) { enc += static_cast<char>(0xE0 | (v >> 12)); enc += static_cast<char>(0x80 | ((v >> 6) & 0x3F)); enc += static_cast<char>(0x80 | (v & 0x3F)); }
        else { enc += static_cast<char>(0xF0 | (v >> 18)); enc += static_cast<char>(0x80 | ((v >> 12) & 0x3F)); enc += static_cast<char>(0x80 | ((v >> 6) & 0x3F)); enc += static_cast<char>(0x80 | (v & 0x3F)); }
        out += enc;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= s.size()) return false;
          int o = 0;
          for (int k = 0; k < 3; ++k) {
            char d = s[i + static_cast<std::size_t>(k)];
            if (d < '0' || d > '7') return false;
            o = o * 8 + (d - '0');
          }
          if (o > 255) return false;
          out += static_cast<char>(o);
          i += 2;
          break;
        }
        return false;
    }
  }
  return true;
}

// Parses a Go number literal into an int (when exact) or a float64.
bool ParseNumber(std::string_view text, Value& out) {
  std::string t;
  for (char c : text) {
    if (c != '_') t += c;
  }
  bool neg = false;
  std::string body = t;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.erase(0, 1);
  }
  if (body.empty()) return false;
  int base = 10;
  std::string digits = body;
  if (body.size() > 1 && body[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
    if (p == 'x') { base = 16; digits = body.substr(2); }
    else if (p == 'o') { base = 8; digits = body.substr(2); }
    else if (p == 'b') { base = 2; digits = body.substr(2); }
    else if (body.find_first_of(".eE") == std::string::npos) { base = 8; digits = body.substr(1); }
  }
  bool floaty = base == 10 && body.find_first_of(".eE") != std::string::npos;
  if (!floaty) {
    std::uint64_t u = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty()) {
      if (!neg && u <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = Value::Int(static_cast<std::int64_t>(u));
        return true;
      }
      if (neg && u <= static_cast<std::uint64_t>(INT64_MAX) + 1) {
        out = Value::Int(static_cast<std::int64_t>(0 - u));
        return true;
      }
      return false;
    }
    if (base != 10) {
      // Hex floats (0x1p-2) and friends.
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);
      if (end && *end == 0 && t.find_first_of("pP") != std::string::npos) {
        out = Value::Float(d);
        return true;
      }
      return false;
    }
  }
  double d = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
  if (ec != std::errc() || p != body.data() + body.size()) return false;
  out = Value::Float(neg ? -d : d);
  return true;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, TemplateArena& arena, std::string_view name, const FunctionTable& functions,
         const Limits& limits)
      : toks_(std::move(tokens)),
        arena_(arena),
        lines_(arena.source()),
        name_(arena.Store(name)),
        functions_(functions),
        limits_(limits) {}

  // [name] = main tree, then the defines in order.
  std::vector<std::pair<std::string, const TemplateNode*>> Run() {
    TemplateNode* root = arena_.NewNode(NodeKind::kList, 1, 0);
    root->text = name_;
    std::size_t mark = stack_.size();
    while (Peek().type != Tok::kEof) {
      if (Peek().type == Tok::kLeftDelim && PeekAfterDelim() == Tok::kDefine) {
        Next();  // {{
        Next();  // define
        ParseDefine();
        continue;
      }
      stack_.push_back(TextOrAction());
    }
    root->nodes = TakeNodes(mark);
    defines_.insert(defines_.begin(), {std::string(name_), root});
    return std::move(defines_);
  }

 private:
  [[noreturn]] void Fail(const std::string& message, const Token& at) {
    auto [line, col] = lines_.At(Offset(at));
    throw ParseFailure{message, line, col};
  }

  const Token& Peek() { return toks_[pos_]; }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  Tok PeekAfterDelim() { return pos_ + 1 < toks_.size() ? toks_[pos_ + 1].type : Tok::kEof; }

  std::size_t Offset(const Token& t) const { return static_cast<std::size_t>(t.text.data() - arena_.source().data()); }

  TemplateNode* Make(NodeKind kind, const Token& at) {
    auto [line, col] = lines_.At(Offset(at));
    return arena_.NewNode(kind, line, col);
  }

  // Moves the nodes pushed since `mark` into the arena.
  std::span<const TemplateNode* const> TakeNodes(std::size_t mark) {
    auto out = arena_.Store(std::span<const TemplateNode* const>(stack_.data() + mark, stack_.size() - mark));
    stack_.resize(mark);
    return out;
  }

  std::string_view Unquote(const Token& t, const std::string& failure) {
    std::string s;
    if (!UnquoteGo(t.text, s)) Fail(failure, t);
    return arena_.Store(s);
  }

  void ParseDefine() {
    const Token& name_tok = Next();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) Fail("expected name in define clause", name_tok);
    std::string_view name = Unquote(name_tok, "bad string in define clause");
    const Token& close = Next();
    if (close.type != Tok::kRightDelim) Fail("unexpected " + std::string(close.text) + " in define clause", close);
    TemplateNode* body = Make(NodeKind::kList, name_tok);
    body->text = name_;
    Tok end = ItemList(body);
    if (end != Tok::kEnd) Fail("unexpected {{else}} in define", Peek());
    defines_.emplace_back(std::string(name), body);
  }

  // Parses until {{end}} or {{else}}; returns which one ended the list.
  Tok ItemList(TemplateNode* list) {
    if (++depth_ > limits_.max_parse_depth) Fail("template nesting exceeds the limit", Peek());
    std::size_t mark = stack_.size();
    while (true) {
      const Token& t = Peek();
      if (t.type == Tok::kEof) Fail("unexpected EOF", t);
      if (t.type == Tok::kLeftDelim) {
        Tok k = PeekAfterDelim();
        if (k == Tok::kEnd || k == Tok::kElse) {
          Next();
            Next();
          if (k == Tok::kEnd) {
            const Token& close = Next();
            if (close.type != Tok::kRightDelim) Fail("unexpected " + std::string(close.text) + " in end", close);
          }
          --depth_;
          list->nodes = TakeNodes(mark);
          return k;
        }
        if (k == Tok::kDefine) Fail("unexpected define: define clauses are only allowed at top level", t);
      }
      stack_.push_back(TextOrAction());
    }
  }

  const TemplateNode* TextOrAction() {
    const Token& t = Next();
    if (t.type == Tok::kText) {
      TemplateNode* n = Make(NodeKind::kText, t);
      n->text = t.text;
      return n;
    }
    if (t.type == Tok::kLeftDelim) return Action(t);
    Fail("unexpected " + std::string(t.text) + " in input", t);
  }

  const TemplateNode* Action(const Token& open) {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kBlock: Next(); return BlockControl(t);
      case Tok::kBreak: case Tok::kContinue: {
        Token tok = Next();
        if (range_depth_ == 0) Fail(std::string("{{") + std::string(tok.text) + "}} outside {{range}}", tok);
        const Token& close = Next();
        if (close.type != Tok::kRightDelim) {
          Fail("unexpected " + std::string(close.text) + " in {{" + std::string(tok.text) + "}}", close);
        }
        return Make(tok.type == Tok::kBreak ? NodeKind::kBreak : NodeKind::kContinue, tok);
      }
      case Tok::kIf: Next(); return Control(NodeKind::kIf, t);
      case Tok::kRange: Next(); return Control(NodeKind::kRange, t);
      case Tok::kWith: Next(); return Control(NodeKind::kWith, t);
      case Tok::kTemplate: Next(); return TemplateControl(t);
      case Tok::kElse: Fail("unexpected {{else}}", t);
      case Tok::kEnd: Fail("unexpected {{end}}", t);
      default: break;
    }
    TemplateNode* n = Make(NodeKind::kAction, open);
    n->pipe = Pipeline("command", Tok::kRightDelim);
    return n;
  }

  const TemplateNode* Control(NodeKind kind, const Token& kw) {
    TemplateNode* n = Make(kind, kw);
    const char* context = kind == NodeKind::kIf ? "if" : kind == NodeKind::kRange ? "range" : "with";
    n->pipe = Pipeline(context, Tok::kRightDelim);
    TemplateNode* list = Make(NodeKind::kList, kw);
    if (kind == NodeKind::kRange) ++range_depth_;
    Tok end = ItemList(list);
    if (kind == NodeKind::kRange) --range_depth_;
    n->list = list;
    if (end == Tok::kElse) {
      // {{else if ...}} / {{else with ...}} nest a control whose {{end}}
      // closes both.
      const Token& after = Peek();
      if ((kind == NodeKind::kIf && after.type == Tok::kIf) || (kind == NodeKind::kWith && after.type == Tok::kWith)) {
        Token kw2 = Next();
        TemplateNode* else_list = Make(NodeKind::kList, kw2);
        const TemplateNode* nested = Control(kind, kw2);
        else_list->nodes = arena_.Store(std::span<const TemplateNode* const>(&nested, 1));
        n->else_list = else_list;
        return n;
      }
      const Token& close = Next();
      if (close.type != Tok::kRightDelim) Fail("unexpected " + std::string(close.text) + " in else", close);
      TemplateNode* else_list = Make(NodeKind::kList, close);
      Tok end2 = ItemList(else_list);
      if (end2 != Tok::kEnd) Fail("expected end; found {{else}}", Peek());
      n->else_list = else_list;
    }
    return n;
  }

  const TemplateNode* TemplateControl(const Token& kw) {
    const Token& name_tok = Next();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) {
      Fail("unexpected " + std::string(name_tok.text) + " in template clause", name_tok);
    }
    TemplateNode* n = Make(NodeKind::kTemplate, kw);
    n->text = Unquote(name_tok, "bad string in template clause");
    if (Peek().type != Tok::kRightDelim) {
      n->pipe = Pipeline("template clause", Tok::kRightDelim);
    } else {
      Next();
    }
    return n;
  }

  const TemplateNode* BlockControl(const Token& kw) {
    const Token& name_tok = Next();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) {
      Fail("unexpected " + std::string(name_tok.text) + " in block clause", name_tok);
    }
    TemplateNode* n = Make(NodeKind::kTemplate, kw);
    n->text = Unquote(name_tok, "bad string in block clause");
    n->pipe = Pipeline("block clause", Tok::kRightDelim);
    TemplateNode* body = Make(NodeKind::kList, kw);
    body->text = name_;
    Tok end = ItemList(body);
    if (end != Tok::kEnd) Fail("unexpected {{else}} in block clause", Peek());
    defines_.emplace_back(std::string(n->text), body);
    return n;
  }

  bool KnownVariable(std::string_view name) const {
    if (name == "$") return true;
    for (std::string_view v : vars_) {
      if (v == name) return true;
    }
    return false;
  }

  TemplateNode* Pipeline(const char* context, Tok end) {
    if (++depth_ > limits_.max_parse_depth) Fail("expression nesting exceeds the limit", Peek());
    TemplateNode* pipe = Make(NodeKind::kPipe, Peek());
    // Declarations: $x := / $x = / $i, $v :=
    if (Peek().type == Tok::kVariable) {
      std::size_t save = pos_;
      Token v = Next();
      const Token& op = Peek();
      std::string_view is_range = context;
      if (op.type == Tok::kDeclare || op.type == Tok::kAssign) {
        Next();
        pipe->decls = arena_.Store(std::span<const std::string_view>(&v.text, 1));
        pipe->is_assign = op.type == Tok::kAssign;
        if (!pipe->is_assign) vars_.push_back(v.text);
      } else if (op.type == Tok::kComma && is_range == "range") {
        Next();
        const Token& v2 = Next();
        if (v2.type != Tok::kVariable) Fail("range can only initialize variables", v2);
        const Token& op2 = Next();
        if (op2.type != Tok::kDeclare && op2.type != Tok::kAssign) Fail("range can only initialize variables", op2);
        std::string_view both[2] = {v.text, v2.text};
        pipe->decls = arena_.Store(std::span<const std::string_view>(both, 2));
        pipe->is_assign = op2.type == Tok::kAssign;
        if (!pipe->is_assign) {
          vars_.push_back(v.text);
          vars_.push_back(v2.text);
        }
      } else if (op.type == Tok::kComma) {
        Fail("too many declarations in " + std::string(context), op);
      } else {
        pos_ = save;
      }
    }
    std::size_t mark = stack_.size();
    while (true) {
      const Token& t = Peek();
      if (t.type == end) {
        if (after_pipe_) Fail("missing command", t);
        Next();
        if (stack_.size() == mark) Fail("missing value for " + std::string(context), t);
        break;
      }
      after_pipe_ = false;
      switch (t.type) {
        case Tok::kBool: case Tok::kChar: case Tok::kDot: case Tok::kField: case Tok::kIdentifier:
        case Tok::kNumber: case Tok::kNil: case Tok::kRawString: case Tok::kString: case Tok::kVariable:
        case Tok::kLeftParen:
          stack_.push_back(Command(end));
          break;
        default:
          Fail("unexpected " + Describe(t) + " in " + context, t);
      }
    }
    pipe->nodes = TakeNodes(mark);
    --depth_;
    return pipe;
  }

  static std::string Describe(const Token& t) {
    if (t.type == Tok::kRightDelim) return "\"}}\"";
    if (t.type == Tok::kEof) return "EOF";
    return "\"" + std::string(t.text) + "\"";
  }

  const TemplateNode* Command(Tok end) {
    TemplateNode* cmd = Make(NodeKind::kCommand, Peek());
    std::size_t mark = stack_.size();
    while (true) {
      const TemplateNode* op = Operand();
      if (!op) Fail("unexpected " + Describe(Peek()) + " in operand", Peek());
      stack_.push_back(op);
      const Token& t = Peek();
      if (t.type == end || t.type == Tok::kRightParen) break;
      if (t.type == Tok::kPipe) {
        Next();
        after_pipe_ = true;
        break;
      }
      if (t.space_before) continue;  // the next operand
      Fail("unexpected " + Describe(t) + " in operand", t);
    }
    cmd->nodes = TakeNodes(mark);
    return cmd;
  }

  const TemplateNode* Operand() {
    const TemplateNode* node = Term();
    if (!node) return nullptr;
    if (Peek().type == Tok::kField && !Peek().space_before) {
      if (node->kind == NodeKind::kBool || node->kind == NodeKind::kString || node->kind == NodeKind::kNumber ||
          node->kind == NodeKind::kNil || node->kind == NodeKind::kDot) {
        Fail("unexpected . after term", Peek());
      }
      std::vector<std::string_view> fields;
      bool merge = node->kind == NodeKind::kField || node->kind == NodeKind::kVariable;
      if (merge) fields.assign(node->idents.begin(), node->idents.end());
      while (Peek().type == Tok::kField && !Peek().space_before) fields.push_back(Next().text.substr(1));
      if (merge) {
        TemplateNode* merged = arena_.CopyNode(*node);
        merged->idents = arena_.Store(std::span<const std::string_view>(fields));
        return merged;
      }
      TemplateNode* chain = arena_.NewNode(NodeKind::kChain, node->line, node->col);
      chain->pipe = node;
      chain->idents = arena_.Store(std::span<const std::string_view>(fields));
      return chain;
    }
    return node;
  }

  const TemplateNode* Term() {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kIdentifier: {
        Next();
        auto fn = functions_.functions.find(t.text);
        if (fn == functions_.functions.end()) Fail("function \"" + std::string(t.text) + "\" not defined", t);
        TemplateNode* n = Make(NodeKind::kIdentifier, t);
        n->text = t.text;
        n->function_table = &functions_;
        n->function = &fn->second;
        return n;
      }
      case Tok::kDot: Next(); return Make(NodeKind::kDot, t);
      case Tok::kNil: Next(); return Make(NodeKind::kNil, t);
      case Tok::kVariable: {
        Next();
        if (!KnownVariable(t.text)) Fail("undefined variable \"" + std::string(t.text) + "\"", t);
        TemplateNode* n = Make(NodeKind::kVariable, t);
        n->idents = arena_.Store(std::span<const std::string_view>(&t.text, 1));
        return n;
      }
      case Tok::kField: {
        Next();
        TemplateNode* n = Make(NodeKind::kField, t);
        std::string_view field = t.text.substr(1);
        n->idents = arena_.Store(std::span<const std::string_view>(&field, 1));
        return n;
      }
      case Tok::kBool: {
        Next();
        TemplateNode* n = Make(NodeKind::kBool, t);
        n->constant = arena_.StoreConstant(Value::Bool(t.text == "true"));
        n->text = t.text;
        return n;
      }
      case Tok::kChar: {
        Next();
        std::string decoded;
        if (!UnquoteGo(t.text, decoded) || decoded.empty()) Fail("malformed character constant: " + std::string(t.text), t);
        // Decode the single rune.
        std::uint32_t r = static_cast<unsigned char>(decoded[0]);
        if (r >= 0x80) {
          int len = r >= 0xF0 ? 4 : r >= 0xE0 ? 3 : 2;
          r &= (0x3F >> (len - 1));
          for (int k = 1; k < len && static_cast<std::size_t>(k) < decoded.size(); ++k) {
            r = (r << 6) | (decoded[static_cast<std::size_t>(k)] & 0x3F);
          }
        }
        TemplateNode* n = Make(NodeKind::kNumber, t);
        n->constant = arena_.StoreConstant(Value::Int(r));
        n->text = t.text;
        return n;
      }
      case Tok::kNumber: {
        Next();
        TemplateNode* n = Make(NodeKind::kNumber, t);
        Value number;
        if (!ParseNumber(t.text, number)) Fail("bad number syntax: \"" + std::string(t.text) + "\"", t);
        n->constant = arena_.StoreConstant(std::move(number));
        n->text = t.text;
        return n;
      }
      case Tok::kString: case Tok::kRawString: {
        Next();
        TemplateNode* n = Make(NodeKind::kString, t);
        std::string s;
        if (!UnquoteGo(t.text, s)) Fail("bad string syntax: " + std::string(t.text), t);
        n->constant = arena_.StoreConstant(Value::String(std::move(s)));
        n->text = t.text;
        return n;
      }
      case Tok::kLeftParen: {
        Next();
        TemplateNode* inner = Pipeline("parenthesized pipeline", Tok::kRightParen);
        inner->parenthesized = true;
        return inner;
      }
      default: return nullptr;
    }
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  TemplateArena& arena_;
  LineCounter lines_;
  std::string_view name_;
  const FunctionTable& functions_;
  const Limits& limits_;
  int depth_ = 0;
  int range_depth_ = 0;
  bool after_pipe_ = false;  // a `|` was read and needs a command
  // Go checks variables at parse time; scopes are approximated by keeping
  // every declaration seen so far in this template.
  std::vector<std::string_view> vars_;
  // Child nodes of the lists being built, innermost last.
  std::vector<const TemplateNode*> stack_;
  std::vector<std::pair<std::string, const TemplateNode*>> defines_;
};

bool IsEmptyTree(const TemplateNode& n) {
  switch (n.kind) {
    case NodeKind::kList:
      for (const TemplateNode* c : n.nodes) {
        if (!IsEmptyTree(*c)) return false;
      }
      return true;
    case NodeKind::kText:
      for (char c : n.text) {
        if (!IsSpaceChar(c)) return false;
      }
      return true;
    default: return false;
  }
}

}  // namespace

TemplateArena::TemplateArena(std::string_view source)
    : source_(source), next_block_(std::max<std::size_t>(4096, source.size() * 4)) {}

TemplateArena::~TemplateArena() {
  for (Value* v : constants_) v->~Value();
}

void* TemplateArena::Grow(std::size_t size, std::size_t align) {
  std::size_t block = std::max(next_block_, size + align);
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(block));
  capacity_ = block;
  used_ = 0;
  next_block_ = block * 2;
  return Allocate(size, align);
}

TemplateNode* TemplateArena::NewNode(NodeKind kind, int line, int col) {
  // Copying a blank node compiles to a few vector stores; value-initializing
  // one became `rep stos`, which was a tenth of parse time.
  static_assert(std::is_trivially_copyable_v<TemplateNode>);
  static constexpr TemplateNode kBlank{};
  auto* n = static_cast<TemplateNode*>(Allocate(sizeof(TemplateNode), alignof(TemplateNode)));
  std::memcpy(static_cast<void*>(n), &kBlank, sizeof(TemplateNode));
  n->kind = kind;
  n->line = line;
  n->col = col;
  return n;
}

TemplateNode* TemplateArena::CopyNode(const TemplateNode& node) {
  return new (Allocate(sizeof(TemplateNode), alignof(TemplateNode))) TemplateNode(node);
}

std::string_view TemplateArena::Store(std::string_view s) {
  if (s.empty()) return {};
  auto* p = static_cast<char*>(Allocate(s.size(), 1));
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::span<const std::string_view> TemplateArena::Store(std::span<const std::string_view> items) {
  if (items.empty()) return {};
  auto* p = static_cast<std::string_view*>(Allocate(items.size() * sizeof(std::string_view), alignof(std::string_view)));
  std::uninitialized_copy(items.begin(), items.end(), p);
  return {p, items.size()};
}

std::span<const TemplateNode* const> TemplateArena::Store(std::span<const TemplateNode* const> items) {
  if (items.empty()) return {};
  auto* p = static_cast<const TemplateNode**>(
      Allocate(items.size() * sizeof(const TemplateNode*), alignof(const TemplateNode*)));
  std::copy(items.begin(), items.end(), p);
  return {p, items.size()};
}

const Value* TemplateArena::StoreConstant(Value v) {
  auto* stored = new (Allocate(sizeof(Value), alignof(Value))) Value(std::move(v));
  constants_.push_back(stored);
  return stored;
}

Result<std::vector<std::pair<std::string, TreePtr>>> TemplateSet::ParseTrees(const std::string& name,
                                                                            std::string_view text,
                                                                            const FunctionTable& functions,
                                                                            const Limits& limits) {
  auto arena = std::make_shared<TemplateArena>(text);
  try {
    Lexer lexer(arena->source());
    std::vector<Token> tokens = lexer.Run();
    Parser parser(std::move(tokens), *arena, name, functions, limits);
    auto trees = parser.Run();
    std::vector<std::pair<std::string, TreePtr>> out;
    out.reserve(trees.size());
    for (auto& [tree_name, node] : trees) out.emplace_back(std::move(tree_name), ShareTree(arena, node));
    return out;
  } catch (const ParseFailure& f) {
    return MakeError(ErrorCode::kInvalidInput, "template: parse error: " + f.message,
                     Location{name, f.line, f.col + 1, ""});
  }
}

Status TemplateSet::Parse(const std::string& name, std::string_view text, const FunctionTable& functions,
                          const Limits& limits) {
  auto trees = ParseTrees(name, text, functions, limits);
  if (!trees.ok()) return std::move(trees).error();
  for (auto& [n, tree] : *trees) Add(n, tree);
  return Status::Ok();
}

void TemplateSet::Add(const std::string& name, TreePtr tree) {
  auto it = templates_.find(name);
  if (it != templates_.end() && IsEmptyTree(*tree) && !IsEmptyTree(*it->second)) return;
  if (it == templates_.end() && parent_ != nullptr && IsEmptyTree(*tree)) {
    const TemplateNode* old = parent_->Find(name);
    if (old != nullptr && !IsEmptyTree(*old)) return;
  }
  templates_[name] = std::move(tree);
}

const TemplateNode* TemplateSet::Find(std::string_view name) const {
  auto it = templates_.find(name);
  if (it != templates_.end()) return it->second.get();
  return parent_ != nullptr ? parent_->Find(name) : nullptr;
}

}  // namespace keelson::helm
