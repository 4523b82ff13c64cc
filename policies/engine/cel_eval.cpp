// Tree-walking evaluator for the CEL subset. Errors are values: they travel
// up the tree until && / || / all / exists absorb them or they reach the
// top. An exhausted step budget is sticky and is never absorbed.
#include <algorithm>
#include <array>
#include <span>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "policies/engine/cel.h"
#include "policies/engine/cel_ast.h"

namespace keelson::policy::cel {

using internal::BinaryOp;
using internal::Builtin;
using internal::Expr;
using internal::ExprKind;
using internal::Macro;

namespace {

using K = Value::Kind;

std::string NoOverload(std::string_view op, const Value& a) {
  return "no matching overload for '" + std::string(op) + "' applied to (" + std::string(a.TypeName()) + ")";
}

std::string NoOverload(std::string_view op, const Value& a, const Value& b) {
  return "no matching overload for '" + std::string(op) + "' applied to (" + std::string(a.TypeName()) + ", " +
         std::string(b.TypeName()) + ")";
}

// Orders two numbers of any numeric kinds; NaN compares unordered (returns
// false for every relation), as CEL does.
int CompareNumbers(const Value& a, const Value& b, bool* unordered) {
  *unordered = false;
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (a.kind() == b.kind()) {
    if (a.kind() == K::kInt) return sign(a.AsInt(), b.AsInt());
    if (a.kind() == K::kUint) return sign(a.AsUint(), b.AsUint());
  }
  if (a.kind() == K::kInt && b.kind() == K::kUint) {
    return a.AsInt() < 0 ? -1 : sign(static_cast<std::uint64_t>(a.AsInt()), b.AsUint());
  }
  if (a.kind() == K::kUint && b.kind() == K::kInt) {
    return b.AsInt() < 0 ? 1 : sign(a.AsUint(), static_cast<std::uint64_t>(b.AsInt()));
  }
  auto as_double = [](const Value& v) {
    return v.kind() == K::kInt ? static_cast<double>(v.AsInt())
                               : v.kind() == K::kUint ? static_cast<double>(v.AsUint()) : v.AsDouble();
  };
  double x = as_double(a), y = as_double(b);
  if (std::isnan(x) || std::isnan(y)) {
    *unordered = true;
    return 0;
  }
  return sign(x, y);
}

// A map key for messages: strings quoted, others as literals.
std::string KeyText(const Value& key) {
  if (key.IsString()) return "'" + std::string(key.AsString().substr(0, 128)) + "'";
  return key.ToDisplayString(128);
}

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

class Evaluator {
 public:
  Evaluator(const Activation& activation, const EvalLimits& limits, const std::vector<Function>& functions,
            std::size_t locals)
      : act_(activation), limits_(limits), functions_(functions), locals_(locals) {}

  Value Run(const Expr& root) {
    Value v = Eval(root);
    if (exhausted_) return Value::Error(BudgetMessage(), root.offset);
    return v;
  }

 private:
  std::string BudgetMessage() const {
    return "evaluation exceeded its budget of " + std::to_string(limits_.max_steps) + " steps";
  }

  // False once the budget is spent.
  bool Charge(std::uint64_t steps) {
    steps_ += steps;
    if (steps_ > limits_.max_steps) exhausted_ = true;
    return !exhausted_;
  }

  Value Err(const Expr& e, std::string message) { return Value::Error(std::move(message), e.offset); }

