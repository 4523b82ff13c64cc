// The tree every Keelson layer shares: one YAML/JSON document as ordered
// nodes with source positions.
//
// A Node is a value type (copying copies the whole subtree). Mapping entries
// keep the order they had in the source; lookups are linear, which is faster
// than hashing for the small maps Kubernetes objects are made of. Not
// thread-safe for concurrent mutation; concurrent reads are fine.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keelson::manifest {

// Position of a node in its source text, 1-based; line 0 means "not parsed
// from text" (built in code or produced by a renderer).
struct Mark {
  int line = 0;
  int column = 0;
};

class Node {
 public:
  enum class Type : std::uint8_t { kNull, kBool, kInt, kFloat, kString, kSequence, kMapping };
  struct Entry;

  // Special members are defined out of line, where Entry is complete.
  Node();  // null
  ~Node();
  Node(const Node&);
  Node(Node&&) noexcept;
  Node& operator=(const Node&);
  Node& operator=(Node&&) noexcept;
  static Node Null();
  static Node Bool(bool v);
  static Node Int(std::int64_t v);
  static Node Float(double v);
  static Node String(std::string v);
  static Node Sequence();
  static Node Mapping();

  Type type() const { return type_; }
  bool IsNull() const { return type_ == Type::kNull; }
  bool IsBool() const { return type_ == Type::kBool; }
  bool IsInt() const { return type_ == Type::kInt; }
  bool IsFloat() const { return type_ == Type::kFloat; }
  bool IsString() const { return type_ == Type::kString; }
  bool IsScalar() const { return type_ != Type::kSequence && type_ != Type::kMapping; }
  bool IsSequence() const { return type_ == Type::kSequence; }
  bool IsMapping() const { return type_ == Type::kMapping; }

  // Scalar accessors; calling one on a node of another type is a bug.
  bool AsBool() const;
  std::int64_t AsInt() const;
  double AsFloat() const;
  const std::string& AsString() const;
  // Any scalar as text: strings as they are, null as "", numbers and booleans
  // the way Go prints them ("true", "42", "1.5", "1e+06").
  std::string ScalarText() const;

  // Sequences.
  const std::vector<Node>& items() const;
  std::vector<Node>& items();
  Node& Append(Node item);

  // Mappings.
  const std::vector<Entry>& entries() const;
  std::vector<Entry>& entries();
  const Node* Find(std::string_view key) const;
  Node* Find(std::string_view key);
  // Follows a path of mapping keys; nullptr when any step is missing or not
  // a mapping.
  const Node* FindPath(std::initializer_list<std::string_view> path) const;
  Node* FindPath(std::initializer_list<std::string_view> path);
  // Replaces the value of an existing key in place, or appends the key. A
  // null node becomes a mapping first.
  Node& Set(std::string_view key, Node value);
  // The value of key, inserting a null first when it is missing.
  Node& operator[](std::string_view key);
  bool Erase(std::string_view key);
  // The string value of key, or "" when missing or not a string.
  std::string GetString(std::string_view key) const;

  // Number of items or entries; 0 for scalars.
  std::size_t size() const;
  bool empty() const { return size() == 0; }

  Mark mark() const { return mark_; }
  void set_mark(Mark m) { mark_ = m; }

  // Deep equality of values: mapping order matters not, marks never do;
  // Int 1 and Float 1.0 are different values.
  friend bool operator==(const Node& a, const Node& b);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  Mark mark_;
  union {
    std::int64_t int_ = 0;
    double float_;
  };
  std::string string_;
  std::vector<Node> items_;
  std::vector<Entry> entries_;
};

struct Node::Entry {
  std::string key;
  Node value;
  Mark key_mark;
};

// Defined once Entry is complete: clang rejects building the entries
// vector of an incomplete type inside the class body.

// A finite float64 as the shortest decimal that reads back to it:
// value = ±0.digits... scaled so that digits[0] sits at 10^exponent
// ("1.25e+06" is digits "125", exponent 6; zero is "0", exponent 0).
struct ShortestDecimal {
  bool negative = false;
  std::string digits;
  int exponent = 0;

  // The same value as ±Mantissa() * 10^MantissaExponent(): the digits as
  // one integer (at most 17 of them, so it fits) and the power of ten of
  // the last one (0.075 is 75 * 10^-3).
  std::uint64_t Mantissa() const;
  int MantissaExponent() const { return exponent - static_cast<int>(digits.size()) + 1; }
};
ShortestDecimal ShortestDigits(double v);

// Go's fmt %v rendering of a float64 ("1e+06", "0.5", "+Inf").
std::string FormatGoFloat(double v);

// Go's encoding/json text of a float64: shortest digits written out in full
// from 1e-6 up to 1e21 ("1000000", "1152921504606847000"), an exponent
// outside ("1e+21", "1e-7"); "null" for NaN and infinities, which Go's
// encoder refuses and callers check for first.
std::string FormatGoJsonFloat(double v);

// The int64 Go's YAML and JSON readers make of FormatGoJsonFloat(v): what
// a float becomes after a trip through encoding/json, as Helm's toYaml and
// kyaml's JSON round trips take it. Nothing when the text has a fraction or
// an exponent, or does not fit an int64.
std::optional<std::int64_t> GoJsonRoundTripInt(double v);
// The uint64 go-yaml v2 makes of that text when it is a whole number past
// int64 that fits a uint64 ("12000000000000000000"); nothing otherwise,
// negative numbers included (those read back as floats).
std::optional<std::uint64_t> GoJsonRoundTripUint(double v);

// `v` as an int64 when it is a whole number an int64 holds exactly
// (-2^63 <= v < 2^63); nothing for fractions, NaN, infinities and the rest.
// Every float-to-count conversion goes through here: casting anything
// outside that range is undefined behaviour.
std::optional<std::int64_t> WholeInt64(double v);

}  // namespace keelson::manifest
