#include "renderers/helm/value.h"

#include <charconv>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "renderers/helm/block_yaml.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

void TableObject::SetField(std::string name, Value value) {
  for (auto& f : fields_) {
    if (f.first == name) {
      f.second = std::move(value);
      return;
    }
  }
  fields_.emplace_back(std::move(name), std::move(value));
}

void TableObject::SetMethod(std::string name, Method method) {
  methods_.emplace_back(std::move(name), std::move(method));
}

const Value* TableObject::Field(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.first == name) return &f.second;
  }
  return nullptr;
}

const Object::Method* TableObject::FindMethod(std::string_view name) const {
  for (const auto& m : methods_) {
    if (m.first == name) return &m.second;
  }
  return nullptr;
}

void TableObject::SetCollection(Value collection) { collection_ = std::make_shared<const Value>(std::move(collection)); }

const Value* TableObject::Collection() const { return collection_.get(); }

std::string TableObject::Print() const {
  if (!stringer_.empty()) {
    if (const Method* m = FindMethod(stringer_)) {
      Result<Value> r = (*m)({});
      if (r.ok() && r->IsString()) return r->AsString();
    }
  }
  std::string out = "{";
  bool first = true;
  for (const auto& f : fields_) {
    if (!first) out += ' ';
    first = false;
    out += FormatValue(f.second);
  }
  return out + "}";
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::Int(std::int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::Int64(std::int64_t i) {
  Value v = Int(i);
  v.int64_ = true;
  return v;
}
Value Value::Float(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::NewList(List items) { return FromList(std::make_shared<List>(std::move(items))); }
Value Value::NewMap(Map entries) { return FromMap(std::make_shared<Map>(std::move(entries))); }
Value Value::FromList(ListPtr list) {
  Value v;
  v.kind_ = Kind::kList;
  v.ptr_ = std::move(list);
  return v;
}
Value Value::FromMap(MapPtr map) {
  Value v;
  v.kind_ = Kind::kMap;
  v.ptr_ = std::move(map);
  return v;
}
Value Value::FromObject(ObjectPtr object) {
  Value v;
  v.kind_ = Kind::kObject;
  v.ptr_ = std::const_pointer_cast<Object>(std::move(object));
  return v;
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kNil: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return int64_ ? "int64" : "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "[]interface {}";
    case Kind::kMap: return "map[string]interface {}";
    case Kind::kObject: return AsObject().TypeName();
  }
  return "";
}

std::string Value::KindName() const {
  switch (kind_) {
    case Kind::kNil: return "invalid";
    case Kind::kBool: return "bool";
    case Kind::kInt: return int64_ ? "int64" : "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "slice";
    case Kind::kMap: return "map";
    case Kind::kObject: return AsObject().TypeName().starts_with("*") ? "ptr" : "struct";
  }
  return "";
}

bool IsTrue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: return false;
    case Value::Kind::kBool: return v.AsBool();
    case Value::Kind::kInt: return v.AsInt() != 0;
    case Value::Kind::kFloat: return v.AsFloat() != 0;
    case Value::Kind::kString: return !v.AsString().empty();
    case Value::Kind::kList: return !v.AsList().empty();
    case Value::Kind::kMap: return !v.AsMap().empty();
    case Value::Kind::kObject: return true;
  }
  return false;
}

bool IsEmpty(const Value& v) {
  // Sprig treats structs as never empty, like Go's truth.
  return !IsTrue(v);
}

namespace {

std::string IntText(std::int64_t i) { return std::to_string(i); }

void AppendUtf8(std::string& out, std::uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// Decodes one UTF-8 rune at s[i]; returns its length, or 0 when invalid.
std::size_t DecodeRune(std::string_view s, std::size_t i, std::uint32_t& r) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    r = c;
    return 1;
  }
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c >= 0xF8 || i + n > s.size()) return 0;
  r = c & (0x3F >> (n - 1));
  for (std::size_t k = 1; k < n; ++k) {
    auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    r = (r << 6) | (d & 0x3F);
  }
  if ((n == 2 && r < 0x80) || (n == 3 && r < 0x800) || (n == 4 && r < 0x10000) || r > 0x10FFFF ||
      (r >= 0xD800 && r <= 0xDFFF)) {
    return 0;
  }
  return n;
}

