// Lexer and parser for Go's text/template syntax.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "renderers/helm/template.h"
#include "renderers/helm/template_tree.h"

namespace keelson::helm {

namespace {

enum class Tok {
  kText, kLeftDelim, kRightDelim, kSpace, kIdentifier, kField, kVariable, kDot, kNil, kBool,
  kNumber, kString, kRawString, kChar, kPipe, kLeftParen, kRightParen, kDeclare, kAssign, kComma,
  kIf, kElse, kEnd, kRange, kWith, kDefine, kTemplate, kBlock, kBreak, kContinue, kEof,
};

struct Token {
  Tok type;
  std::string text;
  int line;
  int col;  // 0-based byte offset in the line, as Go reports it
};

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return c == '_' || std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) >= 0x80);
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
      if (end > start) Emit(out, Tok::kText, start, std::string(in_.substr(start, end - start)));
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
      Emit(out, Tok::kLeftDelim, delim_pos, "{{");
      trim_next = LexAction(out);
    }
    Emit(out, Tok::kEof, pos_, "");
    return out;
  }

 private:
  [[noreturn]] void Fail(const std::string& message, std::size_t at) {
    auto [line, col] = LineCol(at);
    throw ParseFailure{message, line, col};
  }

  std::pair<int, int> LineCol(std::size_t at) {
    // Incremental: positions only move forward in practice, but fall back
    // to a rescan when they do not.
    if (at < lc_pos_) {
      lc_pos_ = 0;
      lc_line_ = 1;
      lc_line_start_ = 0;
    }
    for (; lc_pos_ < at && lc_pos_ < in_.size(); ++lc_pos_) {
      if (in_[lc_pos_] == '\n') {
        ++lc_line_;
        lc_line_start_ = lc_pos_ + 1;
      }
    }
    return {lc_line_, static_cast<int>(at - lc_line_start_)};
  }

  void Emit(std::vector<Token>& out, Tok type, std::size_t at, std::string text) {
    auto [line, col] = LineCol(at);
    out.push_back(Token{type, std::move(text), line, col});
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
        Emit(out, Tok::kRightDelim, pos_, "}}");
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
        if (pos_ > start) Emit(out, Tok::kSpace, start, " ");
        continue;
      }
      switch (c) {
        case '=':
          ++pos_;
          Emit(out, Tok::kAssign, start, "=");
          continue;
        case ':':
          if (pos_ + 1 >= in_.size() || in_[pos_ + 1] != '=') Fail("expected :=", pos_);
          pos_ += 2;
          Emit(out, Tok::kDeclare, start, ":=");
          continue;
        case '|':
          ++pos_;
          Emit(out, Tok::kPipe, start, "|");
          continue;
        case ',':
          ++pos_;
          Emit(out, Tok::kComma, start, ",");
          continue;
        case '(':
          ++pos_;
          ++parens;
          Emit(out, Tok::kLeftParen, start, "(");
          continue;
        case ')':
          ++pos_;
          if (--parens < 0) Fail("unexpected right paren", start);
          Emit(out, Tok::kRightParen, start, ")");
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
          Emit(out, Tok::kString, start, std::string(in_.substr(start, pos_ - start)));
          continue;
        }
        case '`': {
          std::size_t close = in_.find('`', pos_ + 1);
          if (close == std::string_view::npos) Fail("unterminated raw quoted string", start);
          pos_ = close + 1;
          Emit(out, Tok::kRawString, start, std::string(in_.substr(start, pos_ - start)));
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
          Emit(out, Tok::kChar, start, std::string(in_.substr(start, pos_ - start)));
          continue;
        }
        case '$': {
          ++pos_;
          while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
          Emit(out, Tok::kVariable, start, std::string(in_.substr(start, pos_ - start)));
          continue;
        }
        case '.': {
          if (pos_ + 1 < in_.size() && std::isdigit(static_cast<unsigned char>(in_[pos_ + 1]))) {
            LexNumber(out);
            continue;
          }
          ++pos_;
          if (pos_ < in_.size() && IsAlnum(in_[pos_])) {
            while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
            Emit(out, Tok::kField, start, std::string(in_.substr(start, pos_ - start)));
          } else {
            Emit(out, Tok::kDot, start, ".");
          }
          continue;
        }
        default: break;
      }
      if (c == '+' || c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
        LexNumber(out);
        continue;
      }
      if (IsAlnum(c)) {
        while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
        std::string word(in_.substr(start, pos_ - start));
        Tok t = Tok::kIdentifier;
        static const std::pair<const char*, Tok> kKeywords[] = {
            {"if", Tok::kIf}, {"else", Tok::kElse}, {"end", Tok::kEnd}, {"range", Tok::kRange},
            {"with", Tok::kWith}, {"define", Tok::kDefine}, {"template", Tok::kTemplate},
            {"block", Tok::kBlock}, {"break", Tok::kBreak}, {"continue", Tok::kContinue},
            {"nil", Tok::kNil}, {"true", Tok::kBool}, {"false", Tok::kBool}};
        for (const auto& [kw, tok] : kKeywords) {
          if (word == kw) t = tok;
        }
        Emit(out, t, start, word);
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
    Emit(out, Tok::kNumber, start, std::string(in_.substr(start, pos_ - start)));
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t lc_pos_ = 0;
  int lc_line_ = 1;
  std::size_t lc_line_start_ = 0;
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
bool ParseNumber(std::string text, Value& out) {
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
  Parser(std::vector<Token> tokens, const std::string& name, const FunctionTable& functions, const Limits& limits)
      : toks_(std::move(tokens)), name_(name), functions_(functions), limits_(limits) {}

  std::vector<std::pair<std::string, TreePtr>> Run() {
    auto root = std::make_shared<TemplateNode>();
    root->kind = NodeKind::kList;
    root->line = 1;
    root->text = name_;
    while (Peek().type != Tok::kEof) {
      if (Peek().type == Tok::kLeftDelim && PeekAfterDelim() == Tok::kDefine) {
        Next();  // {{
        SkipSpace();
        Next();  // define
        ParseDefine();
        continue;
      }
      TreePtr n = TextOrAction(root.get());
      if (n) root->nodes.push_back(n);
    }
    defines_.insert(defines_.begin(), {name_, root});
    return std::move(defines_);
  }

 private:
  [[noreturn]] void Fail(const std::string& message, const Token& at) {
    throw ParseFailure{message, at.line, at.col};
  }

  const Token& Peek() { return toks_[pos_]; }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  void SkipSpace() {
    while (Peek().type == Tok::kSpace) Next();
  }
  const Token& NextNonSpace() {
    SkipSpace();
    return Next();
  }
  const Token& PeekNonSpace() {
    SkipSpace();
    return Peek();
  }
  Tok PeekAfterDelim() {
    std::size_t p = pos_ + 1;
    while (p < toks_.size() && toks_[p].type == Tok::kSpace) ++p;
    return p < toks_.size() ? toks_[p].type : Tok::kEof;
  }

  std::shared_ptr<TemplateNode> Make(NodeKind kind, const Token& at) {
    auto n = std::make_shared<TemplateNode>();
    n->kind = kind;
    n->line = at.line;
    n->col = at.col;
    return n;
  }

  void ParseDefine() {
    const Token& name_tok = NextNonSpace();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) Fail("expected name in define clause", name_tok);
    std::string name;
    if (!UnquoteGo(name_tok.text, name)) Fail("bad string in define clause", name_tok);
    const Token& close = NextNonSpace();
    if (close.type != Tok::kRightDelim) Fail("unexpected " + close.text + " in define clause", close);
    auto body = Make(NodeKind::kList, name_tok);
    body->text = name_;
    Tok end = ItemList(body.get());
    if (end != Tok::kEnd) Fail("unexpected {{else}} in define", Peek());
    defines_.emplace_back(name, body);
  }

  // Parses until {{end}} or {{else}}; returns which one ended the list.
  Tok ItemList(TemplateNode* list) {
    if (++depth_ > limits_.max_parse_depth) Fail("template nesting exceeds the limit", Peek());
    while (true) {
      const Token& t = Peek();
      if (t.type == Tok::kEof) Fail("unexpected EOF", t);
      if (t.type == Tok::kLeftDelim) {
        Tok k = PeekAfterDelim();
        if (k == Tok::kEnd || k == Tok::kElse) {
          Next();
          SkipSpace();
          Next();
          if (k == Tok::kEnd) {
            const Token& close = NextNonSpace();
            if (close.type != Tok::kRightDelim) Fail("unexpected " + close.text + " in end", close);
          }
          --depth_;
          return k;
        }
        if (k == Tok::kDefine) Fail("unexpected define: define clauses are only allowed at top level", t);
      }
      TreePtr n = TextOrAction(list);
      if (n) list->nodes.push_back(n);
    }
  }

  TreePtr TextOrAction(TemplateNode* /*parent*/) {
    const Token& t = Next();
    if (t.type == Tok::kText) {
      auto n = Make(NodeKind::kText, t);
      n->text = t.text;
      return n;
    }
    if (t.type == Tok::kLeftDelim) return Action(t);
    Fail("unexpected " + t.text + " in input", t);
  }

  TreePtr Action(const Token& open) {
    const Token& t = PeekNonSpace();
    switch (t.type) {
      case Tok::kBlock: Next(); return BlockControl(t);
      case Tok::kBreak: case Tok::kContinue: {
        Token tok = Next();
        if (range_depth_ == 0) Fail(std::string("{{") + tok.text + "}} outside {{range}}", tok);
        const Token& close = NextNonSpace();
        if (close.type != Tok::kRightDelim) Fail("unexpected " + close.text + " in {{" + tok.text + "}}", close);
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
    auto n = Make(NodeKind::kAction, open);
    n->pipe = Pipeline("command", Tok::kRightDelim);
    return n;
  }

  TreePtr Control(NodeKind kind, const Token& kw) {
    auto n = Make(kind, kw);
    const char* context = kind == NodeKind::kIf ? "if" : kind == NodeKind::kRange ? "range" : "with";
    n->pipe = Pipeline(context, Tok::kRightDelim);
    auto list = Make(NodeKind::kList, kw);
    if (kind == NodeKind::kRange) ++range_depth_;
    Tok end = ItemList(list.get());
    if (kind == NodeKind::kRange) --range_depth_;
    n->list = list;
    if (end == Tok::kElse) {
      // {{else if ...}} / {{else with ...}} nest a control whose {{end}}
      // closes both.
      const Token& after = PeekNonSpace();
      if ((kind == NodeKind::kIf && after.type == Tok::kIf) || (kind == NodeKind::kWith && after.type == Tok::kWith)) {
        Token kw2 = Next();
        auto else_list = Make(NodeKind::kList, kw2);
        else_list->nodes.push_back(Control(kind, kw2));
        n->else_list = else_list;
        return n;
      }
      const Token& close = NextNonSpace();
      if (close.type != Tok::kRightDelim) Fail("unexpected " + close.text + " in else", close);
      auto else_list = Make(NodeKind::kList, close);
      Tok end2 = ItemList(else_list.get());
      if (end2 != Tok::kEnd) Fail("expected end; found {{else}}", Peek());
      n->else_list = else_list;
    }
    return n;
  }

  TreePtr TemplateControl(const Token& kw) {
    const Token& name_tok = NextNonSpace();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) Fail("unexpected " + name_tok.text + " in template clause", name_tok);
    auto n = Make(NodeKind::kTemplate, kw);
    if (!UnquoteGo(name_tok.text, n->text)) Fail("bad string in template clause", name_tok);
    if (PeekNonSpace().type != Tok::kRightDelim) {
      n->pipe = Pipeline("template clause", Tok::kRightDelim);
    } else {
      Next();
    }
    return n;
  }

  TreePtr BlockControl(const Token& kw) {
    const Token& name_tok = NextNonSpace();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) Fail("unexpected " + name_tok.text + " in block clause", name_tok);
    auto n = Make(NodeKind::kTemplate, kw);
    if (!UnquoteGo(name_tok.text, n->text)) Fail("bad string in block clause", name_tok);
    n->pipe = Pipeline("block clause", Tok::kRightDelim);
    auto body = Make(NodeKind::kList, kw);
    body->text = name_;
    Tok end = ItemList(body.get());
    if (end != Tok::kEnd) Fail("unexpected {{else}} in block clause", Peek());
    defines_.emplace_back(n->text, body);
    return n;
  }

  TreePtr Pipeline(const std::string& context, Tok end) {
    if (++depth_ > limits_.max_parse_depth) Fail("expression nesting exceeds the limit", Peek());
    auto pipe = Make(NodeKind::kPipe, Peek());
    // Declarations: $x := / $x = / $i, $v :=
    SkipSpace();
    if (Peek().type == Tok::kVariable) {
      std::size_t save = pos_;
      Token v = Next();
      SkipSpace();
      const Token& op = Peek();
      if (op.type == Tok::kDeclare || op.type == Tok::kAssign) {
        Next();
        pipe->decls.push_back(v.text);
        pipe->is_assign = op.type == Tok::kAssign;
        if (!pipe->is_assign) vars_.push_back(v.text);
      } else if (op.type == Tok::kComma && context == "range") {
        Next();
        SkipSpace();
        const Token& v2 = Next();
        if (v2.type != Tok::kVariable) Fail("range can only initialize variables", v2);
        SkipSpace();
        const Token& op2 = Next();
        if (op2.type != Tok::kDeclare && op2.type != Tok::kAssign) Fail("range can only initialize variables", op2);
        pipe->decls = {v.text, v2.text};
        pipe->is_assign = op2.type == Tok::kAssign;
        if (!pipe->is_assign) {
          vars_.push_back(v.text);
          vars_.push_back(v2.text);
        }
      } else if (op.type == Tok::kComma) {
        Fail("too many declarations in " + context, op);
      } else {
        pos_ = save;
      }
    }
    while (true) {
      SkipSpace();
      const Token& t = Peek();
      if (t.type == end) {
        if (after_pipe_) Fail("missing command", t);
        Next();
        if (pipe->nodes.empty()) Fail("missing value for " + context, t);
        break;
      }
      after_pipe_ = false;
      switch (t.type) {
        case Tok::kBool: case Tok::kChar: case Tok::kDot: case Tok::kField: case Tok::kIdentifier:
        case Tok::kNumber: case Tok::kNil: case Tok::kRawString: case Tok::kString: case Tok::kVariable:
        case Tok::kLeftParen:
          pipe->nodes.push_back(Command(end));
          break;
        default:
          Fail("unexpected " + Describe(t) + " in " + context, t);
      }
    }
    --depth_;
    return pipe;
  }

  static std::string Describe(const Token& t) {
    if (t.type == Tok::kRightDelim) return "\"}}\"";
    if (t.type == Tok::kEof) return "EOF";
    return "\"" + t.text + "\"";
  }

  TreePtr Command(Tok end) {
    auto cmd = Make(NodeKind::kCommand, Peek());
    while (true) {
      SkipSpace();
      TreePtr op = Operand();
      if (!op) Fail("unexpected " + Describe(Peek()) + " in operand", Peek());
      cmd->nodes.push_back(op);
      const Token& t = Peek();
      if (t.type == Tok::kSpace) {
        SkipSpace();
        const Token& after = Peek();
        if (after.type == end || after.type == Tok::kRightParen) break;
        if (after.type == Tok::kPipe) {
          Next();
          after_pipe_ = true;
          break;
        }
        continue;
      }
      if (t.type == end || t.type == Tok::kRightParen) break;
      if (t.type == Tok::kPipe) {
        Next();
        after_pipe_ = true;
        break;
      }
      Fail("unexpected " + Describe(t) + " in operand", t);
    }
    return cmd;
  }

  TreePtr Operand() {
    TreePtr node = Term();
    if (!node) return nullptr;
    if (Peek().type == Tok::kField) {
      if (node->kind == NodeKind::kBool || node->kind == NodeKind::kString || node->kind == NodeKind::kNumber ||
          node->kind == NodeKind::kNil || node->kind == NodeKind::kDot) {
        Fail("unexpected . after term", Peek());
      }
      std::vector<std::string> fields;
      while (Peek().type == Tok::kField) fields.push_back(Next().text.substr(1));
      if (node->kind == NodeKind::kField || node->kind == NodeKind::kVariable) {
        auto merged = std::make_shared<TemplateNode>(*node);
        for (auto& f : fields) merged->idents.push_back(f);
        return merged;
      }
      auto chain = std::make_shared<TemplateNode>();
      chain->kind = NodeKind::kChain;
      chain->line = node->line;
      chain->col = node->col;
      chain->pipe = node;
      chain->idents = std::move(fields);
      return chain;
    }
    return node;
  }

  TreePtr Term() {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kIdentifier: {
        Next();
        if (!functions_.Has(t.text)) Fail("function \"" + t.text + "\" not defined", t);
        auto n = Make(NodeKind::kIdentifier, t);
        n->text = t.text;
        return n;
      }
      case Tok::kDot: Next(); return Make(NodeKind::kDot, t);
      case Tok::kNil: Next(); return Make(NodeKind::kNil, t);
      case Tok::kVariable: {
        Next();
        bool known = t.text == "$";
        for (const auto& v : vars_) known = known || v == t.text;
        if (!known) Fail("undefined variable \"" + t.text + "\"", t);
        auto n = Make(NodeKind::kVariable, t);
        n->idents.push_back(t.text);
        return n;
      }
      case Tok::kField: {
        Next();
        auto n = Make(NodeKind::kField, t);
        n->idents.push_back(t.text.substr(1));
        return n;
      }
      case Tok::kBool: {
        Next();
        auto n = Make(NodeKind::kBool, t);
        n->constant = Value::Bool(t.text == "true");
        n->text = t.text;
        return n;
      }
      case Tok::kChar: {
        Next();
        std::string decoded;
        if (!UnquoteGo(t.text, decoded) || decoded.empty()) Fail("malformed character constant: " + t.text, t);
        // Decode the single rune.
        std::uint32_t r = static_cast<unsigned char>(decoded[0]);
        if (r >= 0x80) {
          int n = r >= 0xF0 ? 4 : r >= 0xE0 ? 3 : 2;
          r &= (0x3F >> (n - 1));
          for (int k = 1; k < n && static_cast<std::size_t>(k) < decoded.size(); ++k) r = (r << 6) | (decoded[static_cast<std::size_t>(k)] & 0x3F);
        }
        auto n = Make(NodeKind::kNumber, t);
        n->constant = Value::Int(r);
        n->text = t.text;
        return n;
      }
      case Tok::kNumber: {
        Next();
        auto n = Make(NodeKind::kNumber, t);
        if (!ParseNumber(t.text, n->constant)) Fail("bad number syntax: \"" + t.text + "\"", t);
        n->text = t.text;
        return n;
      }
      case Tok::kString: case Tok::kRawString: {
        Next();
        auto n = Make(NodeKind::kString, t);
        std::string s;
        if (!UnquoteGo(t.text, s)) Fail("bad string syntax: " + t.text, t);
        n->constant = Value::String(s);
        n->text = t.text;
        return n;
      }
      case Tok::kLeftParen: {
        Next();
        auto n = Make(NodeKind::kPipe, t);
        TreePtr inner = Pipeline("parenthesized pipeline", Tok::kRightParen);
        auto copy = std::make_shared<TemplateNode>(*inner);
        copy->parenthesized = true;
        return copy;
      }
      default: return nullptr;
    }
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  const std::string& name_;
  const FunctionTable& functions_;
  const Limits& limits_;
  int depth_ = 0;
  int range_depth_ = 0;
  bool after_pipe_ = false;  // a `|` was read and needs a command
  // Go checks variables at parse time; scopes are approximated by keeping
  // every declaration seen so far in this template.
  std::vector<std::string> vars_;
  std::vector<std::pair<std::string, TreePtr>> defines_;
};

bool IsEmptyTree(const TemplateNode& n) {
  switch (n.kind) {
    case NodeKind::kList:
      for (const auto& c : n.nodes) {
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

Result<std::vector<std::pair<std::string, TreePtr>>> TemplateSet::ParseTrees(const std::string& name,
                                                                            std::string_view text,
                                                                            const FunctionTable& functions,
                                                                            const Limits& limits) {
  try {
    Lexer lexer(text);
    std::vector<Token> tokens = lexer.Run();
    Parser parser(std::move(tokens), name, functions, limits);
    return parser.Run();
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
  auto it = templates_.find(std::string(name));
  if (it != templates_.end()) return it->second.get();
  return parent_ != nullptr ? parent_->Find(name) : nullptr;
}

}  // namespace keelson::helm
