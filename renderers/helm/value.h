// Dynamic values with Go semantics, as Go templates see them.
//
// A Value is what a chart's templates operate on: nil, bool, int (Go's
// `int` or `int64`), float64, string, a list ([]interface{}), a map
// (map[string]interface{}, iterated in sorted key order) or an Object (a
// Go struct with fields and methods, such as .Capabilities or .Files).
// Lists and maps are shared by reference like Go slices and maps: copying a
// Value copies the handle, and `set` on a dict is visible through every
// handle. Not thread-safe; one render uses its values on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

class Value;
using List = std::vector<Value>;
using Map = std::map<std::string, Value, std::less<>>;
using ListPtr = std::shared_ptr<List>;
using MapPtr = std::shared_ptr<Map>;

// A Go struct exposed to templates: named fields and methods. Missing fields
// are an error, unlike map keys.
class Object {
 public:
  using Method = std::function<Result<Value>(const std::vector<Value>& args)>;
  virtual ~Object() = default;
  virtual std::string TypeName() const = 0;
  // nullptr when there is no such field.
  virtual const Value* Field(std::string_view name) const = 0;
  // nullptr when there is no such method.
  virtual const Method* FindMethod(std::string_view name) const = 0;
  // What fmt prints for the object (%v and template output).
  virtual std::string Print() const = 0;
  // For objects that are Go maps or slices underneath (chart.Files is a
  // map[string][]byte): the collection `range` and `len` see; nil otherwise.
  virtual const Value* Collection() const { return nullptr; }
};
using ObjectPtr = std::shared_ptr<const Object>;

class Value {
 public:
  enum class Kind : std::uint8_t { kNil, kBool, kInt, kFloat, kString, kList, kMap, kObject };

