#include "policies/engine/policy.h"

#include <algorithm>
#include <utility>

#include "renderers/manifest/yaml.h"

namespace keelson::policy {

using manifest::Node;

std::string_view SeverityName(Severity severity) { return severity == Severity::kDeny ? "deny" : "warn"; }

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool LabelSelector::Matches(const Node* labels) const {
  auto value_of = [&](std::string_view key) -> const Node* {
    if (labels == nullptr || !labels->IsMapping()) return nullptr;
    return labels->Find(key);
  };
  for (const auto& [k, v] : match_labels) {
    const Node* have = value_of(k);
    if (have == nullptr || !have->IsScalar() || have->ScalarText() != v) return false;
  }
  for (const Requirement& r : expressions) {
    const Node* have = value_of(r.key);
    std::string text = have != nullptr && have->IsScalar() ? have->ScalarText() : "";
    bool in = have != nullptr && std::find(r.values.begin(), r.values.end(), text) != r.values.end();
    if (r.op == "In" && !in) return false;
    if (r.op == "NotIn" && in) return false;
    if (r.op == "Exists" && have == nullptr) return false;
    if (r.op == "DoesNotExist" && have != nullptr) return false;
  }
  return true;
}

namespace {

Error FieldError(const std::string& file, const Node& node, const std::string& field, std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message),
                   Location{file, node.mark().line, node.mark().column, field});
}

Result<std::vector<std::string>> StringList(const Node& node, const std::string& file, const std::string& field) {
  if (!node.IsSequence()) return FieldError(file, node, field, "must be a list of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.items().size(); ++i) {
    const Node& item = node.items()[i];
    if (!item.IsString()) return FieldError(file, item, field + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(item.AsString());
  }
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

}  // namespace

Result<LabelSelector> ParseLabelSelector(const Node& node, const std::string& file, const std::string& field) {
  if (!node.IsMapping()) return FieldError(file, node, field, "must be a mapping with matchLabels and/or matchExpressions");
  LabelSelector out;
  for (const Node::Entry& e : node.entries()) {
    if (e.key == "matchLabels") {
      if (!e.value.IsMapping()) return FieldError(file, e.value, field + ".matchLabels", "must be a mapping of strings");
      for (const Node::Entry& l : e.value.entries()) {
        if (!l.value.IsScalar() || l.value.IsNull()) {
          return FieldError(file, l.value, field + ".matchLabels." + l.key, "must be a string");
        }
        out.match_labels.emplace_back(l.key, l.value.ScalarText());
      }
    } else if (e.key == "matchExpressions") {
      if (!e.value.IsSequence()) return FieldError(file, e.value, field + ".matchExpressions", "must be a list");
      for (std::size_t i = 0; i < e.value.items().size(); ++i) {
        const Node& x = e.value.items()[i];
        std::string where = field + ".matchExpressions[" + std::to_string(i) + "]";
        if (!x.IsMapping()) return FieldError(file, x, where, "must be a mapping with key, operator and values");
        LabelSelector::Requirement r;
        r.key = x.GetString("key");
        r.op = x.GetString("operator");
        if (r.key.empty()) return FieldError(file, x, where + ".key", "is required");
        if (r.op != "In" && r.op != "NotIn" && r.op != "Exists" && r.op != "DoesNotExist") {
          return FieldError(file, x, where + ".operator", "must be In, NotIn, Exists or DoesNotExist");
        }
        if (const Node* values = x.Find("values")) {
          Result<std::vector<std::string>> v = StringList(*values, file, where + ".values");
          if (!v.ok()) return std::move(v).error();
          r.values = std::move(v).value();
        }
        if ((r.op == "In" || r.op == "NotIn") && r.values.empty()) {
          return FieldError(file, x, where + ".values", "must not be empty for " + r.op);
        }
        out.expressions.push_back(std::move(r));
      }
    } else {
      return FieldError(file, e.value, field + "." + e.key, "unknown field (expected matchLabels or matchExpressions)");
    }
  }
  return out;
}

ScalarSourceMap::ScalarSourceMap(std::string_view file_text, const Node& scalar) : fallback_(scalar.mark()) {
  if (!scalar.IsString() || scalar.mark().line <= 0) return;
  const std::string& expr = scalar.AsString();
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= file_text.size();) {
    std::size_t end = file_text.find('\n', start);
    if (end == std::string_view::npos) end = file_text.size();
    lines.push_back(file_text.substr(start, end - start));
    start = end + 1;
  }
  std::size_t cursor = 0;
  int first = scalar.mark().line;
  for (int l = first; l <= static_cast<int>(lines.size()) && cursor < expr.size() && l < first + 100'000; ++l) {
    std::string_view text = lines[static_cast<std::size_t>(l - 1)];
    std::size_t begin = l == first ? static_cast<std::size_t>(std::max(0, scalar.mark().column - 1)) : 0;
    if (begin > text.size()) continue;
    std::size_t lead = text.find_first_not_of(" \t", begin);
    if (lead == std::string_view::npos) continue;
    std::string_view content = text.substr(lead);
    if (l == first && (content.starts_with('|') || content.starts_with('>'))) continue;
    if (l == first && (content.starts_with('"') || content.starts_with('\''))) {
      content.remove_prefix(1);
      ++lead;
    }
    if (content.empty()) continue;
    std::string_view probe = content.substr(0, std::min<std::size_t>(content.size(), 12));
    std::size_t found = expr.find(probe, cursor);
    if (found == std::string::npos) continue;
    segments_.push_back({found, l, static_cast<int>(lead) + 1});
    std::size_t n = 0;
    while (n < content.size() && found + n < expr.size() && content[n] == expr[found + n]) ++n;
    cursor = found + n;
  }
}

