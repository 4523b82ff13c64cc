// Parse trees of the template engine (internal to renderers/helm).
//
// All nodes of one parsed text live in one TemplateArena together with a
// copy of the text they point into, so a tree is built with few
// allocations and freed in a few blocks. The TreePtrs handed out alias the
// arena and keep it alive; nodes are immutable once parsing ends.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/helm/template.h"
#include "renderers/helm/value.h"

namespace keelson::helm {

enum class NodeKind {
  kList, kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue,
  kPipe, kCommand, kField, kVariable, kIdentifier, kDot, kNil, kBool, kNumber, kString, kChain,
};

// One node; which members are used depends on kind:
//   kList: nodes, text (the template's name); kText: text; kAction: pipe;
//   kIf/kRange/kWith: pipe, list, else_list; kTemplate: text (name), pipe
//   (may be null); kPipe: decls, is_assign, nodes (commands); kCommand:
//   nodes (operands); kField: idents; kVariable: idents ("$x", fields...);
//   kIdentifier: text, function; kChain: pipe (operand), idents;
//   kBool/kNumber/kString: constant and text.
// Trivially destructible: everything it refers to belongs to the arena.
struct TemplateNode {
  NodeKind kind = NodeKind::kList;
  bool is_assign = false;
  bool parenthesized = false;
  int line = 0;
  int col = 0;  // 0-based, as Go reports it
  std::string_view text;
  std::span<const std::string_view> idents;
  std::span<const TemplateNode* const> nodes;
  const TemplateNode* pipe = nullptr;
  const TemplateNode* list = nullptr;
  const TemplateNode* else_list = nullptr;
  std::span<const std::string_view> decls;
  const Value* constant = nullptr;
  // kIdentifier: the function found at parse time in `function_table`.
  const FunctionTable* function_table = nullptr;
  const Function* function = nullptr;
};

// Storage for the nodes of one parsed text. Not thread-safe while being
// filled; read-only afterwards.
class TemplateArena {
 public:
  explicit TemplateArena(std::string_view source);
  ~TemplateArena();
  TemplateArena(const TemplateArena&) = delete;
  TemplateArena& operator=(const TemplateArena&) = delete;

  // The copy of the parsed text that nodes point into.
  std::string_view source() const { return source_; }
  TemplateNode* NewNode(NodeKind kind, int line, int col);
  TemplateNode* CopyNode(const TemplateNode& n);
  std::string_view Store(std::string_view s);
  std::span<const std::string_view> Store(std::span<const std::string_view> items);
  std::span<const TemplateNode* const> Store(std::span<const TemplateNode* const> items);
  const Value* StoreConstant(Value v);

 private:
  // Bump allocation from blocks that are only freed with the arena.
  void* Allocate(std::size_t size, std::size_t align) {
    std::size_t at = (used_ + align - 1) & ~(align - 1);
    if (at + size > capacity_) return Grow(size, align);
    used_ = at + size;
    return blocks_.back().get() + at;
  }
  void* Grow(std::size_t size, std::size_t align);

  std::string source_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t used_ = 0;      // bytes used in the last block
  std::size_t capacity_ = 0;  // size of the last block
  std::size_t next_block_;    // size of the next block
  std::vector<Value*> constants_;  // destroyed with the arena
};

// A tree that keeps its arena alive.
inline TreePtr ShareTree(const std::shared_ptr<TemplateArena>& arena, const TemplateNode* node) {
  return TreePtr(arena, node);
}

// Go's String() of a node, for "at <...>" in error messages.
std::string NodeString(const TemplateNode& n);

}  // namespace keelson::helm
