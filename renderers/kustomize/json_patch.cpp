// RFC 6902 JSON patches over the Node tree.
#include <charconv>

#include "renderers/kustomize/internal.h"

namespace keelson::kustomize::internal {

namespace {

Result<std::vector<std::string>> ParsePointer(std::string_view pointer) {
  std::vector<std::string> out;
  if (pointer.empty()) return out;
  if (pointer[0] != '/') {
    return MakeError(ErrorCode::kInvalidInput,
                     "JSON pointer must start with '/': " + std::string(pointer));
  }
  std::string cur;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (pointer[i] == '~' && i + 1 < pointer.size() &&
        (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      cur += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
      continue;
    }
    cur += pointer[i];
  }
  return out;
}

bool ParseIndex(const std::string& s, std::size_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Error PathError(std::string_view op, std::string_view pointer, std::string_view why) {
  return MakeError(ErrorCode::kInvalidInput, std::string(op) +
                                                 " operation does not apply: " + std::string(why) +
                                                 ": path " + std::string(pointer));
}

// The parent container of the pointer's last token.
Result<Node*> Parent(Node& root, const std::vector<std::string>& tokens, std::string_view op,
                     std::string_view pointer) {
  Node* cur = &root;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (cur->IsMapping()) {
      cur = cur->Find(tokens[i]);
    } else if (cur->IsSequence()) {
      std::size_t idx = 0;
      if (!ParseIndex(tokens[i], &idx) || idx >= cur->items().size()) {
        return PathError(op, pointer, "doc is missing path");
      }
      cur = &cur->items()[idx];
    } else {
      cur = nullptr;
    }
    if (cur == nullptr) return PathError(op, pointer, "doc is missing path");
  }
  return cur;
}

Result<Node*> Get(Node& root, const std::vector<std::string>& tokens, std::string_view op,
                  std::string_view pointer) {
  if (tokens.empty()) return &root;
  Result<Node*> parent = Parent(root, tokens, op, pointer);
  if (!parent.ok()) return std::move(parent).error();
  Node* p = *parent;
  const std::string& last = tokens.back();
  if (p->IsMapping()) {
    Node* n = p->Find(last);
    if (n == nullptr) return PathError(op, pointer, "doc is missing key");
    return n;
  }
  if (p->IsSequence()) {
    std::size_t idx = 0;
    if (!ParseIndex(last, &idx) || idx >= p->items().size()) {
      return PathError(op, pointer, "index out of range");
    }
    return &p->items()[idx];
  }
  return PathError(op, pointer, "doc is missing path");
}

Status Add(Node& root, const std::vector<std::string>& tokens, Node value, std::string_view op,
           std::string_view pointer) {
  // Kustomize's patch library has no document root to add to: adding,
  // moving or copying to "" fails there, so it fails here too.
  if (tokens.empty()) return PathError(op, pointer, "doc is missing path \"\"");
  Result<Node*> parent = Parent(root, tokens, op, pointer);
  if (!parent.ok()) return std::move(parent).error();
  Node* p = *parent;
  const std::string& last = tokens.back();
  if (p->IsMapping()) {
    p->Set(last, std::move(value));
    return Status::Ok();
  }
  if (p->IsSequence()) {
    auto& items = p->items();
    if (last == "-") {
      items.push_back(std::move(value));
      return Status::Ok();
    }
    std::size_t idx = 0;
    if (!ParseIndex(last, &idx) || idx > items.size()) {
      return PathError(op, pointer, "index out of range");
    }
    items.insert(items.begin() + static_cast<long>(idx), std::move(value));
    return Status::Ok();
  }
  if (p->IsNull()) {
    *p = Node::Mapping();
    p->Set(last, std::move(value));
    return Status::Ok();
  }
  return PathError(op, pointer, "parent is not a container");
}

Result<Node> Remove(Node& root, const std::vector<std::string>& tokens, std::string_view op,
                    std::string_view pointer) {
  if (tokens.empty()) return PathError(op, pointer, "cannot remove the document root");
  Result<Node*> parent = Parent(root, tokens, op, pointer);
  if (!parent.ok()) return std::move(parent).error();
  Node* p = *parent;
  const std::string& last = tokens.back();
  if (p->IsMapping()) {
    Node* n = p->Find(last);
    if (n == nullptr) return PathError(op, pointer, "Unable to remove nonexistent key");
    Node out = *n;
    p->Erase(last);
    return out;
  }
  if (p->IsSequence()) {
    std::size_t idx = 0;
    if (!ParseIndex(last, &idx) || idx >= p->items().size()) {
      return PathError(op, pointer, "index out of range");
    }
    Node out = std::move(p->items()[idx]);
    p->items().erase(p->items().begin() + static_cast<long>(idx));
    return out;
  }
  return PathError(op, pointer, "doc is missing path");
}

}  // namespace

Status ApplyJsonPatch(Node& target, const Node& operations) {
  if (!operations.IsSequence()) {
    return MakeError(ErrorCode::kInvalidInput, "a JSON patch must be a list of operations");
  }
  for (const Node& operation : operations.items()) {
    if (!operation.IsMapping()) {
      return MakeError(ErrorCode::kInvalidInput, "a JSON patch operation must be a mapping");
    }
    std::string op = operation.GetString("op");
    std::string pointer = operation.GetString("path");
    Result<std::vector<std::string>> tokens = ParsePointer(pointer);
    if (!tokens.ok()) return std::move(tokens).error();
    const Node* value = operation.Find("value");
    if (op == "add" || op == "replace" || op == "test") {
      if (value == nullptr) {
        return MakeError(ErrorCode::kInvalidInput,
                         op + " operation needs a value: path " + pointer);
      }
    }
    if (op == "add") {
      if (Status s = Add(target, *tokens, *value, op, pointer); !s) return s;
    } else if (op == "remove") {
      Result<Node> removed = Remove(target, *tokens, op, pointer);
      if (!removed.ok()) return std::move(removed).error();
    } else if (op == "replace" && tokens->empty()) {
      // Replacing the whole document takes a mapping (a resource) and is a
      // no-op for a scalar or null, as in Kustomize; a list is refused.
      if (value->IsSequence()) {
        return PathError(op, pointer, "a resource cannot be replaced by a list");
      }
      if (value->IsMapping()) target = *value;
    } else if (op == "replace") {
      Result<Node*> at = Get(target, *tokens, op, pointer);
      if (!at.ok()) return std::move(at).error();
      **at = *value;
    } else if (op == "move" || op == "copy") {
      std::string from = operation.GetString("from");
      Result<std::vector<std::string>> from_tokens = ParsePointer(from);
      if (!from_tokens.ok()) return std::move(from_tokens).error();
      Node moved;
      if (op == "move") {
        Result<Node> removed = Remove(target, *from_tokens, op, from);
        if (!removed.ok()) return std::move(removed).error();
        moved = std::move(removed).value();
      } else {
        Result<Node*> at = Get(target, *from_tokens, op, from);
        if (!at.ok()) return std::move(at).error();
        moved = **at;
      }
      if (Status s = Add(target, *tokens, std::move(moved), op, pointer); !s) return s;
    } else if (op == "test") {
      Result<Node*> at = Get(target, *tokens, op, pointer);
      if (!at.ok()) return std::move(at).error();
      if (!(**at == *value)) {
        return MakeError(ErrorCode::kCheckFailed, "testing value " + pointer + " failed");
      }
    } else {
      return MakeError(ErrorCode::kInvalidInput, "unexpected kind of JSON patch operation: " + op);
    }
  }
  return Status::Ok();
}

}  // namespace keelson::kustomize::internal