std::string Hex(std::uint32_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace

std::int64_t GoFloatToInt64(double f) {
  // Truncation toward zero; NaN, infinities and the out of range give what
  // amd64's conversion gives.
  return manifest::WholeInt64(std::trunc(f)).value_or(std::numeric_limits<std::int64_t>::min());
}

std::int64_t GoAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t GoSub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t GoMul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
std::int64_t GoDiv(std::int64_t a, std::int64_t b) { return b == -1 ? GoSub(0, a) : a / b; }
std::int64_t GoRem(std::int64_t a, std::int64_t b) { return b == -1 ? 0 : a % b; }

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t r = 0;
    std::size_t n = DecodeRune(s, i, r);
    if (n == 0) {
      out += "\\x" + Hex(static_cast<unsigned char>(s[i]), 2);
      ++i;
      continue;
    }
    i += n;
    switch (r) {
      case '\a': out += "\\a"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\v': out += "\\v"; continue;
      case '\\': out += "\\\\"; continue;
      case '"': out += "\\\""; continue;
      default: break;
    }
    if (r < 0x20 || r == 0x7F) {
      out += "\\x" + Hex(r, 2);
    } else if ((r >= 0x80 && r < 0xA0) || r == 0xAD || r == 0xFEFF || r == 0x2028 || r == 0x2029) {
      out += r < 0x10000 ? "\\u" + Hex(r, 4) : "\\U" + Hex(r, 8);
    } else {
      AppendUtf8(out, r);
    }
  }
  return out + "\"";
}

std::string FormatValue(const Value& v, int depth) {
  CheckValueDepth(depth);
  switch (v.kind()) {
    case Value::Kind::kNil: return "<nil>";
    case Value::Kind::kBool: return v.AsBool() ? "true" : "false";
    case Value::Kind::kInt: return IntText(v.AsInt());
    case Value::Kind::kFloat: return manifest::FormatGoFloat(v.AsFloat());
    case Value::Kind::kString: return v.AsString();
    case Value::Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const Value& item : v.AsList()) {
        if (!first) out += ' ';
        first = false;
        out += FormatValue(item, depth + 1);
      }
      return out + "]";
    }
    case Value::Kind::kMap: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, item] : v.AsMap()) {
        if (!first) out += ' ';
        first = false;
        out += k + ":" + FormatValue(item, depth + 1);
      }
      return out + "]";
    }
    case Value::Kind::kObject: return v.AsObject().Print();
  }
  return "";
}

std::string Sprint(const std::vector<Value>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && !args[i].IsString() && !args[i - 1].IsString()) out += ' ';
    out += FormatValue(args[i]);
  }
  return out;
}

std::string Sprintln(const std::vector<Value>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += FormatValue(args[i]);
  }
  return out + "\n";
}

