// Evaluator and built-in functions of the Go template engine.
#include <algorithm>
#include <cmath>

#include "renderers/helm/template.h"
#include "renderers/helm/template_tree.h"

namespace keelson::helm {

std::string NodeString(const TemplateNode& n) {
  auto join = [](std::span<const std::string_view> v, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < v.size(); ++i) {
      out += '.';
      out += v[i];
    }
    return out;
  };
  switch (n.kind) {
    case NodeKind::kField: return join(n.idents, 0);
    case NodeKind::kVariable: return n.idents.empty() ? "" : std::string(n.idents[0]) + join(n.idents, 1);
    case NodeKind::kIdentifier: return std::string(n.text);
    case NodeKind::kDot: return ".";
    case NodeKind::kNil: return "nil";
    case NodeKind::kBool: case NodeKind::kNumber: case NodeKind::kString: return std::string(n.text);
    case NodeKind::kChain: {
      std::string inner = n.pipe ? NodeString(*n.pipe) : "";
      if (n.pipe && n.pipe->kind == NodeKind::kPipe && !n.pipe->parenthesized) inner = "(" + inner + ")";
      return inner + join(n.idents, 0);
    }
    case NodeKind::kPipe: {
      std::string out;
      for (std::size_t i = 0; i < n.decls.size(); ++i) {
        if (i > 0) out += ", ";
        out += n.decls[i];
      }
      if (!n.decls.empty()) out += n.is_assign ? " = " : " := ";
      for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        if (i > 0) out += " | ";
        out += NodeString(*n.nodes[i]);
      }
      return n.parenthesized ? "(" + out + ")" : out;
    }
    case NodeKind::kCommand: {
      std::string out;
      for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        if (i > 0) out += ' ';
        out += NodeString(*n.nodes[i]);
      }
      return out;
    }
    case NodeKind::kText: return std::string(n.text);
    case NodeKind::kAction: return "{{" + (n.pipe ? NodeString(*n.pipe) : "") + "}}";
    case NodeKind::kTemplate: return "{{template \"" + std::string(n.text) + "\"}}";
    case NodeKind::kIf: return "{{if " + NodeString(*n.pipe) + "}}";
    case NodeKind::kWith: return "{{with " + NodeString(*n.pipe) + "}}";
    case NodeKind::kRange: return "{{range " + NodeString(*n.pipe) + "}}";
    case NodeKind::kBreak: return "{{break}}";
    case NodeKind::kContinue: return "{{continue}}";
    case NodeKind::kList: return "";
  }
  return "";
}

namespace {

struct ExecFailure {
  Error error;
};

enum class Flow { kNormal, kBreak, kContinue };

}  // namespace

class ExecState {
 public:
  ExecState(Executor& ex, const TemplateSet& set, std::string& out, std::string_view source)
      : ex_(ex), set_(set), out_(out), source_(source) {}

  void Run(const Value& dot, const TemplateNode& root) {
    vars_.emplace_back("$", dot);
    Walk(dot, root);
  }

 private:
  [[noreturn]] void Fail(const TemplateNode& at, const std::string& message) {
    std::string expr = NodeString(at);
    std::string source(source_);
    throw ExecFailure{MakeError(ErrorCode::kInvalidInput, "executing \"" + source + "\" at <" + expr + ">: " + message,
                                Location{source, at.line, at.col + 1, ""})};
  }

  void Step(const TemplateNode& at) {
    if (++ex_.steps_ > ex_.limits_.max_steps) {
      throw ExecFailure{MakeError(ErrorCode::kLimitExceeded,
                                  "template evaluation exceeded " + std::to_string(ex_.limits_.max_steps) + " steps",
                                  Location{std::string(source_), at.line, at.col + 1, ""})};
    }
  }

  void Write(const TemplateNode& at, std::string_view s) {
    ex_.output_bytes_ += s.size();
    if (ex_.output_bytes_ > ex_.limits_.max_output_bytes) {
      throw ExecFailure{MakeError(ErrorCode::kLimitExceeded,
                                  "template output exceeded " + std::to_string(ex_.limits_.max_output_bytes) + " bytes",
                                  Location{std::string(source_), at.line, at.col + 1, ""})};
    }
    out_.append(s);
  }

