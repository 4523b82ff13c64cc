#include "renderers/manifest/node.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace keelson::manifest {

Node::Node() = default;
Node::~Node() = default;
Node::Node(const Node&) = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(const Node&) = default;
Node& Node::operator=(Node&&) noexcept = default;

Node Node::Null() { return Node(); }

Node Node::Bool(bool v) {
  Node n;
  n.type_ = Type::kBool;
  n.bool_ = v;
  return n;
}

Node Node::Int(std::int64_t v) {
  Node n;
  n.type_ = Type::kInt;
  n.int_ = v;
  return n;
}

Node Node::Float(double v) {
  Node n;
  n.type_ = Type::kFloat;
  n.float_ = v;
  return n;
}

Node Node::String(std::string v) {
  Node n;
  n.type_ = Type::kString;
  n.string_ = std::move(v);
  return n;
}

Node Node::Sequence() {
  Node n;
  n.type_ = Type::kSequence;
  return n;
}

Node Node::Mapping() {
  Node n;
  n.type_ = Type::kMapping;
  return n;
}

bool Node::AsBool() const {
  assert(type_ == Type::kBool);
  return bool_;
}

std::int64_t Node::AsInt() const {
  assert(type_ == Type::kInt);
  return int_;
}

double Node::AsFloat() const {
  assert(type_ == Type::kFloat);
  return float_;
}

const std::string& Node::AsString() const {
  assert(type_ == Type::kString);
  return string_;
}

std::string Node::ScalarText() const {
  switch (type_) {
    case Type::kNull:
      return "";
    case Type::kBool:
      return bool_ ? "true" : "false";
    case Type::kInt:
      return std::to_string(int_);
    case Type::kFloat:
      return FormatGoFloat(float_);
    case Type::kString:
      return string_;
    case Type::kSequence:
    case Type::kMapping:
      break;
  }
  return "";
}

const std::vector<Node>& Node::items() const { return items_; }
std::vector<Node>& Node::items() { return items_; }

Node& Node::Append(Node item) {
  assert(type_ == Type::kSequence);
  items_.push_back(std::move(item));
  return items_.back();
}

const std::vector<Node::Entry>& Node::entries() const { return entries_; }
std::vector<Node::Entry>& Node::entries() { return entries_; }

const Node* Node::Find(std::string_view key) const {
  if (type_ != Type::kMapping) return nullptr;
  for (const Entry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Node* Node::Find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->Find(key));
}