namespace {

struct Spec {
  bool minus = false, plus = false, sharp = false, zero = false, space = false;
  int width = -1;
  int precision = -1;
};

std::string Pad(std::string body, const Spec& spec, bool numeric) {
  // Width counts runes.
  std::size_t runes = 0;
  for (unsigned char c : body) {
    if ((c & 0xC0) != 0x80) ++runes;
  }
  if (spec.width < 0 || runes >= static_cast<std::size_t>(spec.width)) return body;
  std::size_t fill = static_cast<std::size_t>(spec.width) - runes;
  if (spec.minus) return body + std::string(fill, ' ');
  if (spec.zero && numeric) {
    std::size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    return body.substr(0, sign) + std::string(fill, '0') + body.substr(sign);
  }
  return std::string(fill, ' ') + body;
}

std::string BadVerb(char verb, const Value& v) {
  if (v.IsNil()) return std::string("%!") + verb + "(<nil>)";
  return std::string("%!") + verb + "(" + v.TypeName() + "=" + FormatValue(v) + ")";
}

std::string FormatInt(std::int64_t i, char verb, const Spec& spec) {
  bool neg = i < 0;
  std::uint64_t u = neg ? (0 - static_cast<std::uint64_t>(i)) : static_cast<std::uint64_t>(i);
  int base = 10;
  std::string prefix;
  switch (verb) {
    case 'x': case 'X': base = 16; if (spec.sharp) prefix = verb == 'x' ? "0x" : "0X"; break;
    case 'o': base = 8; if (spec.sharp) prefix = "0"; break;
    case 'O': base = 8; prefix = "0o"; break;
    case 'b': base = 2; break;
    default: break;
  }
  char buf[80];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, u, base);
  (void)ec;
  std::string digits(buf, end);
  if (verb == 'X') {
    for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (spec.precision >= 0) {
    if (spec.precision == 0 && u == 0) digits.clear();
    if (digits.size() < static_cast<std::size_t>(spec.precision)) {
      digits.insert(0, static_cast<std::size_t>(spec.precision) - digits.size(), '0');
    }
  }
  std::string sign = neg ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  Spec padspec = spec;
  if (spec.precision >= 0) padspec.zero = false;
  return Pad(sign + prefix + digits, padspec, true);
}

std::string FormatFloat(double f, char verb, const Spec& spec) {
  std::string body;
  if (std::isnan(f)) {
    body = "NaN";
  } else if (std::isinf(f)) {
    body = f > 0 ? (spec.plus ? "+Inf" : "+Inf") : "-Inf";
    if (f > 0 && !spec.plus) body = spec.space ? " Inf" : "+Inf";
  } else if ((verb == 'v' || verb == 'g' || verb == 'G') && spec.precision < 0) {
    body = manifest::FormatGoFloat(f);
    if (verb == 'G') {
      for (char& c : body) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  } else {
    int prec = spec.precision < 0 ? 6 : spec.precision;
    prec = std::min(prec, 300);
    char conv = verb == 'v' ? 'g' : verb == 'F' ? 'f' : verb;
    char buf[512];
    switch (conv) {
      case 'e': std::snprintf(buf, sizeof buf, "%.*e", prec, f); break;
      case 'E': std::snprintf(buf, sizeof buf, "%.*E", prec, f); break;
      case 'g': std::snprintf(buf, sizeof buf, "%.*g", prec, f); break;
      case 'G': std::snprintf(buf, sizeof buf, "%.*G", prec, f); break;
      default:
        if (std::fabs(f) >= 1e300) {
          std::snprintf(buf, sizeof buf, "%.*e", prec, f);
        } else {
          std::snprintf(buf, sizeof buf, "%.*f", std::min(prec, 100), f);
        }
    }
    body = buf;
  }
  if (!body.empty() && body[0] != '-' && body[0] != '+' && body[0] != ' ') {
    if (spec.plus) body = "+" + body;
    else if (spec.space) body = " " + body;
  } else if (body[0] == '+' && !spec.plus && std::isinf(f)) {
    // Go prints +Inf for %v of +Inf.
  }
  return Pad(body, spec, std::isfinite(f));
}

std::string FormatString(const std::string& s, char verb, const Spec& spec) {
  std::string body = s;
  if (spec.precision >= 0) {
    std::size_t runes = 0, i = 0;
    for (; i < body.size(); ++i) {
      if ((static_cast<unsigned char>(body[i]) & 0xC0) != 0x80) {
        if (runes == static_cast<std::size_t>(spec.precision)) break;
        ++runes;
      }
    }
    body.resize(i);
  }
  if (verb == 'q') {
    if (spec.sharp && body.find('`') == std::string::npos) {
      body = "`" + body + "`";
    } else {
      body = GoQuote(body);
    }
  } else if (verb == 'x' || verb == 'X') {
    std::string hex;
    for (unsigned char c : body) {
      std::string h = Hex(c, 2);
      if (verb == 'X') {
        for (char& x : h) x = static_cast<char>(std::toupper(static_cast<unsigned char>(x)));
      }
      if (spec.space && !hex.empty()) hex += ' ';
      hex += h;
    }
    body = hex;
  }
  return Pad(body, spec, false);
}

std::string FormatOne(const Value& v, char verb, const Spec& spec, int depth = 0);

std::string FormatComposite(const Value& v, char verb, const Spec& spec, int depth) {
  CheckValueDepth(depth);
  if (v.IsList()) {
    std::string out = "[";
    bool first = true;
    for (const Value& item : v.AsList()) {
      if (!first) out += ' ';
      first = false;
      out += FormatOne(item, verb, spec, depth + 1);
    }
    return out + "]";
  }
  std::string out = "map[";
  bool first = true;
  for (const auto& [k, item] : v.AsMap()) {
    if (!first) out += ' ';
    first = false;
    out += FormatOne(Value::String(k), verb, spec) + ":" + FormatOne(item, verb, spec, depth + 1);
  }
  return out + "]";
}

std::string FormatOne(const Value& v, char verb, const Spec& spec, int depth) {
  if (verb == 'T') return Pad(v.TypeName(), spec, false);
  switch (v.kind()) {
    case Value::Kind::kNil:
      if (verb == 'v') return Pad("<nil>", spec, false);
      return BadVerb(verb, v);
    case Value::Kind::kBool:
      if (verb == 'v' || verb == 't') return Pad(v.AsBool() ? "true" : "false", spec, false);
      return BadVerb(verb, v);
    case Value::Kind::kInt:
      switch (verb) {
        case 'v': case 'd': case 'x': case 'X': case 'o': case 'O': case 'b':
          return FormatInt(v.AsInt(), verb == 'v' ? 'd' : verb, spec);
        case 'c': {
          std::string out;
          AppendUtf8(out, static_cast<std::uint32_t>(v.AsInt()));
          return Pad(out, spec, false);
        }
        case 'q': {
          std::string out;
          AppendUtf8(out, static_cast<std::uint32_t>(v.AsInt()));
          std::string q = GoQuote(out);
          return Pad("'" + q.substr(1, q.size() - 2) + "'", spec, false);
        }
        default: return BadVerb(verb, v);
      }
    case Value::Kind::kFloat:
      switch (verb) {
        case 'v': case 'g': case 'G': case 'e': case 'E': case 'f': case 'F':
          return FormatFloat(v.AsFloat(), verb, spec);
        default: return BadVerb(verb, v);
      }
    case Value::Kind::kString:
      switch (verb) {
        case 'v': case 's': case 'q': case 'x': case 'X': return FormatString(v.AsString(), verb, spec);
        default: return BadVerb(verb, v);
      }
    case Value::Kind::kList:
    case Value::Kind::kMap:
      return FormatComposite(v, verb, spec, depth);
    case Value::Kind::kObject:
      if (verb == 'v' || verb == 's') return Pad(v.AsObject().Print(), spec, false);
      return BadVerb(verb, v);
  }
  return "";
}

}  // namespace

std::string Sprintf(std::string_view format, const std::vector<Value>& args) {
  std::string out;
  std::size_t arg = 0;
  for (std::size_t i = 0; i < format.size();) {
    char c = format[i];
    if (c != '%') {
      out += c;
      ++i;
      continue;
    }
    ++i;
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    Spec spec;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-') spec.minus = true;
      else if (f == '+') spec.plus = true;
      else if (f == '#') spec.sharp = true;
      else if (f == '0') spec.zero = !spec.minus;
      else if (f == ' ') spec.space = true;
      else break;
    }
    auto read_number = [&](int& target) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (arg < args.size() && args[arg].IsInt()) {
          target = static_cast<int>(args[arg].AsInt());
          if (target < 0) {
            spec.minus = true;
            target = -target;
          }
        } else {
          out += "%!(BADWIDTH)";
        }
        ++arg;
        return;
      }
      int n = 0;
      bool any = false;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        n = std::min(n * 10 + (format[i] - '0'), 1000000);
        ++i;
        any = true;
      }
      if (any) target = n;
    };
    read_number(spec.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = 0;
      read_number(spec.precision);
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // Verbs are runes; only ASCII verbs are meaningful.
    char verb = format[i++];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (arg >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    out += FormatOne(args[arg++], verb, spec);
  }
  if (arg < args.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = arg; k < args.size(); ++k) {
      if (k > arg) out += ", ";
      out += args[k].IsNil() ? "<nil>" : args[k].TypeName() + "=" + FormatValue(args[k]);
    }
    out += ")";
  }
  return out;
}

