// Internal: the syntax tree shared by the CEL parser/checker and evaluator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/engine/cel.h"
#include "policies/engine/regex.h"

namespace keelson::policy::cel::internal {

enum class ExprKind : std::uint8_t {
  kLiteral,
  kVariable,      // declared variable, slot = declaration index
  kLocal,         // comprehension variable, slot = local index
  kSelect,        // kids[0].name
  kHas,           // has(kids[0].name)
  kIndex,         // kids[0][kids[1]]
  kCall,          // builtin or extension; kids are the arguments, receiver first
  kList,
  kMap,           // kids alternate key, value
  kNot,
  kNegate,
  kBinary,
  kAnd,
  kOr,
  kTernary,
  kComprehension, // kids[0] range; kids[1] predicate or transform; kids[2] transform of map/3
};

enum class BinaryOp : std::uint8_t { kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe, kIn };

enum class Builtin : std::uint8_t {
  kSize,
  kStartsWith,
  kEndsWith,
  kContains,
  kMatches,
  kLowerAscii,
  kUpperAscii,
  kTrim,
  kSplit,
  kJoin,
  kReplace,
  kIndexOf,
  kToInt,
  kToUint,
  kToDouble,
  kToString,
  kToBool,
  kDyn,
  kExtension,  // Program::functions_[extension]
};

enum class Macro : std::uint8_t { kAll, kExists, kExistsOne, kFilter, kMap };

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int offset = 0;  // byte offset of the token that names this node
  int depth = 1;   // height of the subtree, capped by CompileLimits::max_depth
  Type type = Type::kDyn;
  Value literal;
  std::string name;  // field name, function name (for messages)
  int slot = -1;     // variable or local slot
  BinaryOp op = BinaryOp::kAdd;
  Builtin builtin = Builtin::kSize;
  Macro macro = Macro::kAll;
  std::size_t extension = 0;
  std::shared_ptr<const Regex> regex;  // matches() with a literal pattern
  std::vector<std::unique_ptr<Expr>> kids;
};

}  // namespace keelson::policy::cel::internal
