#include "policies/engine/cel_value.h"

#include <cmath>
#include <string>

namespace keelson::policy::cel {

using manifest::Node;

Value Value::Bool(bool v) {
  Value out;
  out.kind_ = Kind::kBool;
  out.bool_ = v;
  return out;
}

Value Value::Int(std::int64_t v) {
  Value out;
  out.kind_ = Kind::kInt;
  out.int_ = v;
  return out;
}

Value Value::Uint(std::uint64_t v) {
  Value out;
  out.kind_ = Kind::kUint;
  out.uint_ = v;
  return out;
}

Value Value::Double(double v) {
  Value out;
  out.kind_ = Kind::kDouble;
  out.double_ = v;
  return out;
}

Value Value::String(std::string v) {
  auto heap = std::make_shared<Heap>();
  heap->text = std::move(v);
  Value out;
  out.kind_ = Kind::kString;
  out.text_ = heap->text;
  out.heap_ = std::move(heap);
  return out;
}

Value Value::StringRef(std::string_view v) {
  Value out;
  out.kind_ = Kind::kString;
  out.text_ = v;
  return out;
}

Value Value::List(std::vector<Value> items) {
  auto heap = std::make_shared<Heap>();
  heap->list = std::move(items);
  Value out;
  out.kind_ = Kind::kList;
  out.heap_ = std::move(heap);
  return out;
}

Value Value::Map(std::vector<std::pair<Value, Value>> entries) {
  auto heap = std::make_shared<Heap>();
  heap->map = std::move(entries);
  Value out;
  out.kind_ = Kind::kMap;
  out.heap_ = std::move(heap);
  return out;
}

Value Value::Error(std::string message, int offset) {
  auto heap = std::make_shared<Heap>();
  heap->text = std::move(message);
  Value out;
  out.kind_ = Kind::kError;
  out.int_ = offset;
  out.text_ = heap->text;
  out.heap_ = std::move(heap);
  return out;
}

Value Value::FromNode(const Node& node) {
  switch (node.type()) {
    case Node::Type::kNull: return Null();
    case Node::Type::kBool: return Bool(node.AsBool());
    case Node::Type::kInt: return Int(node.AsInt());
    case Node::Type::kFloat: return Double(node.AsFloat());
    case Node::Type::kString: return StringRef(node.AsString());
    case Node::Type::kSequence: {
      Value out;
      out.kind_ = Kind::kList;
      out.node_ = &node;
      return out;
    }
    case Node::Type::kMapping: {
      Value out;
      out.kind_ = Kind::kMap;
      out.node_ = &node;
      return out;
    }
  }
  return Null();
}

std::size_t Value::ListSize() const {
  if (node_ != nullptr) return node_->items().size();
  return heap_ ? heap_->list.size() : 0;
}

Value Value::ListAt(std::size_t i) const {
  if (node_ != nullptr) return FromNode(node_->items()[i]);
  return heap_->list[i];
}

std::size_t Value::MapSize() const {
  if (node_ != nullptr) return node_->entries().size();
  return heap_ ? heap_->map.size() : 0;
}

bool Value::MapFind(std::string_view key, Value* out) const {
  if (node_ != nullptr) {
    for (const Node::Entry& e : node_->entries()) {
      if (e.key == key) {
        *out = FromNode(e.value);
        return true;
      }
    }
    return false;
  }
  if (!heap_) return false;
  for (const auto& [k, v] : heap_->map) {
    if (k.kind_ == Kind::kString && k.text_ == key) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool Value::MapFind(const Value& key, Value* out) const {
  if (key.kind_ == Kind::kString) return MapFind(key.text_, out);
  if (node_ != nullptr || !heap_) return false;  // manifest maps have string keys only
  for (const auto& [k, v] : heap_->map) {
    if (Equal(k, key)) {
      *out = v;
      return true;
    }
  }
  return false;
}

Value Value::MapKeyAt(std::size_t i) const {
  if (node_ != nullptr) return StringRef(node_->entries()[i].key);
  return heap_->map[i].first;
}

Value Value::MapValueAt(std::size_t i) const {
  if (node_ != nullptr) return FromNode(node_->entries()[i].value);
  return heap_->map[i].second;
}

std::string_view Value::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kList: return "list";
    case Kind::kMap: return "map";
    case Kind::kError: return "error";
  }
  return "unknown";
}

namespace {

void Display(const Value& v, std::string& out, std::size_t max_bytes, bool quote) {
  if (out.size() > max_bytes) return;
  switch (v.kind()) {
    case Value::Kind::kNull: out += "null"; break;
    case Value::Kind::kBool: out += v.AsBool() ? "true" : "false"; break;
    case Value::Kind::kInt: out += std::to_string(v.AsInt()); break;
    case Value::Kind::kUint: out += std::to_string(v.AsUint()) + "u"; break;
    case Value::Kind::kDouble: out += manifest::FormatGoFloat(v.AsDouble()); break;
    case Value::Kind::kString:
      if (quote) out += '"';
      out += v.AsString();
      if (quote) out += '"';
      break;
    case Value::Kind::kList:
      out += '[';
      for (std::size_t i = 0; i < v.ListSize() && out.size() <= max_bytes; ++i) {
        if (i > 0) out += ", ";
        Display(v.ListAt(i), out, max_bytes, true);
      }
      out += ']';
      break;
    case Value::Kind::kMap:
      out += '{';
      for (std::size_t i = 0; i < v.MapSize() && out.size() <= max_bytes; ++i) {
        if (i > 0) out += ", ";
        Display(v.MapKeyAt(i), out, max_bytes, true);
        out += ": ";
        Display(v.MapValueAt(i), out, max_bytes, true);
      }
      out += '}';
      break;
    case Value::Kind::kError:
      out += "<error: ";
      out += v.ErrorMessage();
      out += '>';
      break;
  }
}

// Numbers as a common representation for cross-type comparison.
bool NumbersEqual(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.kind() == b.kind()) {
    switch (a.kind()) {
      case K::kInt: return a.AsInt() == b.AsInt();
      case K::kUint: return a.AsUint() == b.AsUint();
      default: return a.AsDouble() == b.AsDouble();
    }
  }
  auto as_double = [](const Value& v) {
    switch (v.kind()) {
      case K::kInt: return static_cast<double>(v.AsInt());
      case K::kUint: return static_cast<double>(v.AsUint());
      default: return v.AsDouble();
    }
  };
  if (a.kind() == K::kInt && b.kind() == K::kUint) return a.AsInt() >= 0 && static_cast<std::uint64_t>(a.AsInt()) == b.AsUint();
  if (a.kind() == K::kUint && b.kind() == K::kInt) return b.AsInt() >= 0 && static_cast<std::uint64_t>(b.AsInt()) == a.AsUint();
  return as_double(a) == as_double(b);
}

}  // namespace

std::string Value::ToDisplayString(std::size_t max_bytes) const {
  std::string out;
  Display(*this, out, max_bytes, false);
  if (out.size() > max_bytes) {
    out.resize(max_bytes);
    out += "...";
  }
  return out;
}

bool Equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.IsNumber() && b.IsNumber()) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kNull: return true;
    case K::kBool: return a.AsBool() == b.AsBool();
    case K::kString: return a.AsString() == b.AsString();
    case K::kList: {
      if (a.ListSize() != b.ListSize()) return false;
      for (std::size_t i = 0; i < a.ListSize(); ++i) {
        if (!Equal(a.ListAt(i), b.ListAt(i))) return false;
      }
      return true;
    }
    case K::kMap: {
      if (a.MapSize() != b.MapSize()) return false;
      for (std::size_t i = 0; i < a.MapSize(); ++i) {
        Value other;
        if (!b.MapFind(a.MapKeyAt(i), &other) || !Equal(a.MapValueAt(i), other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace keelson::policy::cel