Value DeepCopy(const Value& v, int depth) {
  CheckValueDepth(depth);
  if (v.IsList()) {
    List items;
    items.reserve(v.AsList().size());
    for (const Value& item : v.AsList()) items.push_back(DeepCopy(item, depth + 1));
    return Value::NewList(std::move(items));
  }
  if (v.IsMap()) {
    Map entries;
    for (const auto& [k, item] : v.AsMap()) entries.emplace(k, DeepCopy(item, depth + 1));
    return Value::NewMap(std::move(entries));
  }
  return v;
}

Value FromNodeAsJson(const manifest::Node& node) {
  using T = manifest::Node::Type;
  switch (node.type()) {
    case T::kNull: return Value::Nil();
    case T::kBool: return Value::Bool(node.AsBool());
    case T::kInt: return Value::Float(static_cast<double>(node.AsInt()));
    case T::kFloat: return Value::Float(node.AsFloat());
    case T::kString: return Value::String(node.AsString());
    case T::kSequence: {
      List items;
      for (const auto& item : node.items()) items.push_back(FromNodeAsJson(item));
      return Value::NewList(std::move(items));
    }
    case T::kMapping: {
      Map entries;
      for (const auto& e : node.entries()) entries.insert_or_assign(e.key, FromNodeAsJson(e.value));
      return Value::NewMap(std::move(entries));
    }
  }
  return Value::Nil();
}