  Flow Walk(const Value& dot, const TemplateNode& n) {
    Step(n);
    switch (n.kind) {
      case NodeKind::kList:
        for (const TemplateNode* c : n.nodes) {
          Flow f = Walk(dot, *c);
          if (f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
      case NodeKind::kText:
        Write(n, n.text);
        return Flow::kNormal;
      case NodeKind::kAction: {
        Value v = EvalPipeline(dot, *n.pipe);
        if (n.pipe->decls.empty()) Print(n, v);
        return Flow::kNormal;
      }
      case NodeKind::kIf:
      case NodeKind::kWith: {
        std::size_t mark = vars_.size();
        Value v = EvalPipeline(dot, *n.pipe);
        Flow f = Flow::kNormal;
        if (IsTrue(v)) {
          f = Walk(n.kind == NodeKind::kWith ? v : dot, *n.list);
        } else if (n.else_list) {
          f = Walk(dot, *n.else_list);
        }
        vars_.resize(mark);
        return f;
      }
      case NodeKind::kRange: return WalkRange(dot, n);
      case NodeKind::kTemplate: {
        const TemplateNode* t = set_.Find(n.text);
        if (t == nullptr) Fail(n, "template: no such template \"" + std::string(n.text) + "\"");
        Value newdot = n.pipe ? EvalPipeline(dot, *n.pipe) : Value();
        std::string nested;
        CallTemplate(n, *t, newdot, nested);
        Write(n, nested);
        return Flow::kNormal;
      }
      case NodeKind::kBreak: return Flow::kBreak;
      case NodeKind::kContinue: return Flow::kContinue;
      default: Fail(n, "unknown node");
    }
  }

  void CallTemplate(const TemplateNode& at, const TemplateNode& tree, const Value& dot, std::string& out) {
    if (ex_.depth_ >= ex_.limits_.max_depth) {
      throw ExecFailure{MakeError(ErrorCode::kLimitExceeded,
                                  "exceeded maximum template depth (" + std::to_string(ex_.limits_.max_depth) + ")",
                                  Location{std::string(source_), at.line, at.col + 1, ""})};
    }
    ++ex_.depth_;
    ExecState nested(ex_, set_, out, tree.text);
    try {
      nested.Run(dot, tree);
    } catch (...) {
      --ex_.depth_;
      throw;
    }
    --ex_.depth_;
  }

  Flow WalkRange(const Value& dot, const TemplateNode& n) {
    std::size_t mark = vars_.size();
    Value v = EvalPipeline(dot, *n.pipe);
    try {
      if (v.IsObject() && v.AsObject().Collection() != nullptr) v = *v.AsObject().Collection();
    } catch (const ValueFailure& f) {
      Fail(n, f.message);
    }
    const auto& decls = n.pipe->decls;
    auto one = [&](const Value& index, const Value& elem) {
      if (!decls.empty()) {
        if (n.pipe->is_assign) {
          SetVar(n, decls.back(), elem);
          if (decls.size() > 1) SetVar(n, decls.front(), index);
        } else {
          vars_[vars_.size() - 1].second = elem;
          if (decls.size() > 1) vars_[vars_.size() - 2].second = index;
        }
      }
      std::size_t inner = vars_.size();
      Flow f = Walk(elem, *n.list);
      vars_.resize(inner);
      return f;
    };
    bool empty = true;
    if (v.IsList()) {
      ListPtr keep = v.list_ptr();
      empty = keep->empty();
      for (std::size_t i = 0; i < keep->size(); ++i) {
        Flow f = one(Value::Int(static_cast<std::int64_t>(i)), (*keep)[i]);
        if (f == Flow::kBreak) break;
      }
    } else if (v.IsMap()) {
      MapPtr keep = v.map_ptr();
      empty = keep->empty();
      // Snapshot keys: the body may add entries with `set`.
      std::vector<std::pair<std::string, Value>> items(keep->begin(), keep->end());
      for (const auto& [k, elem] : items) {
        Flow f = one(Value::String(k), elem);
        if (f == Flow::kBreak) break;
      }
    } else if (v.IsNil()) {
      empty = true;
    } else {
      Fail(n, "range can't iterate over " + FormatValue(v));
    }
    if (empty && n.else_list) Walk(dot, *n.else_list);
    vars_.resize(mark);
    return Flow::kNormal;
  }

  void Print(const TemplateNode& at, const Value& v) {
    if (v.IsNil()) {
      Write(at, "<no value>");
    } else if (v.IsString()) {
      Write(at, v.AsString());
    } else {
      std::string text;
      try {
        text = FormatValue(v);
      } catch (const ValueFailure& f) {
        Fail(at, f.message);
      }
      Write(at, text);
    }
  }

  Value EvalPipeline(const Value& dot, const TemplateNode& pipe) {
    Value value;
    bool have = false;
    for (const TemplateNode* cmd : pipe.nodes) {
      value = EvalCommand(dot, *cmd, have ? &value : nullptr);
      have = true;
    }
    for (std::string_view name : pipe.decls) {
      if (pipe.is_assign) {
        SetVar(pipe, name, value);
      } else {
        vars_.emplace_back(name, value);
      }
    }
    return value;
  }

  void SetVar(const TemplateNode& at, std::string_view name, const Value& value) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) {
        it->second = value;
        return;
      }
    }
    Fail(at, "undefined variable: " + std::string(name));
  }

  const Value& VarValue(const TemplateNode& at, std::string_view name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    Fail(at, "undefined variable: " + std::string(name));
  }

  void NotAFunction(const TemplateNode& cmd, const Value* final) {
    if (cmd.nodes.size() > 1 || final != nullptr) {
      Fail(cmd, "can't give argument to non-function " + NodeString(*cmd.nodes[0]));
    }
  }

  Value EvalCommand(const Value& dot, const TemplateNode& cmd, const Value* final) {
    Step(cmd);
    const TemplateNode& first = *cmd.nodes[0];
    switch (first.kind) {
      case NodeKind::kField:
        return EvalFieldChain(dot, dot, first, first.idents, 0, &cmd, final, false);
      case NodeKind::kChain: {
        if (first.pipe->kind == NodeKind::kNil) Fail(first, "indirection through explicit nil in " + NodeString(first));
        Value recv = EvalArg(dot, *first.pipe);
        return EvalFieldChain(dot, recv, first, first.idents, 0, &cmd, final, false);
      }
      case NodeKind::kIdentifier: return EvalFunction(dot, first, &cmd, final);
      case NodeKind::kPipe:
        NotAFunction(cmd, final);
        return EvalPipeline(dot, first);
      case NodeKind::kVariable: return EvalVariable(dot, first, &cmd, final);
      default: break;
    }
    NotAFunction(cmd, final);
    switch (first.kind) {
      case NodeKind::kBool: case NodeKind::kNumber: case NodeKind::kString: return *first.constant;
      case NodeKind::kDot: return dot;
      case NodeKind::kNil: Fail(first, "nil is not a command");
      default: Fail(first, "can't evaluate command " + NodeString(first));
    }
  }

  Value EvalArg(const Value& dot, const TemplateNode& n) {
    switch (n.kind) {
      case NodeKind::kDot: return dot;
      case NodeKind::kNil: return Value();
      case NodeKind::kField: return EvalFieldChain(dot, dot, n, n.idents, 0, nullptr, nullptr, false);
      case NodeKind::kVariable: return EvalVariable(dot, n, nullptr, nullptr);
      case NodeKind::kPipe: return EvalPipeline(dot, n);
      case NodeKind::kIdentifier: return EvalFunction(dot, n, nullptr, nullptr);
      case NodeKind::kChain: {
        if (n.pipe->kind == NodeKind::kNil) Fail(n, "indirection through explicit nil in " + NodeString(n));
        Value recv = EvalArg(dot, *n.pipe);
        return EvalFieldChain(dot, recv, n, n.idents, 0, nullptr, nullptr, false);
      }
      case NodeKind::kBool: case NodeKind::kNumber: case NodeKind::kString: return *n.constant;
      default: Fail(n, "can't handle " + NodeString(n) + " as an argument");
    }
  }

  Value EvalVariable(const Value& dot, const TemplateNode& var, const TemplateNode* cmd, const Value* final) {
    Value value = VarValue(var, var.idents[0]);
    if (var.idents.size() == 1) {
      if (cmd) NotAFunction(*cmd, final);
      return value;
    }
    return EvalFieldChain(dot, value, var, var.idents, 1, cmd, final, false);
  }

  // Walks idents[from..]; the last field gets the command's arguments.
  Value EvalFieldChain(const Value& dot, Value receiver, const TemplateNode& node,
                       std::span<const std::string_view> idents, std::size_t from, const TemplateNode* cmd,
                       const Value* final, bool chained) {
    for (std::size_t i = from; i + 1 < idents.size(); ++i) {
      receiver = EvalField(dot, idents[i], node, nullptr, nullptr, receiver, chained || i > from);
    }
    return EvalField(dot, idents.back(), node, cmd, final, receiver, chained || idents.size() - 1 > from);
  }

  Value EvalField(const Value& dot, std::string_view name, const TemplateNode& node, const TemplateNode* cmd,
                  const Value* final, const Value& receiver, bool from_lookup) {
    bool has_args = (cmd != nullptr && cmd->nodes.size() > 1) || final != nullptr;
    switch (receiver.kind()) {
      case Value::Kind::kNil:
        // A nil that came out of a map lookup is a typed nil interface in
        // Go; the top-level nil data is an invalid value and yields nil.
        if (from_lookup) Fail(node, "nil pointer evaluating interface {}." + std::string(name));
        return Value();
      case Value::Kind::kMap: {
        if (has_args) Fail(node, std::string(name) + " is not a method but has arguments");
        auto it = receiver.AsMap().find(name);
        return it == receiver.AsMap().end() ? Value() : it->second;
      }
      case Value::Kind::kObject: {
        const Object& obj = receiver.AsObject();
        if (const Object::Method* m = obj.FindMethod(name)) {
          std::vector<Value> args;
          if (cmd) {
            for (std::size_t i = 1; i < cmd->nodes.size(); ++i) args.push_back(EvalArg(dot, *cmd->nodes[i]));
          }
          if (final) args.push_back(*final);
          Result<Value> r = (*m)(args);
          if (!r.ok()) Fail(node, "error calling " + std::string(name) + ": " + r.error().message);
          return std::move(r).value();
        }
        if (const Value* f = obj.Field(name)) {
          if (has_args) Fail(node, std::string(name) + " has arguments but cannot be invoked as function");
          return *f;
        }
        Fail(node, "can't evaluate field " + std::string(name) + " in type " + obj.TypeName());
      }
      default:
        Fail(node, "can't evaluate field " + std::string(name) + " in type " +
                       (from_lookup ? "interface {}" : receiver.TypeName()));
    }
  }

  Value EvalFunction(const Value& dot, const TemplateNode& ident, const TemplateNode* cmd, const Value* final) {
    std::string_view name = ident.text;
    std::size_t nargs = cmd ? cmd->nodes.size() - 1 : 0;
    if (name == "and" || name == "or") {
      if (nargs == 0 && final == nullptr) {
        Fail(ident, "wrong number of args for " + std::string(name) + ": want at least 1 got 0");
      }
      bool want = name == "or";
      Value v;
      for (std::size_t i = 0; i < nargs; ++i) {
        v = EvalArg(dot, *cmd->nodes[i + 1]);
        if (IsTrue(v) == want) return v;
      }
      if (final) v = *final;
      return v;
    }
    // The function found at parse time, unless this executor runs with
    // another table.
    const Function* fn = ident.function_table == &ex_.functions_ ? ident.function : nullptr;
    if (fn == nullptr) {
      auto it = ex_.functions_.functions.find(name);
      if (it == ex_.functions_.functions.end()) Fail(ident, "\"" + std::string(name) + "\" is not a defined function");
      fn = &it->second;
    }
    std::vector<Value> args;
    if (!ex_.arg_pool_.empty()) {
      args = std::move(ex_.arg_pool_.back());
      ex_.arg_pool_.pop_back();
    }
    args.reserve(nargs + 1);
    for (std::size_t i = 0; i < nargs; ++i) args.push_back(EvalArg(dot, *cmd->nodes[i + 1]));
    if (final) args.push_back(*final);
    CallContext ctx{ex_, dot};
    Result<Value> r = Value();
    try {
      r = (*fn)(ctx, args);
    } catch (const ValueFailure& f) {
      Fail(cmd ? *cmd : ident, "error calling " + std::string(name) + ": " + f.message);
    }
    args.clear();
    if (ex_.arg_pool_.size() < 64) ex_.arg_pool_.push_back(std::move(args));
    if (!r.ok()) {
      Error e = std::move(r).error();
      // Errors from nested templates (include, tpl) already carry the
      // innermost position.
      if (!e.where.file.empty()) throw ExecFailure{std::move(e)};
      if (e.code == ErrorCode::kLimitExceeded) {
        e.At(Location{std::string(source_), ident.line, ident.col + 1, ""});
        throw ExecFailure{std::move(e)};
      }
      Fail(cmd ? *cmd : ident, "error calling " + std::string(name) + ": " + e.message);
    }
    return std::move(r).value();
  }

  Executor& ex_;
  const TemplateSet& set_;
  std::string& out_;
  std::string_view source_;
  std::vector<std::pair<std::string_view, Value>> vars_;
};