const Node* Node::FindPath(std::initializer_list<std::string_view> path) const {
  const Node* cur = this;
  for (std::string_view key : path) {
    cur = cur->Find(key);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

Node* Node::FindPath(std::initializer_list<std::string_view> path) {
  return const_cast<Node*>(static_cast<const Node*>(this)->FindPath(path));
}

Node& Node::Set(std::string_view key, Node value) {
  if (type_ == Type::kNull) type_ = Type::kMapping;
  assert(type_ == Type::kMapping);
  if (Node* existing = Find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  entries_.push_back(Entry{std::string(key), std::move(value), {}});
  return entries_.back().value;
}

Node& Node::operator[](std::string_view key) {
  if (type_ == Type::kNull) type_ = Type::kMapping;
  assert(type_ == Type::kMapping);
  if (Node* existing = Find(key)) return *existing;
  entries_.push_back(Entry{std::string(key), Node(), {}});
  return entries_.back().value;
}

bool Node::Erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.key == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::string Node::GetString(std::string_view key) const {
  const Node* n = Find(key);
  return n != nullptr && n->IsString() ? n->string_ : std::string();
}

std::size_t Node::size() const {
  if (type_ == Type::kSequence) return items_.size();
  if (type_ == Type::kMapping) return entries_.size();
  return 0;
}

bool operator==(const Node& a, const Node& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Node::Type::kNull:
      return true;
    case Node::Type::kBool:
      return a.bool_ == b.bool_;
    case Node::Type::kInt:
      return a.int_ == b.int_;
    case Node::Type::kFloat:
      return a.float_ == b.float_ || (std::isnan(a.float_) && std::isnan(b.float_));
    case Node::Type::kString:
      return a.string_ == b.string_;
    case Node::Type::kSequence:
      return a.items_ == b.items_;
    case Node::Type::kMapping: {
      if (a.entries_.size() != b.entries_.size()) return false;
      for (const Node::Entry& e : a.entries_) {
        const Node* other = b.Find(e.key);
        if (other == nullptr || !(*other == e.value)) return false;
      }
      return true;
    }
  }
  return false;
}

std::optional<std::int64_t> WholeInt64(double v) {
  // 2^63 is exact as a double; the range test is false for NaN.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(v >= -kTwo63 && v < kTwo63) || std::trunc(v) != v) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

ShortestDecimal ShortestDigits(double v) {
  assert(std::isfinite(v));
  // std::to_chars without a precision gives the shortest round-trip digits,
  // as Go's strconv does with precision -1: "-1.2345e+06".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  assert(ec == std::errc());
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  ShortestDecimal out;
  std::size_t e = sci.find('e');
  for (char c : sci.substr(0, e)) {
    if (c == '-') out.negative = true;
    if (c >= '0' && c <= '9') out.digits += c;
  }
  std::size_t from = e + 1 + (sci[e + 1] == '+' ? 1 : 0);
  std::from_chars(sci.data() + from, sci.data() + sci.size(), out.exponent);
  return out;
}

std::uint64_t ShortestDecimal::Mantissa() const {
  std::uint64_t m = 0;
  for (char c : digits) m = m * 10 + static_cast<std::uint64_t>(c - '0');
  return m;
}

namespace {

// The digits written out without an exponent, as strconv's 'f' with
// precision -1: trailing zeros where the shortest digits end, not the exact
// binary value ("1152921504606847000" for 2^60).
std::string PlainDecimal(const ShortestDecimal& d) {
  std::string out = d.negative ? "-" : "";
  auto nd = static_cast<int>(d.digits.size());
  if (d.exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-d.exponent - 1), '0') + d.digits;
  } else if (d.exponent >= nd - 1) {
    out += d.digits + std::string(static_cast<std::size_t>(d.exponent - (nd - 1)), '0');
  } else {
    auto point = static_cast<std::size_t>(d.exponent + 1);
    out += d.digits.substr(0, point) + "." + d.digits.substr(point);
  }
  return out;
}

// d.ddde±XX with at least `min_exp_digits` exponent digits.
std::string ExponentDecimal(const ShortestDecimal& d, int min_exp_digits) {
  std::string out = d.negative ? "-" : "";
  out += d.digits.substr(0, 1);
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  out += d.exponent < 0 ? "e-" : "e+";
  std::string exp = std::to_string(std::abs(d.exponent));
  if (static_cast<int>(exp.size()) < min_exp_digits) exp.insert(0, static_cast<std::size_t>(min_exp_digits) - exp.size(), '0');
  return out + exp;
}

}  // namespace

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  ShortestDecimal d = ShortestDigits(v);
  // %v is 'g' with the shortest digits, which takes the exponent form
  // below 1e-4 and from 1e6 on (fmt decides as if the precision were 6).
  if (d.exponent < -4 || d.exponent >= 6) return ExponentDecimal(d, 2);
  return PlainDecimal(d);
}

std::string FormatGoJsonFloat(double v) {
  if (!std::isfinite(v)) return "null";
  double a = std::fabs(v);
  if (a == 0) return std::signbit(v) ? "-0" : "0";
  ShortestDecimal d = ShortestDigits(v);
  // encoding/json uses 'e' outside [1e-6, 1e21) and drops the exponent's
  // padding zero ("1e-07" becomes "1e-7").
  if (a < 1e-6 || a >= 1e21) return ExponentDecimal(d, 1);
  return PlainDecimal(d);
}

namespace {

// FormatGoJsonFloat(v) read as a T, when it is an integer text T holds.
template <typename T>
std::optional<T> ReadGoJsonInteger(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  std::string text = FormatGoJsonFloat(v);
  if (text.find_first_of(".e") != std::string::npos) return std::nullopt;
  T out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::int64_t> GoJsonRoundTripInt(double v) { return ReadGoJsonInteger<std::int64_t>(v); }

std::optional<std::uint64_t> GoJsonRoundTripUint(double v) {
  // Below 2^63 the shortest text fits an int64 (the largest double below
  // reads "9223372036854775000"), from 2^63 on it does not
  // ("9223372036854776000"); from_chars refuses a sign for unsigned types,
  // so negative texts fall through as floats.
  if (!(v >= 0x1p63)) return std::nullopt;
  return ReadGoJsonInteger<std::uint64_t>(v);
}

}  // namespace keelson::manifest