Value FromNodeTyped(const manifest::Node& node) {
  using T = manifest::Node::Type;
  switch (node.type()) {
    case T::kInt: return Value::Int64(node.AsInt());
    case T::kSequence: {
      List items;
      for (const auto& item : node.items()) items.push_back(FromNodeTyped(item));
      return Value::NewList(std::move(items));
    }
    case T::kMapping: {
      Map entries;
      for (const auto& e : node.entries()) entries.insert_or_assign(e.key, FromNodeTyped(e.value));
      return Value::NewMap(std::move(entries));
    }
    default: return FromNodeAsJson(node);
  }
}

namespace {

manifest::Node ToNodeRaw(const Value& v, int depth) {
  using manifest::Node;
  CheckValueDepth(depth);
  switch (v.kind()) {
    case Value::Kind::kNil: return Node::Null();
    case Value::Kind::kBool: return Node::Bool(v.AsBool());
    case Value::Kind::kInt: return Node::Int(v.AsInt());
    case Value::Kind::kFloat: return Node::Float(v.AsFloat());
    case Value::Kind::kString: return Node::String(v.AsString());
    case Value::Kind::kList: {
      Node out = Node::Sequence();
      for (const Value& item : v.AsList()) out.Append(ToNodeRaw(item, depth + 1));
      return out;
    }
    case Value::Kind::kMap: {
      Node out = Node::Mapping();
      for (const auto& [k, item] : v.AsMap()) out.entries().push_back({k, ToNodeRaw(item, depth + 1), {}});
      return out;
    }
    case Value::Kind::kObject: {
      // Structs marshal their exported fields; the objects Helm exposes are
      // rarely serialised, so printing their text is the faithful fallback
      // for Stringers only.
      return Node::String(v.AsObject().Print());
    }
  }
  return Node::Null();
}

void JsonString(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t r = 0;
    std::size_t n = DecodeRune(s, i, r);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    i += n;
    switch (r) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '<': case '>': case '&': out += "\\u00" + Hex(r, 2); continue;
      case 0x2028: out += "\\u2028"; continue;
      case 0x2029: out += "\\u2029"; continue;
      default: break;
    }
    if (r < 0x20) {
      out += "\\u00" + Hex(r, 2);
    } else {
      AppendUtf8(out, r);
    }
  }
  out += '"';
}

