// A Go text/template engine: lexer, parser and evaluator.
//
// TemplateSet holds named parse trees (files and their `define`s) that may
// call each other; Executor runs one of them against a data Value, calling
// functions from a FunctionTable. Everything follows Go's documented
// behaviour: trim markers, pipelines, variables and `$`, if/else if/with/
// range with else, break and continue, define/template/block, Go's truth,
// comparison and printing rules, and missingkey=zero map lookups.
//
// Errors name the template, line and column ("file:line:col") and the
// failing expression. A template set is immutable once parsed and may be
// shared by executors; an Executor is single-threaded. Untrusted templates
// are bounded by Limits: nesting depth, output bytes and evaluation steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "renderers/helm/value.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

struct TemplateNode;
using TreePtr = std::shared_ptr<const TemplateNode>;

class Executor;

// What a function sees besides its arguments.
struct CallContext {
  Executor& executor;
  const Value& dot;
};

using Function = std::function<Result<Value>(CallContext& ctx, std::vector<Value>& args)>;

// Hashes std::string and std::string_view alike, so maps keyed by string
// can be searched with a view.
struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct FunctionTable {
  std::unordered_map<std::string, Function, TransparentStringHash, std::equal_to<>> functions;
  bool Has(std::string_view name) const { return functions.find(name) != functions.end(); }
};

// The Go built-ins: and/or/not (handled lazily by the evaluator), len,
// index, slice, print, printf, println, html, js, urlquery, eq/ne/lt/le/
// gt/ge, call.
void AddBuiltins(FunctionTable& table);

struct Limits {
  // Nested template/include/tpl calls.
  int max_depth = 200;
  // Bytes one Execute call may write, including nested includes.
  std::size_t max_output_bytes = 64u << 20;
  // Nodes evaluated across one executor's lifetime.
  std::uint64_t max_steps = 50'000'000;
  // Parser nesting (parentheses, blocks).
  int max_parse_depth = 200;
};

// A set of named templates. Parse adds one source text under its name,
// plus every `define`/`block` in it. A later definition replaces an earlier
// one unless it is empty (only whitespace), as in Go. An overlay set (see
// the parent constructor) sees its parent's templates and shadows them.
class TemplateSet {
 public:
  TemplateSet() = default;
  explicit TemplateSet(const TemplateSet* parent) : parent_(parent) {}

  // Parses `text` as template `name`. Function names are checked against
  // `functions` at parse time, as Go does, and bound to its entries:
  // `functions` must outlive the parsed trees.
  Status Parse(const std::string& name, std::string_view text, const FunctionTable& functions,
               const Limits& limits = {});
  // Adds an already parsed tree (see ParseTrees).
  void Add(const std::string& name, TreePtr tree);
  const TemplateNode* Find(std::string_view name) const;

  // Parses into separate trees without adding them: [name] = main tree,
  // plus defines. Used to cache `tpl` parses.
  static Result<std::vector<std::pair<std::string, TreePtr>>> ParseTrees(
      const std::string& name, std::string_view text, const FunctionTable& functions, const Limits& limits);

 private:
  const TemplateSet* parent_ = nullptr;
  std::unordered_map<std::string, TreePtr, TransparentStringHash, std::equal_to<>> templates_;
};

class Executor {
 public:
  Executor(const FunctionTable& functions, Limits limits) : functions_(functions), limits_(limits) {}
  // Breaks the reference cycles templates made (see CycleBreaker).
  ~Executor() { cycles_.BreakCycles(); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs template `name` of `set` with dot = data; returns its output.
  Result<std::string> Execute(const TemplateSet& set, std::string_view name, const Value& data);
  // Runs a tree directly (not looked up by name), with `set` for the
  // templates it calls; this is how Go runs a freshly parsed template.
  Result<std::string> ExecuteTree(const TemplateSet& set, const TemplateNode& tree, const Value& data);

  // For functions: the set currently executing, and nesting control.
  const TemplateSet* current_set() const { return current_set_; }
  const FunctionTable& functions() const { return functions_; }
  const Limits& limits() const { return limits_; }
  int depth() const { return depth_; }

  // Functions that write into a map (`set`, `merge`) note it here.
  void NoteWrite(const Value& map) { cycles_.NoteWrite(map); }

  // Cache of parsed `tpl` texts, keyed by text.
  std::unordered_map<std::string, std::vector<std::pair<std::string, TreePtr>>>& tpl_cache() {
    return tpl_cache_;
  }

 private:
  friend class ExecState;
  const FunctionTable& functions_;
  Limits limits_;
  const TemplateSet* current_set_ = nullptr;
  int depth_ = 0;
  std::uint64_t steps_ = 0;
  std::size_t output_bytes_ = 0;
  std::unordered_map<std::string, std::vector<std::pair<std::string, TreePtr>>> tpl_cache_;
  // Argument vectors of finished calls, reused to spare an allocation per
  // function call.
  std::vector<std::vector<Value>> arg_pool_;
  CycleBreaker cycles_;
};

// The exact text Go's html, js and urlquery built-ins produce.
std::string HtmlEscape(std::string_view s);
std::string JsEscape(std::string_view s);
std::string QueryEscape(std::string_view s);

// Go's eq/lt semantics; errors are Go's messages.
Result<bool> GoEqual(const Value& a, const Value& b);
Result<bool> GoLess(const Value& a, const Value& b);

}  // namespace keelson::helm