Result<std::string> Executor::Execute(const TemplateSet& set, std::string_view name, const Value& data) {
  const TemplateNode* tree = set.Find(name);
  if (tree == nullptr) {
    return MakeError(ErrorCode::kNotFound, "template: no template \"" + std::string(name) + "\" associated with template");
  }
  return ExecuteTree(set, *tree, data);
}

Result<std::string> Executor::ExecuteTree(const TemplateSet& set, const TemplateNode& root, const Value& data) {
  const TemplateNode* tree = &root;
  if (depth_ >= limits_.max_depth) {
    return MakeError(ErrorCode::kLimitExceeded,
                     "exceeded maximum template depth (" + std::to_string(limits_.max_depth) + ")");
  }
  if (depth_ == 0) output_bytes_ = 0;
  const TemplateSet* saved = current_set_;
  current_set_ = &set;
  ++depth_;
  std::string out;
  Status status;
  try {
    ExecState state(*this, set, out, tree->text);
    state.Run(data, *tree);
  } catch (ExecFailure& f) {
    status = std::move(f.error);
  } catch (const ValueFailure& f) {
    status = MakeError(ErrorCode::kInvalidInput, f.message);
  }
  --depth_;
  current_set_ = saved;
  if (!status.ok()) return std::move(status).error();
  return out;
}