Location ScalarSourceMap::Locate(std::size_t offset) const {
  const Segment* best = nullptr;
  for (const Segment& s : segments_) {
    if (s.offset <= offset) best = &s;
  }
  if (best == nullptr) return Location{{}, fallback_.line, fallback_.column, {}};
  return Location{{}, best->line, best->column + static_cast<int>(offset - best->offset), {}};
}

namespace {

// Compiles an expression from a scalar, with errors pointing into the file.
Result<std::shared_ptr<const cel::Program>> CompileAt(std::string_view source, std::size_t offset_in_scalar,
                                                      const ScalarSourceMap& map, const std::string& file,
                                                      const std::string& field) {
  Result<std::shared_ptr<const cel::Program>> program = cel::Compile(source, PolicyDeclarations());
  if (program.ok()) return program;
  Error e = std::move(program).error();
  std::size_t local = 0;
  for (int line = 1, col = 1; local < source.size(); ++local) {
    if (line == e.where.line && col == e.where.column) break;
    if (source[local] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  Location at = map.Locate(offset_in_scalar + local);
  at.file = file;
  at.field = field;
  e.where = at;
  return e;
}

Result<std::vector<MessagePart>> ParseMessage(const Node& node, std::string_view file_text, const std::string& file) {
  if (!node.IsString()) return FieldError(file, node, "message", "must be a string");
  const std::string& text = node.AsString();
  ScalarSourceMap map(file_text, node);
  std::vector<MessagePart> parts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      parts.push_back({text.substr(pos), nullptr});
      break;
    }
    if (open > pos) parts.push_back({text.substr(pos, open - pos), nullptr});
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      Location at = map.Locate(open);
      return MakeError(ErrorCode::kInvalidInput, "'{{' without a closing '}}'", Location{file, at.line, at.column, "message"});
    }
    std::string_view inner = std::string_view(text).substr(open + 2, close - open - 2);
    Result<std::shared_ptr<const cel::Program>> program = CompileAt(inner, open + 2, map, file, "message");
    if (!program.ok()) return std::move(program).error();
    parts.push_back({{}, std::move(program).value()});
    pos = close + 2;
  }
  return parts;
}

Result<Match> ParseMatch(const Node& node, const std::string& file) {
  if (!node.IsMapping()) return FieldError(file, node, "match", "must be a mapping");
  Match m;
  for (const Node::Entry& e : node.entries()) {
    std::string field = "match." + e.key;
    std::vector<std::string>* list = nullptr;
    if (e.key == "kinds") list = &m.kinds;
    else if (e.key == "namespaces") list = &m.namespaces;
    else if (e.key == "excludeNamespaces") list = &m.exclude_namespaces;
    else if (e.key == "environments") list = &m.environments;
    else if (e.key == "units") list = &m.units;
    if (list != nullptr) {
      Result<std::vector<std::string>> v = StringList(e.value, file, field);
      if (!v.ok()) return std::move(v).error();
      *list = std::move(v).value();
    } else if (e.key == "labelSelector") {
      Result<LabelSelector> s = ParseLabelSelector(e.value, file, field);
      if (!s.ok()) return std::move(s).error();
      m.label_selector = std::move(s).value();
      m.has_selector = true;
    } else {
      return FieldError(file, e.value, field,
                        "unknown field (expected kinds, namespaces, excludeNamespaces, labelSelector, environments or units)");
    }
  }
  return m;
}

// One policy document; `adjust` is set when the document only adjusts an
// existing policy (no check).
struct ParsedPolicy {
  Policy policy;
  bool has_severity = false, has_enabled = false, has_match = false, has_message = false, has_check = false;
  bool has_description = false;
};

