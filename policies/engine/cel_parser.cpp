// Lexer, parser and type checker for the CEL subset. One pass: every node is
// type-checked as it is built, so errors come out in source order.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "policies/engine/cel.h"
#include "policies/engine/cel_ast.h"

namespace keelson::policy::cel {

using internal::BinaryOp;
using internal::Builtin;
using internal::Expr;
using internal::ExprKind;
using internal::Macro;

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kDyn: return "dyn";
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kUint: return "uint";
    case Type::kDouble: return "double";
    case Type::kString: return "string";
    case Type::kList: return "list";
    case Type::kMap: return "map";
  }
  return "dyn";
}

Location OffsetToLocation(std::string_view text, std::size_t offset) {
  Location loc;
  loc.line = 1;
  loc.column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

namespace {

struct CompileError {
  std::size_t offset;
  std::string message;
};

[[noreturn]] void Fail(std::size_t offset, std::string message) { throw CompileError{offset, std::move(message)}; }

enum class Tok : std::uint8_t { kEnd, kIdent, kInt, kUint, kDouble, kString, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  std::size_t offset = 0;
  std::string text;  // identifier, punctuation, or decoded string
  std::int64_t int_value = 0;
  std::uint64_t uint_value = 0;
  double double_value = 0;
  bool int_overflow = false;  // 9223372036854775808, only valid after '-'
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd: return "end of expression";
    case Tok::kString: return "string literal";
    case Tok::kInt:
    case Tok::kUint:
    case Tok::kDouble: return "number";
    default: return "'" + t.text + "'";
  }
}

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

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Token Next() {
    SkipSpaceAndComments();
    Token t;
    t.offset = pos_;
    if (pos_ >= src_.size()) return t;
    char c = src_[pos_];
    if (IsIdentStart(c)) {
      std::size_t start = pos_;
      while (pos_ < src_.size() && (IsIdentStart(src_[pos_]) || IsDigit(src_[pos_]))) ++pos_;
      std::string_view word = src_.substr(start, pos_ - start);
      // r'...' raw and b'...' bytes prefixes.
      if (pos_ < src_.size() && (src_[pos_] == '\'' || src_[pos_] == '"') &&
          (word == "r" || word == "R" || word == "b" || word == "B" || word == "rb" || word == "br" ||
           word == "RB" || word == "BR" || word == "Rb" || word == "bR" || word == "rB" || word == "Br")) {
        if (word.find_first_of("bB") != std::string_view::npos) Fail(start, "bytes literals are not supported");
        return String(start, true);
      }
      t.kind = Tok::kIdent;
      t.text = std::string(word);
      return t;
    }
    if (IsDigit(c) || (c == '.' && pos_ + 1 < src_.size() && IsDigit(src_[pos_ + 1]))) return Number();
    if (c == '\'' || c == '"') return String(pos_, false);
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (std::string_view op : kTwo) {
      if (src_.substr(pos_).starts_with(op)) {
        t.kind = Tok::kPunct;
        t.text = std::string(op);
        pos_ += 2;
        return t;
      }
    }
    if (std::strchr("+-*/%!<>?:.,()[]{}", c) != nullptr && c != '\0') {
      t.kind = Tok::kPunct;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      Fail(pos_, "unexpected character (byte 0x" + Hex(static_cast<unsigned char>(c)) + ")");
    }
    Fail(pos_, std::string("unexpected character '") + c + "'");
  }

 private:
  static std::string Hex(unsigned v) {
    const char* digits = "0123456789abcdef";
    return std::string{digits[(v >> 4) & 0xF], digits[v & 0xF]};
  }

  void SkipSpaceAndComments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  Token Number() {
    Token t;
    t.offset = pos_;
    std::size_t start = pos_;
    if (src_.substr(pos_).starts_with("0x") || src_.substr(pos_).starts_with("0X")) {
      pos_ += 2;
      std::size_t digits = pos_;
      while (pos_ < src_.size() && std::isxdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      if (pos_ == digits) Fail(start, "invalid number literal");
      return Integer(t, src_.substr(digits, pos_ - digits), 16);
    }
    while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    bool is_double = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
      is_double = true;
      ++pos_;
      while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      is_double = true;
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
      std::size_t digits = pos_;
      while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
      if (pos_ == digits) Fail(start, "invalid number literal: exponent has no digits");
    }
    if (is_double) {
      std::string text(src_.substr(start, pos_ - start));
      t.kind = Tok::kDouble;
      t.double_value = std::strtod(text.c_str(), nullptr);
      if (pos_ < src_.size() && IsIdentStart(src_[pos_])) Fail(start, "invalid number literal");
      return t;
    }
    return Integer(t, src_.substr(start, pos_ - start), 10);
  }

  Token Integer(Token t, std::string_view digits, int base) {
    bool is_uint = pos_ < src_.size() && (src_[pos_] == 'u' || src_[pos_] == 'U');
    if (is_uint) ++pos_;
    if (pos_ < src_.size() && (IsIdentStart(src_[pos_]) || IsDigit(src_[pos_]))) {
      Fail(t.offset, "invalid number literal");
    }
    std::uint64_t v = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
      Fail(t.offset, "integer literal out of range");
    }
    if (is_uint) {
      t.kind = Tok::kUint;
      t.uint_value = v;
      return t;
    }
    t.kind = Tok::kInt;
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      if (v != static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
        Fail(t.offset, "integer literal out of range");
      }
      t.int_overflow = true;  // only valid as the operand of unary minus
      t.int_value = std::numeric_limits<std::int64_t>::min();
      return t;
    }
    t.int_value = static_cast<std::int64_t>(v);
    return t;
  }

  Token String(std::size_t start, bool raw) {
    Token t;
    t.offset = start;
    t.kind = Tok::kString;
    char quote = src_[pos_];
    bool triple = src_.substr(pos_).starts_with(std::string(3, quote));
    pos_ += triple ? 3 : 1;
    while (true) {
      if (pos_ >= src_.size()) Fail(start, "unterminated string literal");
      char c = src_[pos_];
      if (triple ? src_.substr(pos_).starts_with(std::string(3, quote)) : c == quote) {
        pos_ += triple ? 3 : 1;
        return t;
      }
      if (!triple && (c == '\n' || c == '\r')) Fail(start, "unterminated string literal (newline in string)");
      if (c == '\\' && !raw) {
        std::size_t esc = pos_;
        ++pos_;
        if (pos_ >= src_.size()) Fail(start, "unterminated string literal");
        char e = src_[pos_++];
        switch (e) {
          case 'n': t.text += '\n'; break;
          case 't': t.text += '\t'; break;
          case 'r': t.text += '\r'; break;
          case 'a': t.text += '\a'; break;
          case 'b': t.text += '\b'; break;
          case 'f': t.text += '\f'; break;
          case 'v': t.text += '\v'; break;
          case '\\': t.text += '\\'; break;
          case '\'': t.text += '\''; break;
          case '"': t.text += '"'; break;
          case '`': t.text += '`'; break;
          case '?': t.text += '?'; break;
          case 'x':
          case 'u':
          case 'U': {
            std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (pos_ + n > src_.size()) Fail(esc, std::string("invalid escape sequence '\\") + e + "'");
            std::uint32_t cp = 0;
            auto r = std::from_chars(src_.data() + pos_, src_.data() + pos_ + n, cp, 16);
            if (r.ec != std::errc() || r.ptr != src_.data() + pos_ + n || cp > 0x10FFFF ||
                (cp >= 0xD800 && cp <= 0xDFFF)) {
              Fail(esc, std::string("invalid escape sequence '\\") + e + "'");
            }
            pos_ += n;
            AppendUtf8(t.text, cp);
            break;
          }
          default:
            if (e >= '0' && e <= '3' && pos_ + 2 <= src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7' &&
                src_[pos_ + 1] >= '0' && src_[pos_ + 1] <= '7') {
              std::uint32_t cp = static_cast<std::uint32_t>((e - '0') * 64 + (src_[pos_] - '0') * 8 + (src_[pos_ + 1] - '0'));
              pos_ += 2;
              AppendUtf8(t.text, cp);
              break;
            }
            Fail(esc, std::string("invalid escape sequence '\\") + e + "'");
        }
        continue;
      }
      t.text += c;
      ++pos_;
    }
  }

  std::string_view src_;
  std::size_t pos_ = 0;
};

