// Parse trees of the template engine (internal to renderers/helm).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "renderers/helm/template.h"
#include "renderers/helm/value.h"

namespace keelson::helm {

enum class NodeKind {
  kList, kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue,
  kPipe, kCommand, kField, kVariable, kIdentifier, kDot, kNil, kBool, kNumber, kString, kChain,
};

// One node; which members are used depends on kind:
//   kList: nodes; kText: text; kAction: pipe; kIf/kRange/kWith: pipe, list,
//   else_list; kTemplate: text (name), pipe (may be null); kPipe: decls,
//   is_assign, nodes (commands); kCommand: nodes (operands); kField: idents;
//   kVariable: idents ("$x", fields...); kIdentifier: text; kChain: pipe
//   (operand), idents; kBool/kNumber/kString: constant and text.
struct TemplateNode {
  NodeKind kind = NodeKind::kList;
  int line = 0;
  int col = 0;  // 0-based, as Go reports it
  std::string text;
  std::vector<std::string> idents;
  std::vector<TreePtr> nodes;
  TreePtr pipe, list, else_list;
  std::vector<std::string> decls;
  bool is_assign = false;
  bool parenthesized = false;
  Value constant;
};

// Go's String() of a node, for "at <...>" in error messages.
std::string NodeString(const TemplateNode& n);

}  // namespace keelson::helm