  Value Eval(const Expr& e) {
    if (!Charge(1)) return Value::Error(BudgetMessage(), e.offset);
    switch (e.kind) {
      case ExprKind::kLiteral: return e.literal;
      case ExprKind::kVariable:
        if (static_cast<std::size_t>(e.slot) >= act_.variables.size()) return Err(e, "variable '" + e.name + "' has no value");
        return act_.variables[static_cast<std::size_t>(e.slot)];
      case ExprKind::kLocal: return locals_[static_cast<std::size_t>(e.slot)];
      case ExprKind::kSelect:
      case ExprKind::kHas: return Select(e);
      case ExprKind::kIndex: return Index(e);
      case ExprKind::kCall: return Call(e);
      case ExprKind::kList: {
        std::vector<Value> items;
        items.reserve(e.kids.size());
        for (const auto& k : e.kids) {
          Value v = Eval(*k);
          if (v.IsError()) return v;
          items.push_back(std::move(v));
        }
        return Value::List(std::move(items));
      }
      case ExprKind::kMap: {
        std::vector<std::pair<Value, Value>> entries;
        for (std::size_t i = 0; i + 1 < e.kids.size(); i += 2) {
          Value key = Eval(*e.kids[i]);
          if (key.IsError()) return key;
          if (key.kind() != K::kString && key.kind() != K::kInt && key.kind() != K::kUint && key.kind() != K::kBool) {
            return Err(*e.kids[i], "map keys must be string, int, uint or bool, found " + std::string(key.TypeName()));
          }
          for (const auto& [k, v] : entries) {
            if (Equal(k, key)) return Err(*e.kids[i], "duplicate key " + KeyText(key) + " in map literal");
          }
          Value value = Eval(*e.kids[i + 1]);
          if (value.IsError()) return value;
          entries.emplace_back(std::move(key), std::move(value));
        }
        return Value::Map(std::move(entries));
      }
      case ExprKind::kNot: {
        Value v = Eval(*e.kids[0]);
        if (v.IsError()) return v;
        if (!v.IsBool()) return Err(e, NoOverload("!", v));
        return Value::Bool(!v.AsBool());
      }
      case ExprKind::kNegate: {
        Value v = Eval(*e.kids[0]);
        if (v.IsError()) return v;
        if (v.kind() == K::kInt) {
          if (v.AsInt() == std::numeric_limits<std::int64_t>::min()) return Err(e, "integer overflow");
          return Value::Int(-v.AsInt());
        }
        if (v.kind() == K::kDouble) return Value::Double(-v.AsDouble());
        return Err(e, NoOverload("-", v));
      }
      case ExprKind::kBinary: return Binary(e);
      case ExprKind::kAnd:
      case ExprKind::kOr: return Logical(e);
      case ExprKind::kTernary: {
        Value c = Eval(*e.kids[0]);
        if (c.IsError()) return c;
        if (!c.IsBool()) return Err(*e.kids[0], "ternary condition must be bool, found " + std::string(c.TypeName()));
        return Eval(*e.kids[c.AsBool() ? 1 : 2]);
      }
      case ExprKind::kComprehension: return Comprehension(e);
    }
    return Err(e, "unknown expression");
  }

  Value Select(const Expr& e) {
    Value operand = Eval(*e.kids[0]);
    if (operand.IsError()) return operand;
    if (!operand.IsMap()) {
      if (e.kind == ExprKind::kHas) return Err(e, "has() needs a map, found " + std::string(operand.TypeName()) + " before '." + e.name + "'");
      return Err(e, "no such key '" + e.name + "': the value is " + std::string(operand.TypeName()) + ", not a map");
    }
    Value out;
    bool found = operand.MapFind(std::string_view(e.name), &out);
    if (e.kind == ExprKind::kHas) return Value::Bool(found);
    if (!found) return Err(e, "no such key '" + e.name + "' (guard with has())");
    return out;
  }

  Value Index(const Expr& e) {
    Value operand = Eval(*e.kids[0]);
    if (operand.IsError()) return operand;
    Value index = Eval(*e.kids[1]);
    if (index.IsError()) return index;
    if (operand.IsList()) {
      std::int64_t i;
      if (index.kind() == K::kInt) {
        i = index.AsInt();
      } else if (index.kind() == K::kUint && index.AsUint() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        i = static_cast<std::int64_t>(index.AsUint());
      } else if (index.kind() == K::kUint) {
        i = std::numeric_limits<std::int64_t>::max();
      } else {
        return Err(e, NoOverload("[]", operand, index));
      }
      if (i < 0 || static_cast<std::uint64_t>(i) >= operand.ListSize()) {
        return Err(e, "index out of range: " + std::to_string(i) + " (list size " + std::to_string(operand.ListSize()) + ")");
      }
      return operand.ListAt(static_cast<std::size_t>(i));
    }
    if (operand.IsMap()) {
      Value out;
      if (!operand.MapFind(index, &out)) return Err(e, "no such key " + KeyText(index));
      return out;
    }
    return Err(e, NoOverload("[]", operand, index));
  }