bool IsReserved(std::string_view w) {
  static constexpr std::string_view kWords[] = {"as", "break", "const", "continue", "else", "for", "function",
                                                "if", "import", "let", "loop", "package", "namespace",
                                                "return", "var", "void", "while"};
  for (std::string_view k : kWords) {
    if (w == k) return true;
  }
  return false;
}

struct BuiltinInfo {
  std::string_view name;
  Builtin builtin;
  bool receiver;      // x.f(...)
  bool global;        // f(...)
  std::size_t arity;  // arguments after the receiver (receiver style) or all (global)
  std::size_t arity_alt;  // a second accepted arity, or the same
};

constexpr BuiltinInfo kBuiltins[] = {
    {"size", Builtin::kSize, true, true, 0, 0},
    {"startsWith", Builtin::kStartsWith, true, false, 1, 1},
    {"endsWith", Builtin::kEndsWith, true, false, 1, 1},
    {"contains", Builtin::kContains, true, false, 1, 1},
    {"matches", Builtin::kMatches, true, true, 1, 1},
    {"lowerAscii", Builtin::kLowerAscii, true, false, 0, 0},
    {"upperAscii", Builtin::kUpperAscii, true, false, 0, 0},
    {"trim", Builtin::kTrim, true, false, 0, 0},
    {"split", Builtin::kSplit, true, false, 1, 1},
    {"join", Builtin::kJoin, true, false, 0, 1},
    {"replace", Builtin::kReplace, true, false, 2, 2},
    {"indexOf", Builtin::kIndexOf, true, false, 1, 1},
    {"int", Builtin::kToInt, false, true, 1, 1},
    {"uint", Builtin::kToUint, false, true, 1, 1},
    {"double", Builtin::kToDouble, false, true, 1, 1},
    {"string", Builtin::kToString, false, true, 1, 1},
    {"bool", Builtin::kToBool, false, true, 1, 1},
    {"dyn", Builtin::kDyn, false, true, 1, 1},
};