void JsonAppend(std::string& out, const Value& v, int depth) {
  CheckValueDepth(depth);
  switch (v.kind()) {
    case Value::Kind::kNil: out += "null"; return;
    case Value::Kind::kBool: out += v.AsBool() ? "true" : "false"; return;
    case Value::Kind::kInt: out += std::to_string(v.AsInt()); return;
    case Value::Kind::kFloat: out += manifest::FormatGoJsonFloat(v.AsFloat()); return;
    case Value::Kind::kString: JsonString(out, v.AsString()); return;
    case Value::Kind::kList: {
      out += '[';
      bool first = true;
      for (const Value& item : v.AsList()) {
        if (!first) out += ',';
        first = false;
        JsonAppend(out, item, depth + 1);
      }
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      out += '{';
      bool first = true;
      for (const auto& [k, item] : v.AsMap()) {
        if (!first) out += ',';
        first = false;
        JsonString(out, k);
        out += ':';
        JsonAppend(out, item, depth + 1);
      }
      out += '}';
      return;
    }
    case Value::Kind::kObject: JsonString(out, v.AsObject().Print()); return;
  }
}

}  // namespace

Result<manifest::Node> ParseFirstYamlDocument(std::string_view text, const std::string& file) {
  manifest::ParseOptions opts;
  opts.file = file;
  opts.schema = manifest::Schema::kYaml11;
  opts.resolve_plain_keys = true;
  text = FirstYamlDocument(text);
  if (auto fast = TryParseBlockYaml(text, opts)) return std::move(*fast);
  auto docs = manifest::ParseYamlStream(text, opts);
  if (!docs.ok()) return std::move(docs).error();
  if (docs->empty()) return manifest::Node();
  return std::move(docs->front());
}

namespace {

// The one Go's encoder meets first: it walks map keys in sorted order, so
// in a mapping the bad value under the smallest key wins. One pass, no
// sorting: an entry is looked into only when its key is smaller than that of
// the best found so far.
const manifest::Node* FirstNonFiniteFloat(const manifest::Node& node) {
  if (node.IsFloat()) return std::isfinite(node.AsFloat()) ? nullptr : &node;
  if (node.IsSequence()) {
    for (const manifest::Node& item : node.items()) {
      if (const manifest::Node* bad = FirstNonFiniteFloat(item)) return bad;
    }
  } else if (node.IsMapping()) {
    const std::string* best_key = nullptr;
    const manifest::Node* best = nullptr;
    for (const manifest::Node::Entry& e : node.entries()) {
      if (best_key != nullptr && !(e.key < *best_key)) continue;
      if (const manifest::Node* bad = FirstNonFiniteFloat(e.value)) {
        best_key = &e.key;
        best = bad;
      }
    }
    return best;
  }
  return nullptr;
}

}  // namespace

Status CheckJsonFloats(const manifest::Node& node, const std::string& file) {
  const manifest::Node* bad = FirstNonFiniteFloat(node);
  if (bad == nullptr) return Status::Ok();
  double f = bad->AsFloat();
  std::string name = std::isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf";
  return MakeError(ErrorCode::kInvalidInput, "error converting YAML to JSON: json: unsupported value: " + name,
                   Location{file, bad->mark().line, bad->mark().column, {}});
}

manifest::Node ToNode(const Value& v) { return ToNodeRaw(v, 0); }

std::string ToJsonText(const Value& v) {
  std::string out;
  JsonAppend(out, v, 0);
  return out;
}