// ------------------------------------------------------------- built-ins

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JsEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      case '&': out += "\\u0026"; break;
      case '=': out += "\\u003D"; break;
      default:
        if (u < ' ') {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

namespace {

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString, kOther };

BasicKind KindOf(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: return BasicKind::kInvalid;
    case Value::Kind::kBool: return BasicKind::kBool;
    case Value::Kind::kInt: return BasicKind::kInt;
    case Value::Kind::kFloat: return BasicKind::kFloat;
    case Value::Kind::kString: return BasicKind::kString;
    default: return BasicKind::kOther;
  }
}

}  // namespace

Result<bool> GoEqual(const Value& a, const Value& b) {
  if (a.IsList() || a.IsMap()) return MakeError(ErrorCode::kInvalidInput, "invalid type for comparison");
  BasicKind ka = KindOf(a), kb = KindOf(b);
  if (ka != kb) {
    if (ka != BasicKind::kInvalid && kb != BasicKind::kInvalid) {
      return MakeError(ErrorCode::kInvalidInput, "incompatible types for comparison");
    }
    return false;
  }
  switch (ka) {
    case BasicKind::kInvalid: return true;
    case BasicKind::kBool: return a.AsBool() == b.AsBool();
    case BasicKind::kInt: return a.AsInt() == b.AsInt();
    case BasicKind::kFloat: return a.AsFloat() == b.AsFloat();
    case BasicKind::kString: return a.AsString() == b.AsString();
    case BasicKind::kOther:
      if (b.IsList() || b.IsMap()) {
        return MakeError(ErrorCode::kInvalidInput, "non-comparable type " + FormatValue(b) + ": " + b.TypeName());
      }
      return &a.AsObject() == &b.AsObject();
  }
  return false;
}