bool Known(Type t) { return t != Type::kDyn; }
bool IsNumeric(Type t) { return t == Type::kInt || t == Type::kUint || t == Type::kDouble; }
bool BoolOrDyn(Type t) { return t == Type::kBool || t == Type::kDyn; }

const char* OpSpelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kEq: return "==";
    case BinaryOp::kNe: return "!=";
    case BinaryOp::kLt: return "<";
    case BinaryOp::kLe: return "<=";
    case BinaryOp::kGt: return ">";
    case BinaryOp::kGe: return ">=";
    case BinaryOp::kIn: return "in";
  }
  return "?";
}

std::string Overload(std::string_view op, std::initializer_list<Type> types) {
  std::string s = "no matching overload for '" + std::string(op) + "' applied to (";
  bool first = true;
  for (Type t : types) {
    if (!first) s += ", ";
    first = false;
    s += TypeName(t);
  }
  return s + ")";
}

class Parser {
 public:
  Parser(std::string_view src, const Declarations& decls, const CompileLimits& limits)
      : lexer_(src), decls_(decls), limits_(limits) {
    Advance();
  }

  std::unique_ptr<Expr> ParseAll() {
    auto e = ParseExpr();
    if (tok_.kind != Tok::kEnd) Fail(tok_.offset, "unexpected " + Describe(tok_) + " after the end of the expression");
    return e;
  }

  std::size_t max_locals() const { return max_locals_; }