std::string ToYamlText(const Value& v) {
  // Helm's toYaml marshals to JSON and reads that back with go-yaml v2
  // before printing, which turns whole floats into integers; toYamlPretty
  // encodes the value directly and keeps them floats (1e+06).
  manifest::EmitOptions options;
  options.floats_through_json = true;
  std::string text = manifest::EmitYaml(ToNode(v), options);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

namespace {

struct TomlFailure {
  std::string message;
};

class TomlWriter {
 public:
  std::string Take() { return std::move(out_); }

  void Encode(const std::vector<std::string>& key, const Value& v, int depth) {
    CheckValueDepth(depth);
    switch (v.kind()) {
      case Value::Kind::kNil: return;
      case Value::Kind::kList:
        if (IsTableArray(v)) {
          ArrayOfTables(key, v, depth);
        } else {
          KeyValue(key, v, depth);
        }
        return;
      case Value::Kind::kMap: Table(key, v, depth); return;
      default: KeyValue(key, v, depth); return;
    }
  }

 private:
  static bool IsBare(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) return false;
    }
    return true;
  }

  static std::string Quoted(std::string_view s) {
    static const char* kHex = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += ch;
          }
      }
    }
    return out + "\"";
  }

  static std::string KeyPart(std::string_view s) { return s.empty() ? "\"\"" : IsBare(s) ? std::string(s) : Quoted(s); }

  static std::string KeyPath(const std::vector<std::string>& key) {
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) out += (i ? "." : "") + KeyPart(key[i]);
    return out;
  }

  static bool IsTableArray(const Value& v) {
    if (v.AsList().empty()) return false;
    bool all_maps = true;
    for (const Value& item : v.AsList()) {
      if (item.IsNil()) throw TomlFailure{"toml: cannot encode array with nil element"};
      if (!item.IsMap()) all_maps = false;
    }
    return all_maps;
  }

  static bool IsTableValue(const Value& v) { return v.IsMap() || (v.IsList() && IsTableArray(v)); }

  void Write(std::string_view s) {
    out_ += s;
    written_ = true;
  }
  void Newline() {
    if (written_) out_ += '\n';
  }
  static std::string Indent(const std::vector<std::string>& key) {
    return std::string(key.empty() ? 0 : 2 * (key.size() - 1), ' ');
  }

  void Element(const Value& v, int depth) {
    CheckValueDepth(depth);
    switch (v.kind()) {
      case Value::Kind::kString: Write(Quoted(v.AsString())); return;
      case Value::Kind::kBool: Write(v.AsBool() ? "true" : "false"); return;
      case Value::Kind::kInt: Write(std::to_string(v.AsInt())); return;
      case Value::Kind::kFloat: {
        double f = v.AsFloat();
        if (std::isnan(f)) {
          Write("nan");
        } else if (std::isinf(f)) {
          Write(f < 0 ? "-inf" : "+inf");
        } else {
          char buf[400];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
          std::string text = ec == std::errc() ? std::string(buf, end) : std::to_string(f);
          if (text.find('.') == std::string::npos) text += ".0";
          Write(text);
        }
        return;
      }
      case Value::Kind::kList: {
        Write("[");
        const List& items = v.AsList();
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (items[i].IsNil()) throw TomlFailure{"toml: cannot encode array with nil element"};
          Element(items[i], depth + 1);
          if (i + 1 != items.size()) Write(", ");
        }
        Write("]");
        return;
      }
      case Value::Kind::kMap: MapBody({}, v, true, depth + 1); return;
      case Value::Kind::kObject: Write(Quoted(v.AsObject().Print())); return;
      case Value::Kind::kNil: throw TomlFailure{"toml: cannot encode array with nil element"};
    }
  }

  void KeyValue(const std::vector<std::string>& key, const Value& v, int depth, bool inline_value = false) {
    if (key.empty()) throw TomlFailure{"toml: top-level values must be Go maps or structs"};
    Write(Indent(key) + KeyPart(key.back()) + " = ");
    Element(v, depth);
    if (!inline_value) Newline();
  }

  void Table(const std::vector<std::string>& key, const Value& v, int depth) {
    if (key.size() == 1) Newline();
    if (!key.empty()) {
      Write(Indent(key) + "[" + KeyPath(key) + "]");
      Newline();
    }
    MapBody(key, v, false, depth);
  }

  void ArrayOfTables(const std::vector<std::string>& key, const Value& v, int depth) {
    if (key.empty()) throw TomlFailure{"toml: top-level values must be Go maps or structs"};
    for (const Value& item : v.AsList()) {
      Newline();
      Write(Indent(key) + "[[" + KeyPath(key) + "]]");
      Newline();
      MapBody(key, item, false, depth);
    }
  }

  // Plain values first, then tables, each group in key order.
  void MapBody(const std::vector<std::string>& key, const Value& v, bool inline_map, int depth) {
    std::vector<const std::pair<const std::string, Value>*> direct, sub;
    for (const auto& entry : v.AsMap()) (IsTableValue(entry.second) ? sub : direct).push_back(&entry);
    if (inline_map) Write("{");
    auto write = [&](const std::vector<const std::pair<const std::string, Value>*>& entries, bool trailing_comma) {
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& [k, item] = *entries[i];
        if (item.IsNil()) continue;
        if (inline_map) {
          KeyValue({k}, item, depth, true);
          if (trailing_comma || i + 1 != entries.size()) Write(", ");
        } else {
          std::vector<std::string> child = key;
          child.push_back(k);
          Encode(child, item, depth + 1);
        }
      }
    };
    write(direct, !sub.empty());
    write(sub, false);
    if (inline_map) Write("}");
  }

  std::string out_;
  bool written_ = false;
};

}  // namespace