  Value() = default;
  static Value Nil() { return Value(); }
  static Value Bool(bool b);
  // Go `int` (template literals, len, most Sprig results).
  static Value Int(std::int64_t i);
  // Go `int64` (--set integers, Sprig's add/sub/int64).
  static Value Int64(std::int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  static Value NewList(List items = {});
  static Value NewMap(Map entries = {});
  static Value FromList(ListPtr list);
  static Value FromMap(MapPtr map);
  static Value FromObject(ObjectPtr object);

  Kind kind() const { return kind_; }
  bool IsNil() const { return kind_ == Kind::kNil; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsInt() const { return kind_ == Kind::kInt; }
  bool IsFloat() const { return kind_ == Kind::kFloat; }
  bool IsNumber() const { return IsInt() || IsFloat(); }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsList() const { return kind_ == Kind::kList; }
  bool IsMap() const { return kind_ == Kind::kMap; }
  bool IsObject() const { return kind_ == Kind::kObject; }
  bool is_int64() const { return int64_; }

  bool AsBool() const { return b_; }
  std::int64_t AsInt() const { return i_; }
  double AsFloat() const { return f_; }
  const std::string& AsString() const { return *static_cast<const std::string*>(ptr_.get()); }
  const List& AsList() const { return *static_cast<const List*>(ptr_.get()); }
  List& MutableList() const { return *static_cast<List*>(ptr_.get()); }
  ListPtr list_ptr() const { return std::static_pointer_cast<List>(ptr_); }
  const Map& AsMap() const { return *static_cast<const Map*>(ptr_.get()); }
  Map& MutableMap() const { return *static_cast<Map*>(ptr_.get()); }
  MapPtr map_ptr() const { return std::static_pointer_cast<Map>(ptr_); }
  const Object& AsObject() const { return *static_cast<const Object*>(ptr_.get()); }
  // What two handles to the same string, list, map or object share; nullptr
  // for scalars.
  const void* identity() const { return ptr_.get(); }

  // Go's type name: "<nil>", "bool", "int", "int64", "float64", "string",
  // "[]interface {}", "map[string]interface {}", or the struct's name.
  std::string TypeName() const;
  // Go's reflect.Kind name: "invalid", "bool", "int", "int64", "float64",
  // "string", "slice", "map", "struct"/"ptr".
  std::string KindName() const;

 private:
  Kind kind_ = Kind::kNil;
  bool b_ = false;
  bool int64_ = false;
  std::int64_t i_ = 0;
  double f_ = 0;
  // The string, list, map or object, by kind_: one handle keeps copying a
  // Value to one reference count.
  std::shared_ptr<void> ptr_;
};

// An Object built from tables; enough for every object Helm exposes.
class TableObject final : public Object {
 public:
  explicit TableObject(std::string type_name) : type_name_(std::move(type_name)) {}
  void SetField(std::string name, Value value);
  void SetMethod(std::string name, Method method);
  // Fields print in the order they were set, as Go prints `{a b}`.
  std::string TypeName() const override { return type_name_; }
  const Value* Field(std::string_view name) const override;
  const Method* FindMethod(std::string_view name) const override;
  std::string Print() const override;
  // When set, printing calls this method (Go's Stringer).
  void SetStringer(std::string method) { stringer_ = std::move(method); }
  void SetCollection(Value collection);
  const Value* Collection() const override;

 private:
  std::string type_name_;
  std::vector<std::pair<std::string, Value>> fields_;
  std::vector<std::pair<std::string, Method>> methods_;
  std::string stringer_;
  std::shared_ptr<const Value> collection_;
};

// Templates can make a map hold itself (`set $d "self" $d`, `merge`). Go's
// garbage collector frees such values; reference counts never would, so the
// executor notes every map a function wrote into and, when it is done,
// breaks the cycles those writes made. Only writes add edges to existing
// containers, so every cycle passes through a noted map, and removing the
// back edges of one depth-first search over what the noted maps reach
// leaves no cycle. The values stay usable afterwards, minus those edges.
class CycleBreaker {
 public:
  void NoteWrite(const Value& map);
  // Sets every edge that closes a cycle to nil.
  void BreakCycles();

 private:
  std::vector<std::weak_ptr<Map>> written_;
  std::unordered_map<const void*, std::size_t> index_;
};

// Thrown from deep inside value code that has no error channel (a
// recursive walk, an object's collection); the executor turns it into an
// error at the action that was running.
struct ValueFailure {
  std::string message;
};

// The recursive walks over values (printing, encoding, copying, deep
// comparison) stop at this nesting and throw ValueFailure. Values read from
// files never get near it; a map a template made hold itself does, on the
// first path round the cycle, where Go would overflow its stack or report a
// cycle.
inline constexpr int kMaxValueDepth = 1000;
inline void CheckValueDepth(int depth) {
  if (depth > kMaxValueDepth) throw ValueFailure{"value nested deeper than 1000 levels (a map that contains itself?)"};
}

// Go's truth for if/with/and/or/not: false, 0, "", nil and empty
// collections are false; structs are true.
bool IsTrue(const Value& v);
// Sprig's `empty`.
bool IsEmpty(const Value& v);

// fmt.Sprint of one operand (%v): nil is "<nil>", maps "map[a:1]".
std::string FormatValue(const Value& v, int depth = 0);
// fmt.Sprint over several operands: spaces only between two non-strings.
std::string Sprint(const std::vector<Value>& args);
// fmt.Sprintln: always spaces, trailing newline.
std::string Sprintln(const std::vector<Value>& args);
// fmt.Sprintf with Go's verbs, flags, widths and error forms
// (%!d(string=x), %!v(MISSING), %!(EXTRA ...)).
std::string Sprintf(std::string_view format, const std::vector<Value>& args);
// strconv.Quote.
std::string GoQuote(std::string_view s);

// Go's int64(f) on amd64: the integer part, or math.MinInt64 for NaN and
// anything out of range (where C++ has undefined behaviour).
std::int64_t GoFloatToInt64(double f);
// Go's int64 arithmetic wraps around; C++'s signed overflow is undefined.
// Division and remainder of MinInt64 by -1 give MinInt64 and 0, as in Go,
// where the processor would trap. Divisors are not zero (callers check).
std::int64_t GoAdd(std::int64_t a, std::int64_t b);
std::int64_t GoSub(std::int64_t a, std::int64_t b);
std::int64_t GoMul(std::int64_t a, std::int64_t b);
std::int64_t GoDiv(std::int64_t a, std::int64_t b);
std::int64_t GoRem(std::int64_t a, std::int64_t b);

// Deep copy of lists and maps (objects stay shared).
Value DeepCopy(const Value& v, int depth = 0);

// The JSON/YAML world and back.
// Decodes as sigs.k8s.io/yaml does into interface{}: every number becomes
// float64, keys become strings.
Value FromNodeAsJson(const manifest::Node& node);
// Keeps ints as Go ints (int64) — the --set and YAML-v2 direct decoding.
Value FromNodeTyped(const manifest::Node& node);
// The value as a Node for the YAML emitter: floats stay floats (the
// emitter's floats_through_json option prints them as Helm's toYaml does),
// objects as their printed text.
manifest::Node ToNode(const Value& v);
// Parses the first document of a YAML stream the way sigs.k8s.io/yaml
// does (YAML 1.1 scalars); later documents are ignored, an empty stream is
// null.
Result<manifest::Node> ParseFirstYamlDocument(std::string_view text, const std::string& file);
// Helm reads YAML through JSON, and encoding/json has no spelling for
// infinities and NaN: the first such float in JSON's order (keys sorted) is
// an error there ("error converting YAML to JSON: json: unsupported value:
// +Inf"), so it is one here, at the float's line in `file`.
Status CheckJsonFloats(const manifest::Node& node, const std::string& file);

// encoding/json.Marshal with sorted keys and HTML escaping.
std::string ToJsonText(const Value& v);
// sigs.k8s.io/yaml.Marshal without the trailing newline (Helm's toYaml).
std::string ToYamlText(const Value& v);
// BurntSushi/toml's encoder, as Helm's toToml uses it: keys sorted, plain
// values before tables, nested tables and arrays of tables indented two
// spaces per level, nil values left out. Fails with the encoder's message
// for values TOML cannot hold (a top level that is not a map, an array
// with a nil element).
Result<std::string> ToTomlText(const Value& v);

// go-yaml v3's encoder with 2-space indentation, without the trailing
// newline (Helm's toYamlPretty): sequences indented under their key, long
// strings not folded.
std::string ToYamlPrettyText(const Value& v);

}  // namespace keelson::helm