  Value Logical(const Expr& e) {
    bool is_and = e.kind == ExprKind::kAnd;
    // The value that decides the result on its own: false for &&, true for ||.
    bool decisive = !is_and;
    Value l = Eval(*e.kids[0]);
    if (exhausted_) return l;
    if (l.IsBool() && l.AsBool() == decisive) return l;
    Value r = Eval(*e.kids[1]);
    if (exhausted_) return r;
    if (r.IsBool() && r.AsBool() == decisive) return r;
    if (l.IsError()) return l;
    if (r.IsError()) return r;
    const char* op = is_and ? "&&" : "||";
    if (!l.IsBool() || !r.IsBool()) return Err(e, NoOverload(op, l, r));
    return Value::Bool(!decisive);
  }

  Value Binary(const Expr& e) {
    Value a = Eval(*e.kids[0]);
    if (a.IsError()) return a;
    Value b = Eval(*e.kids[1]);
    if (b.IsError()) return b;
    switch (e.op) {
      case BinaryOp::kEq: return Value::Bool(Equal(a, b));
      case BinaryOp::kNe: return Value::Bool(!Equal(a, b));
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe: return Compare(e, a, b);
      case BinaryOp::kIn: {
        if (b.IsList()) {
          if (!Charge(b.ListSize())) return Value::Error(BudgetMessage(), e.offset);
          for (std::size_t i = 0; i < b.ListSize(); ++i) {
            if (Equal(a, b.ListAt(i))) return Value::Bool(true);
          }
          return Value::Bool(false);
        }
        if (b.IsMap()) {
          if (!Charge(b.MapSize() / 4 + 1)) return Value::Error(BudgetMessage(), e.offset);
          Value unused;
          return Value::Bool(b.MapFind(a, &unused));
        }
        return Err(e, NoOverload("in", a, b));
      }
      default: return Arithmetic(e, a, b);
    }
  }

  Value Compare(const Expr& e, const Value& a, const Value& b) {
    int c = 0;
    bool unordered = false;
    if (a.IsNumber() && b.IsNumber()) {
      c = CompareNumbers(a, b, &unordered);
    } else if (a.IsString() && b.IsString()) {
      c = a.AsString().compare(b.AsString());
      c = c < 0 ? -1 : c > 0 ? 1 : 0;
    } else if (a.IsBool() && b.IsBool()) {
      c = static_cast<int>(a.AsBool()) - static_cast<int>(b.AsBool());
    } else {
      const char* op = e.op == BinaryOp::kLt ? "<" : e.op == BinaryOp::kLe ? "<=" : e.op == BinaryOp::kGt ? ">" : ">=";
      return Err(e, NoOverload(op, a, b));
    }
    if (unordered) return Value::Bool(false);
    switch (e.op) {
      case BinaryOp::kLt: return Value::Bool(c < 0);
      case BinaryOp::kLe: return Value::Bool(c <= 0);
      case BinaryOp::kGt: return Value::Bool(c > 0);
      default: return Value::Bool(c >= 0);
    }
  }