Result<std::string> ToTomlText(const Value& v) {
  try {
    TomlWriter writer;
    if (v.IsNil()) return MakeError(ErrorCode::kInvalidInput, "toml: top-level values must be Go maps or structs");
    writer.Encode({}, v, 0);
    return writer.Take();
  } catch (const TomlFailure& f) {
    return MakeError(ErrorCode::kInvalidInput, f.message);
  }
}

std::string ToYamlPrettyText(const Value& v) {
  manifest::EmitOptions options;
  options.indent_sequences = true;
  options.width = std::numeric_limits<int>::max();
  std::string text = manifest::EmitYaml(ToNode(v), options);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace keelson::helm

namespace keelson::helm {

void CycleBreaker::NoteWrite(const Value& map) {
  if (!map.IsMap()) return;
  // Charts write into the same few dicts over and over; remember each once.
  // An address seen before may belong to a map freed since, so the entry
  // counts only while its map is alive.
  auto [it, inserted] = index_.try_emplace(map.identity(), written_.size());
  if (!inserted) {
    if (!written_[it->second].expired()) return;
    written_[it->second] = map.map_ptr();
    return;
  }
  written_.push_back(map.map_ptr());
}

void CycleBreaker::BreakCycles() {
  enum class Color : std::uint8_t { kOnPath, kDone };
  std::unordered_map<const void*, Color> color;
  struct Frame {
    Value holder;  // keeps the container alive while it is on the path
    std::vector<Value*> children;
    std::size_t next = 0;
  };
  auto children_of = [](const Value& v) {
    std::vector<Value*> out;
    if (v.IsMap()) {
      for (auto& [k, item] : v.MutableMap()) {
        if (item.IsMap() || item.IsList()) out.push_back(&item);
      }
    } else {
      for (auto& item : v.MutableList()) {
        if (item.IsMap() || item.IsList()) out.push_back(&item);
      }
    }
    return out;
  };
  std::vector<Frame> path;
  for (const auto& weak : written_) {
    MapPtr root = weak.lock();
    if (root == nullptr || color.count(root.get()) > 0) continue;
    Value start = Value::FromMap(root);
    color[start.identity()] = Color::kOnPath;
    path.push_back(Frame{start, children_of(start), 0});
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next == top.children.size()) {
        color[top.holder.identity()] = Color::kDone;
        path.pop_back();
        continue;
      }
      Value* edge = top.children[top.next++];
      auto it = color.find(edge->identity());
      if (it == color.end()) {
        Value child = *edge;
        color[child.identity()] = Color::kOnPath;
        auto grandchildren = children_of(child);
        path.push_back(Frame{std::move(child), std::move(grandchildren), 0});
      } else if (it->second == Color::kOnPath) {
        *edge = Value();  // the back edge: it closes a cycle
      }
    }
  }
  written_.clear();
  index_.clear();
}

}  // namespace keelson::helm