Result<bool> GoLess(const Value& a, const Value& b) {
  BasicKind ka = KindOf(a), kb = KindOf(b);
  if (ka == BasicKind::kInvalid || ka == BasicKind::kOther || ka == BasicKind::kBool || kb == BasicKind::kInvalid ||
      kb == BasicKind::kOther || kb == BasicKind::kBool) {
    return MakeError(ErrorCode::kInvalidInput, "invalid type for comparison");
  }
  if (ka != kb) return MakeError(ErrorCode::kInvalidInput, "incompatible types for comparison");
  switch (ka) {
    case BasicKind::kInt: return a.AsInt() < b.AsInt();
    case BasicKind::kFloat: return a.AsFloat() < b.AsFloat();
    case BasicKind::kString: return a.AsString() < b.AsString();
    default: return false;
  }
}

namespace {

Error ArgCountError(const std::string& name, std::size_t want, std::size_t got) {
  return MakeError(ErrorCode::kInvalidInput,
                   "wrong number of args for " + name + ": want " + std::to_string(want) + " got " + std::to_string(got));
}

Result<std::int64_t> IndexArg(const Value& v, std::size_t cap) {
  if (!v.IsInt()) return MakeError(ErrorCode::kInvalidInput, "cannot index slice/array with type " + v.TypeName());
  std::int64_t x = v.AsInt();
  if (x < 0 || static_cast<std::size_t>(x) > cap) {
    return MakeError(ErrorCode::kInvalidInput, "index out of range: " + std::to_string(x));
  }
  return x;
}

}  // namespace