  Value Arithmetic(const Expr& e, const Value& a, const Value& b) {
    const char* op = e.op == BinaryOp::kAdd ? "+" : e.op == BinaryOp::kSub ? "-" : e.op == BinaryOp::kMul ? "*"
                     : e.op == BinaryOp::kDiv ? "/" : "%";
    if (a.kind() != b.kind()) return Err(e, NoOverload(op, a, b));
    switch (a.kind()) {
      case K::kInt: {
        std::int64_t x = a.AsInt(), y = b.AsInt(), r = 0;
        bool overflow = false;
        switch (e.op) {
          case BinaryOp::kAdd: overflow = __builtin_add_overflow(x, y, &r); break;
          case BinaryOp::kSub: overflow = __builtin_sub_overflow(x, y, &r); break;
          case BinaryOp::kMul: overflow = __builtin_mul_overflow(x, y, &r); break;
          case BinaryOp::kDiv:
          case BinaryOp::kMod:
            if (y == 0) return Err(e, e.op == BinaryOp::kDiv ? "division by zero" : "modulus by zero");
            if (x == std::numeric_limits<std::int64_t>::min() && y == -1) {
              if (e.op == BinaryOp::kMod) return Value::Int(0);
              return Err(e, "integer overflow");
            }
            r = e.op == BinaryOp::kDiv ? x / y : x % y;
            break;
          default: break;
        }
        if (overflow) return Err(e, "integer overflow");
        return Value::Int(r);
      }
      case K::kUint: {
        std::uint64_t x = a.AsUint(), y = b.AsUint(), r = 0;
        bool overflow = false;
        switch (e.op) {
          case BinaryOp::kAdd: overflow = __builtin_add_overflow(x, y, &r); break;
          case BinaryOp::kSub: overflow = __builtin_sub_overflow(x, y, &r); break;
          case BinaryOp::kMul: overflow = __builtin_mul_overflow(x, y, &r); break;
          case BinaryOp::kDiv:
          case BinaryOp::kMod:
            if (y == 0) return Err(e, e.op == BinaryOp::kDiv ? "division by zero" : "modulus by zero");
            r = e.op == BinaryOp::kDiv ? x / y : x % y;
            break;
          default: break;
        }
        if (overflow) return Err(e, "unsigned integer overflow");
        return Value::Uint(r);
      }
      case K::kDouble: {
        double x = a.AsDouble(), y = b.AsDouble();
        switch (e.op) {
          case BinaryOp::kAdd: return Value::Double(x + y);
          case BinaryOp::kSub: return Value::Double(x - y);
          case BinaryOp::kMul: return Value::Double(x * y);
          case BinaryOp::kDiv: return Value::Double(x / y);
          default: return Err(e, NoOverload(op, a, b));
        }
      }
      case K::kString: {
        if (e.op != BinaryOp::kAdd) return Err(e, NoOverload(op, a, b));
        std::size_t len = a.AsString().size() + b.AsString().size();
        if (len > limits_.max_string_bytes) return Err(e, "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
        if (!Charge(len / 16)) return Value::Error(BudgetMessage(), e.offset);
        std::string s;
        s.reserve(len);
        s.append(a.AsString()).append(b.AsString());
        return Value::String(std::move(s));
      }
      case K::kList: {
        if (e.op != BinaryOp::kAdd) return Err(e, NoOverload(op, a, b));
        std::size_t len = a.ListSize() + b.ListSize();
        if (len > limits_.max_list_size) return Err(e, "list longer than " + std::to_string(limits_.max_list_size) + " items");
        if (!Charge(len)) return Value::Error(BudgetMessage(), e.offset);
        std::vector<Value> items;
        items.reserve(len);
        for (std::size_t i = 0; i < a.ListSize(); ++i) items.push_back(a.ListAt(i));
        for (std::size_t i = 0; i < b.ListSize(); ++i) items.push_back(b.ListAt(i));
        return Value::List(std::move(items));
      }
      default: return Err(e, NoOverload(op, a, b));
    }
  }

  Value Comprehension(const Expr& e) {
    Value range = Eval(*e.kids[0]);
    if (range.IsError()) return range;
    if (!range.IsList() && !range.IsMap()) return Err(e, "'" + e.name + "' needs a list or map, found " + std::string(range.TypeName()));
    bool is_map = range.IsMap();
    std::size_t n = is_map ? range.MapSize() : range.ListSize();
    Value& var = locals_[static_cast<std::size_t>(e.slot)];
    bool has_predicate = e.macro != Macro::kMap || e.kids.size() == 3;
    Value first_error;
    bool saw_error = false;
    std::size_t true_count = 0;
    std::vector<Value> out;
    for (std::size_t i = 0; i < n; ++i) {
      if (!Charge(1)) return Value::Error(BudgetMessage(), e.offset);
      var = is_map ? range.MapKeyAt(i) : range.ListAt(i);
      Value cond;
      if (has_predicate) {
        cond = Eval(*e.kids[1]);
        if (exhausted_) return cond;
        if (!cond.IsError() && !cond.IsBool()) {
          cond = Err(*e.kids[1], "the condition of " + e.name + "() must be bool, found " + std::string(cond.TypeName()));
        }
      }
      switch (e.macro) {
        case Macro::kAll:
        case Macro::kExists: {
          bool decisive = e.macro == Macro::kExists;
          if (cond.IsBool() && cond.AsBool() == decisive) return cond;
          if (cond.IsError() && !saw_error) {
            saw_error = true;
            first_error = cond;
          }
          break;
        }
        case Macro::kExistsOne:
          if (cond.IsError()) return cond;
          if (cond.AsBool() && ++true_count > 1) return Value::Bool(false);
          break;
        case Macro::kFilter:
          if (cond.IsError()) return cond;
          if (cond.AsBool()) out.push_back(var);
          break;
        case Macro::kMap: {
          if (has_predicate) {
            if (cond.IsError()) return cond;
            if (!cond.AsBool()) break;
          }
          Value mapped = Eval(*e.kids[has_predicate ? 2 : 1]);
          if (mapped.IsError()) return mapped;
          out.push_back(std::move(mapped));
          break;
        }
      }
    }
    switch (e.macro) {
      case Macro::kAll:
      case Macro::kExists:
        if (saw_error) return first_error;
        return Value::Bool(e.macro == Macro::kAll);
      case Macro::kExistsOne: return Value::Bool(true_count == 1);
      default: return Value::List(std::move(out));
    }
  }

  Value Call(const Expr& e) {
    // Calls have at most a receiver and three arguments; no allocation.
    std::array<Value, 4> buffer;
    std::size_t n = e.kids.size();
    if (n > buffer.size()) return Err(e, "too many arguments");
    for (std::size_t i = 0; i < n; ++i) {
      buffer[i] = Eval(*e.kids[i]);
      if (buffer[i].IsError()) return buffer[i];
    }
    std::span<const Value> args(buffer.data(), n);
    if (e.builtin == Builtin::kExtension) {
      Value v = functions_[e.extension].impl(args, act_);
      if (v.IsError() && v.ErrorOffset() < 0) return Err(e, std::string(v.ErrorMessage()));
      return v;
    }
    return CallBuiltin(e, args);
  }

  Value CallBuiltin(const Expr& e, std::span<const Value> args) {
    auto bad = [&]() {
      std::string types;
      for (std::size_t i = 0; i < args.size(); ++i) types += (i ? ", " : "") + std::string(args[i].TypeName());
      return Err(e, "no matching overload for '" + e.name + "' applied to (" + types + ")");
    };
    auto strings = [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!args[i].IsString()) return false;
      }
      return true;
    };
    auto scan = [&](std::size_t bytes) { return Charge(bytes / 16); };
    switch (e.builtin) {
      case Builtin::kSize: {
        const Value& v = args[0];
        if (v.IsString()) return Value::Int(static_cast<std::int64_t>(CodePoints(v.AsString())));
        if (v.IsList()) return Value::Int(static_cast<std::int64_t>(v.ListSize()));
        if (v.IsMap()) return Value::Int(static_cast<std::int64_t>(v.MapSize()));
        return bad();
      }
      case Builtin::kStartsWith:
      case Builtin::kEndsWith:
      case Builtin::kContains:
      case Builtin::kIndexOf: {
        if (!strings(2)) return bad();
        std::string_view s = args[0].AsString(), p = args[1].AsString();
        if (!scan(s.size())) return Value::Error(BudgetMessage(), e.offset);
        if (e.builtin == Builtin::kStartsWith) return Value::Bool(s.starts_with(p));
        if (e.builtin == Builtin::kEndsWith) return Value::Bool(s.ends_with(p));
        std::size_t at = s.find(p);
        if (e.builtin == Builtin::kContains) return Value::Bool(at != std::string_view::npos);
        if (at == std::string_view::npos) return Value::Int(-1);
        return Value::Int(static_cast<std::int64_t>(CodePoints(s.substr(0, at))));
      }
      case Builtin::kMatches: {
        if (!strings(2)) return bad();
        std::shared_ptr<const Regex> re = e.regex;
        if (!re) {
          Result<std::shared_ptr<const Regex>> compiled = Regex::Compile(args[1].AsString());
          if (!compiled.ok()) return Err(e, compiled.error().message);
          re = *compiled;
        }
        std::string_view s = args[0].AsString();
        if (!Charge(s.size() * (re->program_size() / 16 + 1) / 16)) return Value::Error(BudgetMessage(), e.offset);
        return Value::Bool(re->Search(s));
      }
      case Builtin::kLowerAscii:
      case Builtin::kUpperAscii: {
        if (!strings(1)) return bad();
        std::string s(args[0].AsString());
        if (!scan(s.size())) return Value::Error(BudgetMessage(), e.offset);
        bool lower = e.builtin == Builtin::kLowerAscii;
        for (char& c : s) {
          if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
          if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        }
        return Value::String(std::move(s));
      }
      case Builtin::kTrim: {
        if (!strings(1)) return bad();
        std::string_view s = args[0].AsString();
        std::size_t b = s.find_first_not_of(" \t\n\r\f\v");
        if (b == std::string_view::npos) return Value::String("");
        std::size_t end = s.find_last_not_of(" \t\n\r\f\v");
        return Value::String(std::string(s.substr(b, end - b + 1)));
      }
      case Builtin::kSplit: {
        if (!strings(2)) return bad();
        std::string_view s = args[0].AsString(), sep = args[1].AsString();
        if (!scan(s.size())) return Value::Error(BudgetMessage(), e.offset);
        std::vector<Value> parts;
        if (sep.empty()) {
          for (std::size_t i = 0; i < s.size();) {
            std::size_t len = 1;
            while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
            if (parts.size() >= limits_.max_list_size) return Err(e, "list longer than " + std::to_string(limits_.max_list_size) + " items");
            parts.push_back(Value::String(std::string(s.substr(i, len))));
            i += len;
          }
        } else {
          std::size_t start = 0;
          while (true) {
            std::size_t at = s.find(sep, start);
            if (parts.size() >= limits_.max_list_size) return Err(e, "list longer than " + std::to_string(limits_.max_list_size) + " items");
            parts.push_back(Value::String(std::string(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start))));
            if (at == std::string_view::npos) break;
            start = at + sep.size();
          }
        }
        if (!Charge(parts.size())) return Value::Error(BudgetMessage(), e.offset);
        return Value::List(std::move(parts));
      }
      case Builtin::kJoin: {
        if (!args[0].IsList() || (args.size() > 1 && !args[1].IsString())) return bad();
        std::string_view sep = args.size() > 1 ? args[1].AsString() : "";
        std::string out;
        const Value& list = args[0];
        if (!Charge(list.ListSize())) return Value::Error(BudgetMessage(), e.offset);
        for (std::size_t i = 0; i < list.ListSize(); ++i) {
          Value item = list.ListAt(i);
          if (!item.IsString()) return Err(e, "join() needs a list of strings, found " + std::string(item.TypeName()) + " at index " + std::to_string(i));
          if (i > 0) out += sep;
          out += item.AsString();
          if (out.size() > limits_.max_string_bytes) return Err(e, "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
        }
        return Value::String(std::move(out));
      }
      case Builtin::kReplace: {
        if (!strings(3)) return bad();
        std::string_view s = args[0].AsString(), from = args[1].AsString(), to = args[2].AsString();
        if (!scan(s.size())) return Value::Error(BudgetMessage(), e.offset);
        if (from.empty()) return args[0];
        std::string out;
        std::size_t start = 0;
        while (true) {
          std::size_t at = s.find(from, start);
          if (at == std::string_view::npos) break;
          out.append(s.substr(start, at - start)).append(to);
          if (out.size() > limits_.max_string_bytes) return Err(e, "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
          start = at + from.size();
        }
        out.append(s.substr(start));
        return Value::String(std::move(out));
      }
      case Builtin::kToInt: {
        const Value& v = args[0];
        switch (v.kind()) {
          case K::kInt: return v;
          case K::kUint:
            if (v.AsUint() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return Err(e, "int() range error: value does not fit in int");
            return Value::Int(static_cast<std::int64_t>(v.AsUint()));
          case K::kDouble: {
            double d = v.AsDouble();
            if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) return Err(e, "int() range error: value does not fit in int");
            return Value::Int(static_cast<std::int64_t>(d));
          }
          case K::kString: {
            std::string_view s = v.AsString();
            std::int64_t out = 0;
            auto r = std::from_chars(s.data(), s.data() + s.size(), out);
            if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return Err(e, "int() cannot parse '" + std::string(s.substr(0, 64)) + "'");
            return Value::Int(out);
          }
          default: return bad();
        }
      }
      case Builtin::kToUint: {
        const Value& v = args[0];
        switch (v.kind()) {
          case K::kUint: return v;
          case K::kInt:
            if (v.AsInt() < 0) return Err(e, "uint() range error: negative value");
            return Value::Uint(static_cast<std::uint64_t>(v.AsInt()));
          case K::kDouble: {
            double d = v.AsDouble();
            if (!(d > -1.0 && d < 18446744073709551616.0)) return Err(e, "uint() range error: value does not fit in uint");
            return Value::Uint(static_cast<std::uint64_t>(d));
          }
          case K::kString: {
            std::string_view s = v.AsString();
            std::uint64_t out = 0;
            auto r = std::from_chars(s.data(), s.data() + s.size(), out);
            if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return Err(e, "uint() cannot parse '" + std::string(s.substr(0, 64)) + "'");
            return Value::Uint(out);
          }
          default: return bad();
        }
      }
      case Builtin::kToDouble: {
        const Value& v = args[0];
        switch (v.kind()) {
          case K::kDouble: return v;
          case K::kInt: return Value::Double(static_cast<double>(v.AsInt()));
          case K::kUint: return Value::Double(static_cast<double>(v.AsUint()));
          case K::kString: {
            std::string s(v.AsString().substr(0, 128));
            char* end = nullptr;
            double d = s.empty() ? 0 : std::strtod(s.c_str(), &end);
            if (s.empty() || end != s.c_str() + s.size() || v.AsString().size() > 128) return Err(e, "double() cannot parse '" + s.substr(0, 64) + "'");
            return Value::Double(d);
          }
          default: return bad();
        }
      }
      case Builtin::kToString: {
        const Value& v = args[0];
        switch (v.kind()) {
          case K::kString: return v;
          case K::kInt: return Value::String(std::to_string(v.AsInt()));
          case K::kUint: return Value::String(std::to_string(v.AsUint()));
          case K::kDouble:
          case K::kBool: return Value::String(v.ToDisplayString());
          default: return bad();
        }
      }
      case Builtin::kToBool: {
        const Value& v = args[0];
        if (v.IsBool()) return v;
        if (v.IsString()) {
          std::string_view s = v.AsString();
          if (s == "true" || s == "True" || s == "TRUE" || s == "t" || s == "1") return Value::Bool(true);
          if (s == "false" || s == "False" || s == "FALSE" || s == "f" || s == "0") return Value::Bool(false);
          return Err(e, "bool() cannot parse '" + std::string(s.substr(0, 64)) + "'");
        }
        return bad();
      }
      case Builtin::kDyn: return args[0];
      case Builtin::kExtension: break;
    }
    return bad();
  }

  const Activation& act_;
  const EvalLimits& limits_;
  const std::vector<Function>& functions_;
  std::vector<Value> locals_;
  std::uint64_t steps_ = 0;
  bool exhausted_ = false;
};

}  // namespace

Value Program::Evaluate(const Activation& activation, const EvalLimits& limits) const {
  Evaluator evaluator(activation, limits, functions_, max_locals_);
  return evaluator.Run(*root_);
}

}  // namespace keelson::policy::cel
