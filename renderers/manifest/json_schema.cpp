#include "renderers/manifest/json_schema.h"

#include <regex.h>

#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "renderers/manifest/json.h"

namespace keelson::manifest {

namespace {

// A compiled POSIX extended regular expression, searched (not anchored), as
// JSON Schema's pattern is.
class Pattern {
 public:
  static Result<std::shared_ptr<Pattern>> Compile(const std::string& text) {
    auto p = std::shared_ptr<Pattern>(new Pattern);
    int rc = regcomp(&p->re_, text.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char buf[256];
      regerror(rc, &p->re_, buf, sizeof buf);
      return MakeError(ErrorCode::kInvalidInput, "invalid pattern \"" + text + "\": " + buf);
    }
    p->compiled_ = true;
    p->text_ = text;
    return p;
  }
  ~Pattern() {
    if (compiled_) regfree(&re_);
  }
  bool Search(const std::string& s) const { return regexec(&re_, s.c_str(), 0, nullptr, 0) == 0; }
  const std::string& text() const { return text_; }

 private:
  Pattern() = default;
  regex_t re_{};
  bool compiled_ = false;
  std::string text_;
};

struct Schema {
  std::optional<bool> boolean;  // a `true` or `false` schema
  const Schema* ref = nullptr;
  std::vector<std::string> types;
  std::optional<std::vector<Node>> enum_values;
  std::optional<Node> const_value;
  std::vector<std::pair<std::string, const Schema*>> properties;
  std::vector<std::pair<std::shared_ptr<Pattern>, const Schema*>> pattern_properties;
  std::vector<std::string> required;
  const Schema* additional = nullptr;  // additionalProperties as a schema
  bool additional_given = false;
  const Schema* items = nullptr;
  std::optional<std::size_t> min_items, max_items, min_length, max_length;
  bool unique_items = false;
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;
  std::shared_ptr<Pattern> pattern;
  std::vector<const Schema*> all_of, any_of, one_of;
  const Schema* not_ = nullptr;
  const Schema* if_ = nullptr;
  const Schema* then_ = nullptr;
  const Schema* else_ = nullptr;
};

const std::set<std::string>& Annotations() {
  static const std::set<std::string> kSet = {"title", "description", "default", "examples", "$schema", "$id",
                                             "$comment", "format", "definitions", "$defs", "readOnly", "writeOnly"};
  return kSet;
}

bool IsNumber(const Node& n) { return n.IsInt() || n.IsFloat(); }
double NumberOf(const Node& n) { return n.IsInt() ? static_cast<double>(n.AsInt()) : n.AsFloat(); }

// Equality as JSON sees it: 1 and 1.0 are the same number.
bool JsonEqual(const Node& a, const Node& b) {
  if (IsNumber(a) && IsNumber(b)) return NumberOf(a) == NumberOf(b);
  if (a.IsSequence() && b.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!JsonEqual(a.items()[i], b.items()[i])) return false;
    }
    return true;
  }
  if (a.IsMapping() && b.IsMapping()) {
    if (a.size() != b.size()) return false;
    for (const Node::Entry& e : a.entries()) {
      const Node* other = b.Find(e.key);
      if (other == nullptr || !JsonEqual(e.value, *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::string Brief(const Node& n) {
  std::string json = EmitJson(n);
  return json.size() > 60 ? json.substr(0, 57) + "..." : json;
}

}  // namespace

struct JsonSchema::Impl {
  Node root;
  std::string name;
  std::deque<Schema> arena;
  std::map<std::string, Schema*> by_pointer;  // "#/definitions/x" -> compiled

  Error Fail(const std::string& where, const std::string& message) const {
    return MakeError(ErrorCode::kInvalidInput, name + ": " + (where.empty() ? "#" : where) + ": " + message);
  }

  Result<const Schema*> Resolve(const std::string& ref, const std::string& where) {
    if (auto it = by_pointer.find(ref); it != by_pointer.end()) return static_cast<const Schema*>(it->second);
    if (ref != "#" && !ref.starts_with("#/")) return Fail(where, "only local $ref (\"#/...\") is supported: " + ref);
    const Node* target = &root;
    std::size_t pos = 2;
    while (ref != "#" && pos <= ref.size()) {
      std::size_t slash = ref.find('/', pos);
      std::string token = ref.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      for (std::size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
      for (std::size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
      target = target->IsMapping() ? target->Find(token) : nullptr;
      if (target == nullptr) return Fail(where, "$ref " + ref + " points nowhere");
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    Schema& slot = arena.emplace_back();
    by_pointer[ref] = &slot;  // before compiling, so recursive references resolve
    if (Status s = Fill(*target, ref, &slot); !s) return std::move(s).error();
    return static_cast<const Schema*>(&slot);
  }

  Result<const Schema*> Compile(const Node& node, const std::string& where) {
    Schema& slot = arena.emplace_back();
    if (Status s = Fill(node, where, &slot); !s) return std::move(s).error();
    return static_cast<const Schema*>(&slot);
  }

  Status Fill(const Node& node, const std::string& where, Schema* out) {
    if (node.IsBool()) {
      out->boolean = node.AsBool();
      return Status::Ok();
    }
    if (!node.IsMapping()) return Fail(where, "a schema must be an object or a boolean");
    auto sub = [&](const Node& n, const std::string& key) -> Result<const Schema*> {
      return Compile(n, where + "/" + key);
    };
    auto count = [&](const Node& n, const std::string& key) -> Result<std::size_t> {
      if (!n.IsInt() || n.AsInt() < 0) return Fail(where + "/" + key, "must be a non-negative integer");
      return static_cast<std::size_t>(n.AsInt());
    };
    auto number = [&](const Node& n, const std::string& key) -> Result<double> {
      if (!IsNumber(n)) return Fail(where + "/" + key, "must be a number");
      return NumberOf(n);
    };
    auto list = [&](const Node& n, const std::string& key, std::vector<const Schema*>* dst) -> Status {
      if (!n.IsSequence() || n.empty()) return Fail(where + "/" + key, "must be a non-empty array of schemas");
      for (std::size_t i = 0; i < n.size(); ++i) {
        Result<const Schema*> s = sub(n.items()[i], key + "/" + std::to_string(i));
        if (!s.ok()) return std::move(s).error();
        dst->push_back(*s);
      }
      return Status::Ok();
    };
    if (const Node* ref = node.Find("$ref")) {
      if (!ref->IsString()) return Fail(where + "/$ref", "must be a string");
      for (const Node::Entry& e : node.entries()) {
        if (e.key != "$ref" && Annotations().count(e.key) == 0) {
          return Fail(where, "\"" + e.key + "\" next to $ref is ignored by draft 7; move it into the referenced schema");
        }
      }
      Result<const Schema*> target = Resolve(ref->AsString(), where + "/$ref");
      if (!target.ok()) return std::move(target).error();
      out->ref = *target;
      return Status::Ok();
    }
    for (const Node::Entry& e : node.entries()) {
      const std::string& k = e.key;
      const Node& v = e.value;
      if (Annotations().count(k) > 0) continue;
      if (k == "type") {
        static const std::set<std::string> kTypes = {"null", "boolean", "integer", "number", "string", "array", "object"};
        std::vector<Node> names = v.IsSequence() ? v.items() : std::vector<Node>{v};
        for (const Node& t : names) {
          if (!t.IsString() || kTypes.count(t.AsString()) == 0) return Fail(where + "/type", "unknown type " + Brief(t));
          out->types.push_back(t.AsString());
        }
      } else if (k == "enum") {
        if (!v.IsSequence() || v.empty()) return Fail(where + "/enum", "must be a non-empty array");
        out->enum_values = v.items();
      } else if (k == "const") {
        out->const_value = v;
      } else if (k == "properties") {
        if (!v.IsMapping()) return Fail(where + "/properties", "must be an object");
        for (const Node::Entry& p : v.entries()) {
          Result<const Schema*> s = sub(p.value, "properties/" + p.key);
          if (!s.ok()) return std::move(s).error();
          out->properties.emplace_back(p.key, *s);
        }
      } else if (k == "patternProperties") {
        if (!v.IsMapping()) return Fail(where + "/patternProperties", "must be an object");
        for (const Node::Entry& p : v.entries()) {
          Result<std::shared_ptr<Pattern>> re = Pattern::Compile(p.key);
          if (!re.ok()) return Fail(where + "/patternProperties", re.error().message);
          Result<const Schema*> s = sub(p.value, "patternProperties/" + p.key);
          if (!s.ok()) return std::move(s).error();
          out->pattern_properties.emplace_back(*re, *s);
        }
      } else if (k == "required") {
        if (!v.IsSequence()) return Fail(where + "/required", "must be an array of strings");
        for (const Node& r : v.items()) {
          if (!r.IsString()) return Fail(where + "/required", "must be an array of strings");
          out->required.push_back(r.AsString());
        }
      } else if (k == "additionalProperties") {
        Result<const Schema*> s = sub(v, k);
        if (!s.ok()) return std::move(s).error();
        out->additional = *s;
        out->additional_given = true;
      } else if (k == "items") {
        if (v.IsSequence()) return Fail(where + "/items", "tuple validation (an array of schemas) is not supported");
        Result<const Schema*> s = sub(v, k);
        if (!s.ok()) return std::move(s).error();
        out->items = *s;
      } else if (k == "minItems" || k == "maxItems" || k == "minLength" || k == "maxLength") {
        Result<std::size_t> c = count(v, k);
        if (!c.ok()) return std::move(c).error();
        (k == "minItems" ? out->min_items : k == "maxItems" ? out->max_items : k == "minLength" ? out->min_length
                                                                                                 : out->max_length) = *c;
      } else if (k == "uniqueItems") {
        if (!v.IsBool()) return Fail(where + "/uniqueItems", "must be a boolean");
        out->unique_items = v.AsBool();
      } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum" ||
                 k == "multipleOf") {
        Result<double> d = number(v, k);
        if (!d.ok()) return std::move(d).error();
        if (k == "multipleOf" && *d <= 0) return Fail(where + "/multipleOf", "must be greater than 0");
        (k == "minimum"            ? out->minimum
         : k == "maximum"          ? out->maximum
         : k == "exclusiveMinimum" ? out->exclusive_minimum
         : k == "exclusiveMaximum" ? out->exclusive_maximum
                                   : out->multiple_of) = *d;
      } else if (k == "pattern") {
        if (!v.IsString()) return Fail(where + "/pattern", "must be a string");
        Result<std::shared_ptr<Pattern>> re = Pattern::Compile(v.AsString());
        if (!re.ok()) return Fail(where + "/pattern", re.error().message);
        out->pattern = *re;
      } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
        if (Status s = list(v, k, k == "allOf" ? &out->all_of : k == "anyOf" ? &out->any_of : &out->one_of); !s) {
          return s;
        }
      } else if (k == "not" || k == "if" || k == "then" || k == "else") {
        Result<const Schema*> s = sub(v, k);
        if (!s.ok()) return std::move(s).error();
        (k == "not" ? out->not_ : k == "if" ? out->if_ : k == "then" ? out->then_ : out->else_) = *s;
      } else {
        return Fail(where, "keyword \"" + k + "\" is not supported");
      }
    }
    return Status::Ok();
  }
};

namespace {

struct Validator {
  std::size_t limit;
  std::vector<SchemaViolation>* out;

  bool Full() const { return out->size() >= limit; }

  void Add(const std::string& path, const Node& at, std::string message) {
    if (!Full()) out->push_back(SchemaViolation{path, std::move(message), at.mark()});
  }

  static bool HasType(const Node& n, const std::string& type) {
    if (type == "null") return n.IsNull();
    if (type == "boolean") return n.IsBool();
    if (type == "integer") return n.IsInt() || (n.IsFloat() && std::floor(n.AsFloat()) == n.AsFloat());
    if (type == "number") return IsNumber(n);
    if (type == "string") return n.IsString();
    if (type == "array") return n.IsSequence();
    return n.IsMapping();
  }

  // Whether `n` is valid against `s`, without recording anything.
  bool Passes(const Schema& s, const Node& n) {
    std::vector<SchemaViolation> scratch;
    Validator v{1, &scratch};
    v.Check(s, n, "");
    return scratch.empty();
  }

  static std::string Child(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  void Check(const Schema& s, const Node& n, const std::string& path) {
    if (Full()) return;
    if (s.boolean) {
      if (!*s.boolean) Add(path, n, "is not allowed here");
      return;
    }
    if (s.ref != nullptr) return Check(*s.ref, n, path);
    if (!s.types.empty()) {
      bool ok = false;
      for (const std::string& t : s.types) ok = ok || HasType(n, t);
      if (!ok) {
        std::string want;
        for (const std::string& t : s.types) want += (want.empty() ? "" : " or ") + t;
        Add(path, n, "must be " + (s.types.size() == 1 && (want[0] == 'a' || want[0] == 'i' || want[0] == 'o')
                                       ? "an " + want
                                       : s.types.size() == 1 ? "a " + want : want));
        return;  // the other keywords would only repeat it
      }
    }
    if (s.enum_values) {
      bool ok = false;
      for (const Node& e : *s.enum_values) ok = ok || JsonEqual(e, n);
      if (!ok) {
        std::string choices;
        for (const Node& e : *s.enum_values) choices += (choices.empty() ? "" : ", ") + Brief(e);
        Add(path, n, "must be one of " + choices + " (got " + Brief(n) + ")");
      }
    }
    if (s.const_value && !JsonEqual(*s.const_value, n)) Add(path, n, "must be " + Brief(*s.const_value));
    if (n.IsMapping()) CheckObject(s, n, path);
    if (n.IsSequence()) CheckArray(s, n, path);
    if (n.IsString()) CheckString(s, n, path);
    if (IsNumber(n)) CheckNumber(s, n, path);
    for (const Schema* sub : s.all_of) Check(*sub, n, path);
    if (!s.any_of.empty()) {
      bool ok = false;
      for (const Schema* sub : s.any_of) ok = ok || Passes(*sub, n);
      if (!ok) AddBranchFailure(s.any_of, n, path, "must match at least one of the allowed forms");
    }
    if (!s.one_of.empty()) {
      std::size_t matched = 0;
      for (const Schema* sub : s.one_of) matched += Passes(*sub, n) ? 1 : 0;
      if (matched == 0) AddBranchFailure(s.one_of, n, path, "must match one of the allowed forms");
      if (matched > 1) Add(path, n, "matches more than one of the allowed forms");
    }
    if (s.not_ != nullptr && Passes(*s.not_, n)) Add(path, n, "is not allowed (it matches a forbidden form)");
    if (s.if_ != nullptr) {
      if (Passes(*s.if_, n)) {
        if (s.then_ != nullptr) Check(*s.then_, n, path);
      } else if (s.else_ != nullptr) {
        Check(*s.else_, n, path);
      }
    }
  }

  // No branch matched: say why the first one did not, which is usually
  // the one the author meant when the forms differ in type.
  void AddBranchFailure(const std::vector<const Schema*>& branches, const Node& n, const std::string& path,
                        const std::string& message) {
    std::optional<SchemaViolation> chosen;
    for (const Schema* b : branches) {
      std::vector<SchemaViolation> found;
      Validator v{1, &found};
      v.Check(*b, n, path);
      if (found.empty()) continue;
      bool type_only = found[0].path == path && found[0].message.rfind("must be a", 0) == 0;
      if (!chosen) chosen = found[0];
      // Prefer a branch whose type fits: its complaint is the specific one.
      if (!type_only) {
        chosen = found[0];
        break;
      }
    }
    if (!chosen) {
      Add(path, n, message);
      return;
    }
    std::string where = chosen->path == path ? "" : chosen->path + ": ";
    Add(path, n, message + ": " + where + chosen->message);
  }

  void CheckObject(const Schema& s, const Node& n, const std::string& path) {
    for (const std::string& r : s.required) {
      if (n.Find(r) == nullptr) Add(path, n, "required field \"" + r + "\" is missing");
    }
    for (const Node::Entry& e : n.entries()) {
      if (Full()) return;
      std::string child = Child(path, e.key);
      bool known = false;
      for (const auto& [name, sub] : s.properties) {
        if (name == e.key) {
          known = true;
          Check(*sub, e.value, child);
        }
      }
      for (const auto& [re, sub] : s.pattern_properties) {
        if (re->Search(e.key)) {
          known = true;
          Check(*sub, e.value, child);
        }
      }
      if (known || !s.additional_given) continue;
      if (s.additional->boolean && !*s.additional->boolean) {
        std::string names;
        for (const auto& [name, sub] : s.properties) names += (names.empty() ? "" : ", ") + name;
        SchemaViolation v{child, "unknown field" + (names.empty() ? std::string() : " (known fields: " + names + ")"),
                          e.key_mark.line > 0 ? e.key_mark : e.value.mark()};
        if (!Full()) out->push_back(std::move(v));
      } else {
        Check(*s.additional, e.value, child);
      }
    }
  }

  void CheckArray(const Schema& s, const Node& n, const std::string& path) {
    if (s.min_items && n.size() < *s.min_items) {
      Add(path, n, "must have at least " + std::to_string(*s.min_items) + " item(s)");
    }
    if (s.max_items && n.size() > *s.max_items) {
      Add(path, n, "must have at most " + std::to_string(*s.max_items) + " item(s)");
    }
    if (s.unique_items) {
      for (std::size_t i = 0; i < n.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (JsonEqual(n.items()[i], n.items()[j])) {
            Add(path + "[" + std::to_string(i) + "]", n.items()[i], "repeats item " + std::to_string(j));
          }
        }
      }
    }
    if (s.items != nullptr) {
      for (std::size_t i = 0; i < n.size() && !Full(); ++i) {
        Check(*s.items, n.items()[i], path + "[" + std::to_string(i) + "]");
      }
    }
  }

  void CheckString(const Schema& s, const Node& n, const std::string& path) {
    // Length in characters (code points), as JSON Schema counts it.
    std::size_t length = 0;
    for (unsigned char c : n.AsString()) length += (c & 0xC0) != 0x80 ? 1 : 0;
    if (s.min_length && length < *s.min_length) {
      Add(path, n, *s.min_length == 1 ? "must not be empty" : "must be at least " + std::to_string(*s.min_length) + " characters");
    }
    if (s.max_length && length > *s.max_length) {
      Add(path, n, "must be at most " + std::to_string(*s.max_length) + " characters");
    }
    if (s.pattern && !s.pattern->Search(n.AsString())) {
      Add(path, n, "must match " + s.pattern->text() + " (got " + Brief(n) + ")");
    }
  }

  void CheckNumber(const Schema& s, const Node& n, const std::string& path) {
    double v = NumberOf(n);
    auto show = [](double d) { return Brief(std::floor(d) == d && std::fabs(d) < 1e15 ? Node::Int(static_cast<std::int64_t>(d)) : Node::Float(d)); };
    if (s.minimum && v < *s.minimum) Add(path, n, "must be at least " + show(*s.minimum));
    if (s.maximum && v > *s.maximum) Add(path, n, "must be at most " + show(*s.maximum));
    if (s.exclusive_minimum && v <= *s.exclusive_minimum) Add(path, n, "must be greater than " + show(*s.exclusive_minimum));
    if (s.exclusive_maximum && v >= *s.exclusive_maximum) Add(path, n, "must be less than " + show(*s.exclusive_maximum));
    if (s.multiple_of) {
      double q = v / *s.multiple_of;
      if (std::fabs(q - std::round(q)) > 1e-9) Add(path, n, "must be a multiple of " + show(*s.multiple_of));
    }
  }
};

}  // namespace

JsonSchema::JsonSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema& JsonSchema::operator=(JsonSchema&&) noexcept = default;
JsonSchema::~JsonSchema() = default;

Result<JsonSchema> JsonSchema::Compile(const Node& schema, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->root = schema;
  impl->name = name;
  Result<const Schema*> root = impl->Resolve("#", "");
  if (!root.ok()) return std::move(root).error();
  return JsonSchema(std::move(impl));
}

std::vector<SchemaViolation> JsonSchema::Validate(const Node& instance, std::size_t limit) const {
  std::vector<SchemaViolation> out;
  Validator v{std::max<std::size_t>(limit, 1), &out};
  v.Check(*impl_->by_pointer.at("#"), instance, "");
  return out;
}

std::optional<Error> FirstViolation(const std::vector<SchemaViolation>& violations, const std::string& file) {
  if (violations.empty()) return std::nullopt;
  const SchemaViolation& v = violations.front();
  return MakeError(ErrorCode::kInvalidInput, v.message, Location{file, v.mark.line, v.mark.column, v.path});
}

}  // namespace keelson::manifest