void AddBuiltins(FunctionTable& table) {
  auto& f = table.functions;
  // and/or are evaluated lazily by the executor; these entries make the
  // names known to the parser.
  f["and"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> { return a.empty() ? Value() : a.back(); };
  f["or"] = f["and"];
  f["not"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return ArgCountError("not", 1, a.size());
    return Value::Bool(!IsTrue(a[0]));
  };
  f["len"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1) return ArgCountError("len", 1, a.size());
    const Value& v = a[0].IsObject() && a[0].AsObject().Collection() ? *a[0].AsObject().Collection() : a[0];
    if (v.IsString()) return Value::Int(static_cast<std::int64_t>(v.AsString().size()));
    if (v.IsList()) return Value::Int(static_cast<std::int64_t>(v.AsList().size()));
    if (v.IsMap()) return Value::Int(static_cast<std::int64_t>(v.AsMap().size()));
    if (v.IsNil()) return MakeError(ErrorCode::kInvalidInput, "len of nil pointer");
    return MakeError(ErrorCode::kInvalidInput, "len of type " + v.TypeName());
  };
  f["index"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.empty()) return ArgCountError("index", 1, 0);
    Value item = a[0];
    if (item.IsNil()) return MakeError(ErrorCode::kInvalidInput, "index of untyped nil");
    for (std::size_t i = 1; i < a.size(); ++i) {
      const Value& key = a[i];
      if (item.IsList()) {
        auto x = IndexArg(key, item.AsList().size());
        if (!x.ok()) return std::move(x).error();
        if (static_cast<std::size_t>(*x) >= item.AsList().size()) {
          return MakeError(ErrorCode::kInvalidInput, "index out of range: " + std::to_string(*x));
        }
        item = item.AsList()[static_cast<std::size_t>(*x)];
      } else if (item.IsString()) {
        auto x = IndexArg(key, item.AsString().size());
        if (!x.ok()) return std::move(x).error();
        if (static_cast<std::size_t>(*x) >= item.AsString().size()) {
          return MakeError(ErrorCode::kInvalidInput, "index out of range: " + std::to_string(*x));
        }
        item = Value::Int(static_cast<unsigned char>(item.AsString()[static_cast<std::size_t>(*x)]));
      } else if (item.IsMap()) {
        if (!key.IsString()) {
          if (key.IsNil()) return MakeError(ErrorCode::kInvalidInput, "value is nil; should be of type string");
          return MakeError(ErrorCode::kInvalidInput, "value has type " + key.TypeName() + "; should be string");
        }
        auto it = item.AsMap().find(key.AsString());
        item = it == item.AsMap().end() ? Value() : it->second;
      } else if (item.IsNil()) {
        return MakeError(ErrorCode::kInvalidInput, "index of untyped nil");
      } else {
        return MakeError(ErrorCode::kInvalidInput, "can't index item of type " + item.TypeName());
      }
    }
    return item;
  };
  f["slice"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.empty()) return ArgCountError("slice", 1, 0);
    const Value& item = a[0];
    if (a.size() > 4) return MakeError(ErrorCode::kInvalidInput, "too many slice indexes: " + std::to_string(a.size() - 1));
    std::size_t cap = item.IsString() ? item.AsString().size() : item.IsList() ? item.AsList().size() : 0;
    if (!item.IsString() && !item.IsList()) {
      return MakeError(ErrorCode::kInvalidInput, "can't slice item of type " + item.TypeName());
    }
    if (item.IsString() && a.size() == 4) return MakeError(ErrorCode::kInvalidInput, "cannot 3-index slice a string");
    std::size_t idx[2] = {0, cap};
    for (std::size_t i = 1; i < a.size() && i <= 2; ++i) {
      auto x = IndexArg(a[i], cap);
      if (!x.ok()) return std::move(x).error();
      idx[i - 1] = static_cast<std::size_t>(*x);
    }
    if (idx[0] > idx[1]) {
      return MakeError(ErrorCode::kInvalidInput,
                       "invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
    }
    if (item.IsString()) return Value::String(item.AsString().substr(idx[0], idx[1] - idx[0]));
    List out(item.AsList().begin() + static_cast<std::ptrdiff_t>(idx[0]),
             item.AsList().begin() + static_cast<std::ptrdiff_t>(idx[1]));
    return Value::NewList(std::move(out));
  };
  f["print"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> { return Value::String(Sprint(a)); };
  f["println"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> { return Value::String(Sprintln(a)); };
  f["printf"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.empty()) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for printf: want at least 1 got 0");
    std::string format = a[0].IsString() ? a[0].AsString() : FormatValue(a[0]);
    std::vector<Value> rest(a.begin() + 1, a.end());
    return Value::String(Sprintf(format, rest));
  };
  auto evalargs = [](const std::vector<Value>& a) {
    if (a.size() == 1 && a[0].IsString()) return a[0].AsString();
    return Sprint(a);
  };
  f["html"] = [evalargs](CallContext&, std::vector<Value>& a) -> Result<Value> {
    return Value::String(HtmlEscape(evalargs(a)));
  };
  f["js"] = [evalargs](CallContext&, std::vector<Value>& a) -> Result<Value> {
    return Value::String(JsEscape(evalargs(a)));
  };
  f["urlquery"] = [evalargs](CallContext&, std::vector<Value>& a) -> Result<Value> {
    return Value::String(QueryEscape(evalargs(a)));
  };
  f["eq"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() < 2) return MakeError(ErrorCode::kInvalidInput, "missing argument for comparison");
    for (std::size_t i = 1; i < a.size(); ++i) {
      auto r = GoEqual(a[0], a[i]);
      if (!r.ok()) return std::move(r).error();
      if (*r) return Value::Bool(true);
    }
    return Value::Bool(false);
  };
  f["ne"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2) return ArgCountError("ne", 2, a.size());
    auto r = GoEqual(a[0], a[1]);
    if (!r.ok()) return std::move(r).error();
    return Value::Bool(!*r);
  };
  f["lt"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2) return ArgCountError("lt", 2, a.size());
    auto r = GoLess(a[0], a[1]);
    if (!r.ok()) return std::move(r).error();
    return Value::Bool(*r);
  };
  f["le"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2) return ArgCountError("le", 2, a.size());
    auto r = GoLess(a[0], a[1]);
    if (!r.ok()) return std::move(r).error();
    if (*r) return Value::Bool(true);
    auto e = GoEqual(a[0], a[1]);
    if (!e.ok()) return std::move(e).error();
    return Value::Bool(*e);
  };
  f["gt"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2) return ArgCountError("gt", 2, a.size());
    auto r = GoLess(a[1], a[0]);
    if (!r.ok()) return std::move(r).error();
    return Value::Bool(*r);
  };
  f["ge"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2) return ArgCountError("ge", 2, a.size());
    auto r = GoLess(a[0], a[1]);
    if (!r.ok()) return std::move(r).error();
    return Value::Bool(!*r);
  };
  f["call"] = [](CallContext&, std::vector<Value>& a) -> Result<Value> {
    if (a.empty()) return ArgCountError("call", 1, 0);
    if (a[0].IsNil()) return MakeError(ErrorCode::kInvalidInput, "call of nil");
    return MakeError(ErrorCode::kInvalidInput, "non-function of type " + a[0].TypeName());
  };
}

}  // namespace keelson::helm