 private:
  void Advance() { tok_ = lexer_.Next(); }
  bool IsPunct(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  bool IsWord(std::string_view w) const { return tok_.kind == Tok::kIdent && tok_.text == w; }
  void Expect(std::string_view p) {
    if (!IsPunct(p)) Fail(tok_.offset, "expected '" + std::string(p) + "' but found " + Describe(tok_));
    Advance();
  }

  std::unique_ptr<Expr> Make(ExprKind kind, std::size_t offset, std::vector<std::unique_ptr<Expr>> kids = {}) {
    if (++nodes_ > limits_.max_nodes) {
      Fail(offset, "expression is too large (more than " + std::to_string(limits_.max_nodes) + " nodes)");
    }
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = static_cast<int>(offset);
    for (auto& k : kids) e->depth = std::max(e->depth, k->depth + 1);
    if (e->depth > limits_.max_depth) {
      Fail(offset, "expression nests too deeply (more than " + std::to_string(limits_.max_depth) + " levels)");
    }
    e->kids = std::move(kids);
    return e;
  }

  template <typename... K>
  static std::vector<std::unique_ptr<Expr>> Kids(K&&... kids) {
    std::vector<std::unique_ptr<Expr>> v;
    (v.push_back(std::move(kids)), ...);
    return v;
  }

  // Recursion guard for the descent itself (parentheses, unary chains).
  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, std::size_t offset) : p(parser) {
      if (++p.recursion_ > p.limits_.max_depth) {
        Fail(offset, "expression nests too deeply (more than " + std::to_string(p.limits_.max_depth) + " levels)");
      }
    }
    ~DepthGuard() { --p.recursion_; }
  };

  std::unique_ptr<Expr> ParseExpr() {
    DepthGuard guard(*this, tok_.offset);
    auto cond = ParseOr();
    if (!IsPunct("?")) return cond;
    std::size_t at = tok_.offset;
    Advance();
    auto yes = ParseOr();
    Expect(":");
    auto no = ParseExpr();
    if (!BoolOrDyn(cond->type)) {
      Fail(static_cast<std::size_t>(cond->offset), "ternary condition must be bool, found " + std::string(TypeName(cond->type)));
    }
    Type result = yes->type == no->type ? yes->type : Type::kDyn;
    auto e = Make(ExprKind::kTernary, at, Kids(std::move(cond), std::move(yes), std::move(no)));
    e->type = result;
    return e;
  }

  std::unique_ptr<Expr> Logical(ExprKind kind, std::string_view op, std::size_t at, std::unique_ptr<Expr> l,
                                std::unique_ptr<Expr> r) {
    for (const auto* side : {l.get(), r.get()}) {
      if (!BoolOrDyn(side->type)) {
        Fail(static_cast<std::size_t>(side->offset),
             "'" + std::string(op) + "' needs bool operands, found " + std::string(TypeName(side->type)));
      }
    }
    auto e = Make(kind, at, Kids(std::move(l), std::move(r)));
    e->type = Type::kBool;
    return e;
  }

  std::unique_ptr<Expr> ParseOr() {
    auto left = ParseAnd();
    while (IsPunct("||")) {
      std::size_t at = tok_.offset;
      Advance();
      left = Logical(ExprKind::kOr, "||", at, std::move(left), ParseAnd());
    }
    return left;
  }

  std::unique_ptr<Expr> ParseAnd() {
    auto left = ParseRelation();
    while (IsPunct("&&")) {
      std::size_t at = tok_.offset;
      Advance();
      left = Logical(ExprKind::kAnd, "&&", at, std::move(left), ParseRelation());
    }
    return left;
  }

  std::unique_ptr<Expr> Binary(BinaryOp op, std::size_t at, std::unique_ptr<Expr> l, std::unique_ptr<Expr> r) {
    Type lt = l->type, rt = r->type;
    Type result = Type::kDyn;
    switch (op) {
      case BinaryOp::kEq:
      case BinaryOp::kNe: result = Type::kBool; break;
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe:
        if (Known(lt) && Known(rt) && !(IsNumeric(lt) && IsNumeric(rt)) &&
            !(lt == rt && (lt == Type::kString || lt == Type::kBool))) {
          Fail(at, Overload(OpSpelling(op), {lt, rt}));
        }
        result = Type::kBool;
        break;
      case BinaryOp::kIn:
        if (Known(rt) && rt != Type::kList && rt != Type::kMap) Fail(at, Overload("in", {lt, rt}));
        result = Type::kBool;
        break;
      default:
        if (Known(lt) && Known(rt)) {
          bool ok = (lt == rt && IsNumeric(lt) && !(op == BinaryOp::kMod && lt == Type::kDouble)) ||
                    (op == BinaryOp::kAdd && lt == rt && (lt == Type::kString || lt == Type::kList));
          if (!ok) Fail(at, Overload(OpSpelling(op), {lt, rt}));
          result = lt;
        } else if (Known(lt) && (lt == Type::kNull || lt == Type::kBool || lt == Type::kMap)) {
          Fail(at, Overload(OpSpelling(op), {lt, rt}));
        } else if (Known(rt) && (rt == Type::kNull || rt == Type::kBool || rt == Type::kMap)) {
          Fail(at, Overload(OpSpelling(op), {lt, rt}));
        }
    }
    auto e = Make(ExprKind::kBinary, at, Kids(std::move(l), std::move(r)));
    e->op = op;
    e->type = result;
    return e;
  }

  std::unique_ptr<Expr> ParseRelation() {
    auto left = ParseAddition();
    while (true) {
      BinaryOp op;
      if (IsPunct("==")) op = BinaryOp::kEq;
      else if (IsPunct("!=")) op = BinaryOp::kNe;
      else if (IsPunct("<")) op = BinaryOp::kLt;
      else if (IsPunct("<=")) op = BinaryOp::kLe;
      else if (IsPunct(">")) op = BinaryOp::kGt;
      else if (IsPunct(">=")) op = BinaryOp::kGe;
      else if (IsWord("in")) op = BinaryOp::kIn;
      else return left;
      std::size_t at = tok_.offset;
      Advance();
      left = Binary(op, at, std::move(left), ParseAddition());
    }
  }

  std::unique_ptr<Expr> ParseAddition() {
    auto left = ParseMultiplication();
    while (IsPunct("+") || IsPunct("-")) {
      BinaryOp op = IsPunct("+") ? BinaryOp::kAdd : BinaryOp::kSub;
      std::size_t at = tok_.offset;
      Advance();
      left = Binary(op, at, std::move(left), ParseMultiplication());
    }
    return left;
  }

  std::unique_ptr<Expr> ParseMultiplication() {
    auto left = ParseUnary();
    while (IsPunct("*") || IsPunct("/") || IsPunct("%")) {
      BinaryOp op = IsPunct("*") ? BinaryOp::kMul : IsPunct("/") ? BinaryOp::kDiv : BinaryOp::kMod;
      std::size_t at = tok_.offset;
      Advance();
      left = Binary(op, at, std::move(left), ParseUnary());
    }
    return left;
  }

  std::unique_ptr<Expr> ParseUnary() {
    DepthGuard guard(*this, tok_.offset);
    if (IsPunct("!")) {
      std::size_t at = tok_.offset;
      Advance();
      auto operand = ParseUnary();
      if (!BoolOrDyn(operand->type)) {
        Fail(at, "'!' needs a bool operand, found " + std::string(TypeName(operand->type)));
      }
      auto e = Make(ExprKind::kNot, at, Kids(std::move(operand)));
      e->type = Type::kBool;
      return e;
    }
    if (IsPunct("-")) {
      std::size_t at = tok_.offset;
      Advance();
      // Fold -<int literal> so the most negative int64 can be written.
      if (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) {
        Token lit = tok_;
        Advance();
        auto e = Make(ExprKind::kLiteral, at);
        if (lit.kind == Tok::kInt) {
          e->literal = Value::Int(lit.int_overflow ? lit.int_value : -lit.int_value);
          e->type = Type::kInt;
        } else {
          e->literal = Value::Double(-lit.double_value);
          e->type = Type::kDouble;
        }
        return ParseMemberSuffix(std::move(e));
      }
      auto operand = ParseUnary();
      if (Known(operand->type) && operand->type != Type::kInt && operand->type != Type::kDouble) {
        Fail(at, Overload("-", {operand->type}));
      }
      Type t = operand->type;
      auto e = Make(ExprKind::kNegate, at, Kids(std::move(operand)));
      e->type = t;
      return e;
    }
    return ParseMemberSuffix(ParsePrimary());
  }

  std::vector<std::unique_ptr<Expr>> ParseArgs(std::string_view close) {
    std::vector<std::unique_ptr<Expr>> args;
    if (IsPunct(close)) {
      Advance();
      return args;
    }
    while (true) {
      args.push_back(ParseExpr());
      if (IsPunct(",")) {
        Advance();
        if (IsPunct(close)) {  // trailing comma
          Advance();
          return args;
        }
        continue;
      }
      Expect(close);
      return args;
    }
  }

  std::unique_ptr<Expr> ParseMemberSuffix(std::unique_ptr<Expr> e) {
    while (true) {
      if (IsPunct(".")) {
        Advance();
        if (tok_.kind != Tok::kIdent) Fail(tok_.offset, "expected a field or method name after '.' but found " + Describe(tok_));
        std::string name = tok_.text;
        std::size_t at = tok_.offset;
        Advance();
        Macro macro;
        if (IsPunct("(") && MacroNamed(name, &macro)) {
          Advance();
          e = ParseComprehension(macro, std::move(e), name, at);
        } else if (IsPunct("(")) {
          Advance();
          auto args = ParseArgs(")");
          e = MemberCall(std::move(e), name, at, std::move(args));
        } else {
          e = Select(std::move(e), name, at, false);
        }
      } else if (IsPunct("[")) {
        std::size_t at = tok_.offset;
        Advance();
        auto index = ParseExpr();
        Expect("]");
        Type ot = e->type, it = index->type;
        if ((Known(ot) && ot != Type::kList && ot != Type::kMap) ||
            (ot == Type::kList && Known(it) && it != Type::kInt && it != Type::kUint)) {
          Fail(at, Overload("[]", {ot, it}));
        }
        e = Make(ExprKind::kIndex, at, Kids(std::move(e), std::move(index)));
      } else {
        return e;
      }
    }
  }

  std::unique_ptr<Expr> Select(std::unique_ptr<Expr> operand, std::string name, std::size_t at, bool test_only) {
    if (Known(operand->type) && operand->type != Type::kMap) {
      Fail(at, "type '" + std::string(TypeName(operand->type)) + "' has no fields (selecting '" + name + "')");
    }
    auto e = Make(test_only ? ExprKind::kHas : ExprKind::kSelect, at, Kids(std::move(operand)));
    e->name = std::move(name);
    e->type = test_only ? Type::kBool : Type::kDyn;
    return e;
  }

  std::unique_ptr<Expr> ParsePrimary() {
    DepthGuard guard(*this, tok_.offset);
    Token t = tok_;
    switch (t.kind) {
      case Tok::kEnd: Fail(t.offset, "unexpected end of expression");
      case Tok::kInt: {
        if (t.int_overflow) Fail(t.offset, "integer literal out of range");
        Advance();
        auto e = Make(ExprKind::kLiteral, t.offset);
        e->literal = Value::Int(t.int_value);
        e->type = Type::kInt;
        return e;
      }
      case Tok::kUint: {
        Advance();
        auto e = Make(ExprKind::kLiteral, t.offset);
        e->literal = Value::Uint(t.uint_value);
        e->type = Type::kUint;
        return e;
      }
      case Tok::kDouble: {
        Advance();
        auto e = Make(ExprKind::kLiteral, t.offset);
        e->literal = Value::Double(t.double_value);
        e->type = Type::kDouble;
        return e;
      }
      case Tok::kString: {
        Advance();
        auto e = Make(ExprKind::kLiteral, t.offset);
        e->literal = Value::String(std::move(t.text));
        e->type = Type::kString;
        return e;
      }
      case Tok::kPunct: {
        if (t.text == "(") {
          Advance();
          auto e = ParseExpr();
          Expect(")");
          return e;
        }
        if (t.text == "[") {
          Advance();
          auto e = Make(ExprKind::kList, t.offset, ParseArgs("]"));
          e->type = Type::kList;
          return e;
        }
        if (t.text == "{") {
          Advance();
          std::vector<std::unique_ptr<Expr>> kids;
          while (!IsPunct("}")) {
            auto key = ParseExpr();
            if (Known(key->type) && key->type != Type::kString && key->type != Type::kInt &&
                key->type != Type::kUint && key->type != Type::kBool) {
              Fail(static_cast<std::size_t>(key->offset),
                   "map keys must be string, int, uint or bool, found " + std::string(TypeName(key->type)));
            }
            Expect(":");
            kids.push_back(std::move(key));
            kids.push_back(ParseExpr());
            if (!IsPunct(",")) break;
            Advance();
          }
          Expect("}");
          auto e = Make(ExprKind::kMap, t.offset, std::move(kids));
          e->type = Type::kMap;
          return e;
        }
        if (t.text == ".") {
          // A leading dot names the root scope: .object is object.
          Advance();
          if (tok_.kind != Tok::kIdent) Fail(tok_.offset, "expected an identifier after '.' but found " + Describe(tok_));
          return ParsePrimary();
        }
        Fail(t.offset, "unexpected " + Describe(t));
      }
      case Tok::kIdent: break;
    }
    Advance();
    if (t.text == "true" || t.text == "false") {
      auto e = Make(ExprKind::kLiteral, t.offset);
      e->literal = Value::Bool(t.text == "true");
      e->type = Type::kBool;
      return e;
    }
    if (t.text == "null") {
      auto e = Make(ExprKind::kLiteral, t.offset);
      e->type = Type::kNull;
      return e;
    }
    if (t.text == "in") Fail(t.offset, "unexpected 'in'");
    if (IsReserved(t.text)) Fail(t.offset, "'" + t.text + "' is a reserved word and cannot be used as a name");
    if (IsPunct("(")) {
      Advance();
      if (t.text == "has") return ParseHas(t.offset);
      Macro macro;
      if (MacroNamed(t.text, &macro)) {
        Fail(t.offset, t.text + "() is a macro and must be called on a list or map, as list." + t.text + "(x, ...)");
      }
      auto args = ParseArgs(")");
      return GlobalCall(t.text, t.offset, std::move(args));
    }
    return Identifier(t.text, t.offset);
  }

  std::unique_ptr<Expr> Identifier(const std::string& name, std::size_t at) {
    for (std::size_t i = locals_.size(); i-- > 0;) {
      if (locals_[i] == name) {
        auto e = Make(ExprKind::kLocal, at);
        e->slot = static_cast<int>(i);
        e->name = name;
        return e;
      }
    }
    for (std::size_t i = 0; i < decls_.variables.size(); ++i) {
      if (decls_.variables[i].name == name) {
        auto e = Make(ExprKind::kVariable, at);
        e->slot = static_cast<int>(i);
        e->name = name;
        e->type = decls_.variables[i].type;
        return e;
      }
    }
    Fail(at, "undeclared reference to '" + name + "'");
  }

  std::unique_ptr<Expr> ParseHas(std::size_t at) {
    std::size_t arg_at = tok_.offset;
    auto arg = ParseExpr();
    Expect(")");
    if (arg->kind != ExprKind::kSelect) {
      Fail(arg_at, "has() needs a field selection such as has(object.spec.replicas)");
    }
    std::string name = std::move(arg->name);
    auto operand = std::move(arg->kids[0]);
    auto e = Select(std::move(operand), std::move(name), at, true);
    return e;
  }

  static std::string Plural(std::size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); }

  std::unique_ptr<Expr> MemberCall(std::unique_ptr<Expr> receiver, const std::string& name, std::size_t at,
                                   std::vector<std::unique_ptr<Expr>> args) {
    std::vector<std::unique_ptr<Expr>> all;
    all.push_back(std::move(receiver));
    for (auto& a : args) all.push_back(std::move(a));
    return Call(name, at, std::move(all), true);
  }

  std::unique_ptr<Expr> GlobalCall(const std::string& name, std::size_t at, std::vector<std::unique_ptr<Expr>> args) {
    return Call(name, at, std::move(args), false);
  }

  std::unique_ptr<Expr> Call(const std::string& name, std::size_t at, std::vector<std::unique_ptr<Expr>> args,
                             bool receiver_style) {
    std::size_t given = args.size() - (receiver_style ? 1 : 0);
    for (std::size_t i = 0; i < decls_.functions.size(); ++i) {
      const Function& f = decls_.functions[i];
      if (f.name != name || f.receiver_style != receiver_style) continue;
      if (f.arity != given) Fail(at, "'" + name + "' takes " + Plural(f.arity) + ", found " + std::to_string(given));
      auto e = Make(ExprKind::kCall, at, std::move(args));
      e->builtin = Builtin::kExtension;
      e->extension = i;
      e->name = name;
      e->type = f.result;
      return e;
    }
    const BuiltinInfo* info = nullptr;
    bool name_known = false;
    for (const BuiltinInfo& b : kBuiltins) {
      if (b.name != name) continue;
      name_known = true;
      if (receiver_style ? b.receiver : b.global) info = &b;
    }
    if (info == nullptr) {
      if (name_known) {
        Fail(at, receiver_style ? "'" + name + "' is a function, not a method: write " + name + "(x)"
                                : "'" + name + "' is a method: write x." + name + "(...)");
      }
      Fail(at, std::string(receiver_style ? "unknown method '" : "unknown function '") + name + "'");
    }
    // Global forms of receiver functions take the receiver as an argument.
    std::size_t expected = info->arity + (receiver_style || !info->receiver ? 0 : 1);
    std::size_t expected_alt = info->arity_alt + (receiver_style || !info->receiver ? 0 : 1);
    if (given != expected && given != expected_alt) {
      Fail(at, "'" + name + "' takes " + Plural(expected) + ", found " + std::to_string(given));
    }
    auto e = Make(ExprKind::kCall, at, std::move(args));
    e->builtin = info->builtin;
    e->name = name;
    CheckBuiltin(*e);
    return e;
  }

  void CheckBuiltin(Expr& e) {
    auto t = [&](std::size_t i) { return e.kids[i]->type; };
    auto require = [&](std::size_t i, std::initializer_list<Type> allowed) {
      Type have = t(i);
      if (!Known(have)) return;
      for (Type a : allowed) {
        if (a == have) return;
      }
      std::string types;
      for (std::size_t k = 0; k < e.kids.size(); ++k) types += (k ? ", " : "") + std::string(TypeName(t(k)));
      Fail(static_cast<std::size_t>(e.offset), "no matching overload for '" + e.name + "' applied to (" + types + ")");
    };
    switch (e.builtin) {
      case Builtin::kSize:
        require(0, {Type::kString, Type::kList, Type::kMap});
        e.type = Type::kInt;
        break;
      case Builtin::kStartsWith:
      case Builtin::kEndsWith:
      case Builtin::kContains:
      case Builtin::kMatches:
        require(0, {Type::kString});
        require(1, {Type::kString});
        e.type = Type::kBool;
        if (e.builtin == Builtin::kMatches && e.kids[1]->kind == ExprKind::kLiteral) {
          Result<std::shared_ptr<const Regex>> re = Regex::Compile(e.kids[1]->literal.AsString());
          if (!re.ok()) {
            // Point at the offending character inside the string literal.
            std::size_t inner = static_cast<std::size_t>(e.kids[1]->offset) + 1 +
                                static_cast<std::size_t>(std::max(0, re.error().where.column - 1));
            Fail(inner, re.error().message);
          }
          e.regex = *re;
        }
        break;
      case Builtin::kLowerAscii:
      case Builtin::kUpperAscii:
      case Builtin::kTrim:
        require(0, {Type::kString});
        e.type = Type::kString;
        break;
      case Builtin::kSplit:
        require(0, {Type::kString});
        require(1, {Type::kString});
        e.type = Type::kList;
        break;
      case Builtin::kJoin:
        require(0, {Type::kList});
        if (e.kids.size() > 1) require(1, {Type::kString});
        e.type = Type::kString;
        break;
      case Builtin::kReplace:
        require(0, {Type::kString});
        require(1, {Type::kString});
        require(2, {Type::kString});
        e.type = Type::kString;
        break;
      case Builtin::kIndexOf:
        require(0, {Type::kString});
        require(1, {Type::kString});
        e.type = Type::kInt;
        break;
      case Builtin::kToInt:
        require(0, {Type::kInt, Type::kUint, Type::kDouble, Type::kString});
        e.type = Type::kInt;
        break;
      case Builtin::kToUint:
        require(0, {Type::kInt, Type::kUint, Type::kDouble, Type::kString});
        e.type = Type::kUint;
        break;
      case Builtin::kToDouble:
        require(0, {Type::kInt, Type::kUint, Type::kDouble, Type::kString});
        e.type = Type::kDouble;
        break;
      case Builtin::kToString:
        require(0, {Type::kInt, Type::kUint, Type::kDouble, Type::kString, Type::kBool});
        e.type = Type::kString;
        break;
      case Builtin::kToBool:
        require(0, {Type::kBool, Type::kString});
        e.type = Type::kBool;
        break;
      case Builtin::kDyn: e.type = Type::kDyn; break;
      case Builtin::kExtension: break;
    }
  }

  static bool MacroNamed(const std::string& name, Macro* macro) {
    if (name == "all") *macro = Macro::kAll;
    else if (name == "exists") *macro = Macro::kExists;
    else if (name == "exists_one") *macro = Macro::kExistsOne;
    else if (name == "filter") *macro = Macro::kFilter;
    else if (name == "map") *macro = Macro::kMap;
    else return false;
    return true;
  }

  // At the token after '('. The variable is in scope while the body parses.
  std::unique_ptr<Expr> ParseComprehension(Macro macro, std::unique_ptr<Expr> range, const std::string& name,
                                           std::size_t at) {
    std::string arity = macro == Macro::kMap ? "2 or 3 arguments" : "2 arguments";
    if (tok_.kind != Tok::kIdent || IsReserved(tok_.text) || tok_.text == "true" || tok_.text == "false" ||
        tok_.text == "null" || tok_.text == "in") {
      if (IsPunct(")")) Fail(at, name + "() takes " + arity + ", found 0");
      Fail(tok_.offset, "the first argument of " + name + "() must be a variable name, as in list." + name + "(x, ...)");
    }
    std::string var = tok_.text;
    Advance();
    if (IsPunct(")")) Fail(at, name + "() takes " + arity + ", found 1");
    Expect(",");
    locals_.push_back(var);
    max_locals_ = std::max(max_locals_, locals_.size());
    int slot = static_cast<int>(locals_.size()) - 1;
    std::vector<std::unique_ptr<Expr>> bodies = ParseArgs(")");
    locals_.pop_back();
    std::size_t allowed = macro == Macro::kMap ? 2 : 1;
    if (bodies.empty() || bodies.size() > allowed) {
      Fail(at, name + "() takes " + arity + ", found " + std::to_string(bodies.size() + 1));
    }
    if (Known(range->type) && range->type != Type::kList && range->type != Type::kMap) {
      Fail(at, "'" + name + "' needs a list or map, found " + std::string(TypeName(range->type)));
    }
    bool has_predicate = macro != Macro::kMap || bodies.size() == 2;
    if (has_predicate && !BoolOrDyn(bodies[0]->type)) {
      Fail(static_cast<std::size_t>(bodies[0]->offset),
           "the condition of " + name + "() must be bool, found " + std::string(TypeName(bodies[0]->type)));
    }
    std::vector<std::unique_ptr<Expr>> kids;
    kids.push_back(std::move(range));
    for (auto& b : bodies) kids.push_back(std::move(b));
    auto e = Make(ExprKind::kComprehension, at, std::move(kids));
    e->macro = macro;
    e->slot = slot;
    e->name = name;
    e->type = macro == Macro::kFilter || macro == Macro::kMap ? Type::kList : Type::kBool;
    return e;
  }

  Lexer lexer_;
  const Declarations& decls_;
  const CompileLimits& limits_;
  Token tok_;
  std::size_t nodes_ = 0;
  int recursion_ = 0;
  std::vector<std::string> locals_;
  std::size_t max_locals_ = 0;
};

}  // namespace

Program::~Program() = default;

Result<std::shared_ptr<const Program>> Compile(std::string_view source, const Declarations& declarations,
                                               const CompileLimits& limits) {
  auto fail = [&](std::size_t offset, std::string message) {
    Location where = OffsetToLocation(source, offset);
    return MakeError(ErrorCode::kInvalidInput, std::move(message), where);
  };
  if (source.size() > limits.max_source_bytes) {
    return fail(0, "expression is longer than " + std::to_string(limits.max_source_bytes) + " bytes");
  }
  std::shared_ptr<Program> program(new Program());
  program->source_ = std::string(source);
  try {
    Parser parser(program->source_, declarations, limits);
    program->root_ = parser.ParseAll();
    program->max_locals_ = parser.max_locals();
  } catch (const CompileError& e) {
    return fail(e.offset, e.message);
  }
  program->result_type_ = program->root_->type;
  program->functions_ = declarations.functions;
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace keelson::policy::cel