Result<ParsedPolicy> ParsePolicy(const Node& doc, std::string_view text, const std::string& file) {
  ParsedPolicy out;
  Policy& p = out.policy;
  p.origin = Location{file, doc.mark().line, doc.mark().column, {}};
  if (!doc.IsMapping()) return FieldError(file, doc, "", "a policy must be a mapping with name and check");
  const Node* name = doc.Find("name");
  if (name == nullptr) return FieldError(file, doc, "name", "is required");
  if (!name->IsString() || !ValidName(name->AsString())) {
    return FieldError(file, *name, "name", "must be 1-63 lowercase letters, digits and '-'");
  }
  p.name = name->AsString();
  for (const Node::Entry& e : doc.entries()) {
    const Node& v = e.value;
    if (e.key == "name") continue;
    if (e.key == "description") {
      if (!v.IsString()) return FieldError(file, v, e.key, "must be a string");
      p.description = v.AsString();
      out.has_description = true;
    } else if (e.key == "severity") {
      std::string s = v.IsString() ? v.AsString() : "";
      if (s == "deny") p.severity = Severity::kDeny;
      else if (s == "warn") p.severity = Severity::kWarn;
      else return FieldError(file, v, e.key, "must be deny or warn");
      out.has_severity = true;
    } else if (e.key == "enabled") {
      if (!v.IsBool()) return FieldError(file, v, e.key, "must be true or false");
      p.enabled = v.AsBool();
      out.has_enabled = true;
    } else if (e.key == "match") {
      Result<Match> m = ParseMatch(v, file);
      if (!m.ok()) return std::move(m).error();
      p.match = std::move(m).value();
      out.has_match = true;
    } else if (e.key == "parameters") {
      if (!v.IsMapping()) return FieldError(file, v, e.key, "must be a mapping");
      p.parameters = v;
    } else if (e.key == "check") {
      if (!v.IsString() || v.AsString().empty()) return FieldError(file, v, e.key, "must be a non-empty expression");
      ScalarSourceMap map(text, v);
      Result<std::shared_ptr<const cel::Program>> program = CompileAt(v.AsString(), 0, map, file, "check");
      if (!program.ok()) return std::move(program).error();
      cel::Type t = (*program)->result_type();
      if (t != cel::Type::kBool && t != cel::Type::kDyn) {
        return FieldError(file, v, "check", "must be a bool expression, found " + std::string(cel::TypeName(t)));
      }
      p.check = std::move(program).value();
      out.has_check = true;
    } else if (e.key == "message") {
      Result<std::vector<MessagePart>> m = ParseMessage(v, text, file);
      if (!m.ok()) return std::move(m).error();
      p.message = std::move(m).value();
      out.has_message = true;
    } else {
      return FieldError(file, v, e.key,
                        "unknown field (expected name, description, severity, enabled, match, parameters, check or "
                        "message)");
    }
  }
  return out;
}

}  // namespace

Status PolicySet::AddFile(std::string_view text, const std::string& file) {
  manifest::ParseOptions options;
  options.file = file;
  options.max_input_bytes = 1u << 20;
  Result<std::vector<Node>> docs = manifest::ParseYamlStream(text, options);
  if (!docs.ok()) return std::move(docs).error();
  for (const Node& doc : *docs) {
    if (doc.IsNull()) continue;
    Result<ParsedPolicy> parsed = ParsePolicy(doc, text, file);
    if (!parsed.ok()) return std::move(parsed).error();
    ParsedPolicy& pp = *parsed;
    auto existing = std::find_if(policies_.begin(), policies_.end(),
                                 [&](const Policy& p) { return p.name == pp.policy.name; });
    if (pp.has_check) {
      if (existing != policies_.end()) {
        if (existing->origin.file == file) {
          return FieldError(file, doc, "name", "policy \"" + pp.policy.name + "\" is defined twice in this file");
        }
        *existing = std::move(pp.policy);
      } else {
        policies_.push_back(std::move(pp.policy));
      }
      continue;
    }
    if (existing == policies_.end()) {
      return FieldError(file, doc, "check",
                        "is required (a document without check adjusts an existing policy, and there is no policy "
                        "named \"" + pp.policy.name + "\")");
    }
    if (pp.has_description) existing->description = pp.policy.description;
    if (pp.has_severity) existing->severity = pp.policy.severity;
    if (pp.has_enabled) existing->enabled = pp.policy.enabled;
    if (pp.has_match) existing->match = std::move(pp.policy.match);
    if (pp.has_message) existing->message = std::move(pp.policy.message);
    for (const Node::Entry& e : pp.policy.parameters.entries()) existing->parameters.Set(e.key, e.value);
  }
  return Status::Ok();
}

Status PolicySet::AddDirectory(const manifest::FileSystem& fs, std::string_view dir, std::string_view label) {
  Result<std::vector<manifest::DirEntry>> entries = fs.ListDirectory(dir);
  if (!entries.ok()) return std::move(entries).error();
  for (const manifest::DirEntry& e : *entries) {
    if (e.name.starts_with(".")) continue;
    std::string path = dir.empty() ? e.name : std::string(dir) + "/" + e.name;
    if (e.type == manifest::FileType::kDirectory) {
      if (e.name == "fixtures") continue;
      if (Status s = AddDirectory(fs, path, label); !s) return s;
      continue;
    }
    if (!e.name.ends_with(".yaml") && !e.name.ends_with(".yml")) continue;
    Result<std::string> text = fs.ReadFile(path);
    std::string shown = std::string(label) + path;
    if (!text.ok()) return std::move(text).error().InFile(shown);
    if (Status s = AddFile(*text, shown); !s) return s;
  }
  return Status::Ok();
}

void PolicySet::Put(Policy policy) {
  for (Policy& p : policies_) {
    if (p.name == policy.name) {
      p = std::move(policy);
      return;
    }
  }
  policies_.push_back(std::move(policy));
}

const Policy* PolicySet::Find(std::string_view name) const {
  for (const Policy& p : policies_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace keelson::policy
