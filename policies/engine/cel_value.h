// Runtime values of the policy expression language (a CEL subset).
//
// A Value is either a scalar (null, bool, int, uint, double, string), a list,
// a map or an error. Lists, maps and strings read from a manifest are
// borrowed: the Value points into the manifest::Node tree, which must outlive
// every Value made from it (evaluation never outlives the objects it looks
// at). Values built during evaluation own their data through a shared,
// immutable heap block, so copying a Value is cheap and never deep.
// Values are immutable; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "renderers/manifest/node.h"

namespace keelson::policy::cel {

class Value {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kList, kMap, kError };

  Value() : int_(0) {}
  static Value Null() { return Value(); }
  static Value Bool(bool v);
  static Value Int(std::int64_t v);
  static Value Uint(std::uint64_t v);
  static Value Double(double v);
  // An owned copy of the text.
  static Value String(std::string v);
  // Borrowed text: `v` must outlive the value.
  static Value StringRef(std::string_view v);
  static Value List(std::vector<Value> items);
  static Value Map(std::vector<std::pair<Value, Value>> entries);
  // An evaluation error; `offset` is the byte offset in the expression of
  // the sub-expression that failed (-1 when unknown).
  static Value Error(std::string message, int offset = -1);
  // Scalars become scalars; sequences and mappings are borrowed.
  static Value FromNode(const manifest::Node& node);

  Kind kind() const { return kind_; }
  bool IsError() const { return kind_ == Kind::kError; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsList() const { return kind_ == Kind::kList; }
  bool IsMap() const { return kind_ == Kind::kMap; }
  bool IsNumber() const { return kind_ == Kind::kInt || kind_ == Kind::kUint || kind_ == Kind::kDouble; }

  bool AsBool() const { return bool_; }
  std::int64_t AsInt() const { return int_; }
  std::uint64_t AsUint() const { return uint_; }
  double AsDouble() const { return double_; }
  std::string_view AsString() const { return text_; }
  std::string_view ErrorMessage() const { return text_; }
  int ErrorOffset() const { return static_cast<int>(int_); }

  // Lists.
  std::size_t ListSize() const;
  Value ListAt(std::size_t i) const;
  // Maps. Keys of maps read from manifests are strings.
  std::size_t MapSize() const;
  // The value for `key`; false when absent.
  bool MapFind(const Value& key, Value* out) const;
  bool MapFind(std::string_view key, Value* out) const;
  Value MapKeyAt(std::size_t i) const;
  Value MapValueAt(std::size_t i) const;

  // "int", "string", "list", ... as CEL names types in messages.
  std::string_view TypeName() const { return KindName(kind_); }
  static std::string_view KindName(Kind kind);

  // A short rendering for messages: strings as they are, lists and maps in
  // CEL literal syntax, capped at max_bytes.
  std::string ToDisplayString(std::size_t max_bytes = 1024) const;

 private:
  struct Heap {
    std::string text;
    std::vector<Value> list;
    std::vector<std::pair<Value, Value>> map;
  };
  Kind kind_ = Kind::kNull;
  union {
    bool bool_;
    std::int64_t int_;
    std::uint64_t uint_;
    double double_;
  };
  std::string_view text_;                  // strings and error messages
  const manifest::Node* node_ = nullptr;   // borrowed list or map
  std::shared_ptr<const Heap> heap_;       // owned string, list, map or error
};

// CEL equality: numbers compare by value across int, uint and double; other
// kinds are equal only to the same kind; lists and maps compare element-wise.
// Errors are never equal to anything (callers handle errors first).
bool Equal(const Value& a, const Value& b);

}  // namespace keelson::policy::cel
