// The policy expression language: a subset of CEL (the Common Expression
// Language, as Kubernetes' ValidatingAdmissionPolicy uses it) over manifest
// values.
//
// Supported: literals (int, uint `1u`, double, string with escapes, raw and
// triple-quoted strings, true/false/null, lists, maps), field access `a.b`
// and `a['b']`, list indexing, `has(a.b)`, `== != < <= > >=`, `&& || !` with
// CEL's error-absorbing short circuit (`false && error` is false), `in`,
// `+ - * / %` with overflow and division-by-zero errors, ternary `c ? a : b`,
// size(), the string functions startsWith/endsWith/contains/matches/
// lowerAscii/upperAscii/trim/split/replace/indexOf, list join(), the
// conversions int()/uint()/double()/string()/bool()/dyn(), the macros
// all/exists/exists_one/filter/map (2- and 3-argument), and host-provided
// extension functions. matches() uses policies/engine/regex.h (an RE2
// subset with linear-time matching). Not supported: bytes, timestamps,
// durations, protobuf messages, type() and optional syntax.
//
// Compile() lexes, parses and type-checks an expression once; a Program is
// immutable and may be evaluated concurrently from many threads. Every
// evaluation is bounded by a step budget so no expression runs away.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/cel_value.h"
#include "renderers/manifest/result.h"

namespace keelson::policy::cel {

// Static types the checker tracks; kDyn is "not known until run time"
// (every value read from a manifest is dyn).
enum class Type : std::uint8_t { kDyn, kNull, kBool, kInt, kUint, kDouble, kString, kList, kMap };
std::string_view TypeName(Type type);

class Activation;

// A function the host adds to the language (e.g. related() for policies).
struct Function {
  std::string name;
  std::size_t arity = 0;        // arguments, not counting the receiver; with it at most 4
  bool receiver_style = false;  // called as x.name(...) instead of name(...)
  Type result = Type::kDyn;
  // Arguments come with the receiver first. Must not throw; failures are
  // returned as Value::Error. Called concurrently when programs are.
  std::function<Value(std::span<const Value> args, const Activation& activation)> impl;
};

// What an expression may refer to.
struct Declarations {
  struct Variable {
    std::string name;
    Type type = Type::kDyn;
  };
  std::vector<Variable> variables;  // an Activation supplies them in this order
  std::vector<Function> functions;
};

struct CompileLimits {
  std::size_t max_source_bytes = 32 * 1024;
  int max_depth = 64;               // nesting of the syntax tree
  std::size_t max_nodes = 10'000;   // syntax tree nodes
};

// Values for the declared variables, in declaration order, plus an opaque
// pointer extension functions may use to reach host data (owned by the
// caller, never touched by the language itself).
class Activation {
 public:
  std::vector<Value> variables;
  const void* host = nullptr;
};

struct EvalLimits {
  // Each visited node, each macro iteration and each 16 bytes a string
  // function scans cost one step.
  std::uint64_t max_steps = 1'000'000;
  std::size_t max_string_bytes = 1u << 20;  // longest string a + may build
  std::size_t max_list_size = 100'000;      // longest list a + may build
};

namespace internal {
struct Expr;
}

class Program {
 public:
  ~Program();
  Type result_type() const { return result_type_; }
  std::string_view source() const { return source_; }
  // Returns the value or a Value::Error (never throws). An exhausted step
  // budget is an error that no && or || absorbs.
  Value Evaluate(const Activation& activation, const EvalLimits& limits = {}) const;

 private:
  friend Result<std::shared_ptr<const Program>> Compile(std::string_view, const Declarations&,
                                                        const CompileLimits&);
  Program() = default;
  std::string source_;
  std::unique_ptr<internal::Expr> root_;
  Type result_type_ = Type::kDyn;
  std::size_t max_locals_ = 0;
  std::vector<Function> functions_;
};

// Parse and type errors come back as kInvalidInput with line and column
// relative to the expression text (1-based) and messages such as
// "undeclared reference to 'objet'" or "expected ')' but found ','".
Result<std::shared_ptr<const Program>> Compile(std::string_view source, const Declarations& declarations,
                                               const CompileLimits& limits = {});

// 1-based line and column of a byte offset in text.
Location OffsetToLocation(std::string_view text, std::size_t offset);

}  // namespace keelson::policy::cel
