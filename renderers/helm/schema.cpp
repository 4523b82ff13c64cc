#include "renderers/helm/schema.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "renderers/manifest/node.h"

namespace keelson::helm {

namespace {

using manifest::Node;

constexpr int kMaxDepth = 256;  // nested subschemas and $ref hops on one path

// A failed check: where (gojsonschema's context, "(root).a.b") and what.
struct Finding {
  std::string context;
  std::string description;
};

// Errors plus the match score the library uses to pick, among failing
// anyOf/oneOf branches, the one whose errors it reports: +1 for each check
// group that ran, -2 for each error.
struct Outcome {
  std::vector<Finding> errors;
  long score = 0;

  bool valid() const { return errors.empty(); }
  void Add(const std::string& context, std::string description) {
    errors.push_back(Finding{context, std::move(description)});
    score -= 2;
  }
  void Merge(Outcome&& other) {
    for (auto& f : other.errors) errors.push_back(std::move(f));
    score += other.score;
  }
};

// The field name of a context: without the "(root)." prefix.
std::string FieldOf(const std::string& context) {
  static constexpr std::string_view kRootDot = "(root).";
  return context.starts_with(kRootDot) ? context.substr(kRootDot.size()) : context;
}

std::string JsonOfNode(const Node& n) { return ToJsonText(FromNodeAsJson(n)); }

bool IsNumberNode(const Node& n) { return n.IsInt() || n.IsFloat(); }
double NumberOf(const Node& n) { return n.IsInt() ? static_cast<double>(n.AsInt()) : n.AsFloat(); }

// How Go prints the *big.Float bounds in messages (%v: shortest, exponent
// from 1e+06 up and below 1e-04).
std::string FormatBound(const Node& n) {
  return n.IsInt() ? std::to_string(n.AsInt()) : manifest::FormatGoFloat(n.AsFloat());
}

// Exactly "value / divisor is an integer" on the decimal values Go's
// big.Rat sees (the shortest decimal texts of the two numbers).
bool IsMultipleOf(double value, double divisor) {
  if (!std::isfinite(value) || !std::isfinite(divisor) || divisor == 0) {
    double q = value / divisor;
    return std::isfinite(q) && q == std::floor(q);
  }
  manifest::ShortestDecimal a = manifest::ShortestDigits(value), b = manifest::ShortestDigits(divisor);
  std::uint64_t x = a.Mantissa(), y = b.Mantissa();
  if (x == 0) return true;
  std::uint64_t g = std::gcd(x, y);
  x /= g;
  y /= g;
  int shift = a.MantissaExponent() - b.MantissaExponent();  // |quotient| = x / y * 10^shift
  if (shift >= 0) {
    // y must divide 10^shift.
    for (int i = 0; i < shift && y % 2 == 0; ++i) y /= 2;
    for (int i = 0; i < shift && y % 5 == 0; ++i) y /= 5;
    return y == 1;
  }
  if (y != 1) return false;
  for (int i = 0; i < -shift; ++i) {
    if (x % 10 != 0) return false;
    x /= 10;
  }
  return true;
}

std::size_t RuneCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// The JSON type of a value and whether it is a whole number.
std::string_view TypeOfValue(const Value& v, bool* is_integer) {
  *is_integer = false;
  switch (v.kind()) {
    case Value::Kind::kNil: return "null";
    case Value::Kind::kBool: return "boolean";
    case Value::Kind::kInt: *is_integer = true; return "integer";
    case Value::Kind::kFloat: {
      double f = v.AsFloat();
      *is_integer = std::isfinite(f) && f == std::floor(f);
      return *is_integer ? "integer" : "number";
    }
    case Value::Kind::kString: return "string";
    case Value::Kind::kList: return "array";
    case Value::Kind::kMap: return "object";
    case Value::Kind::kObject: return "object";
  }
  return "null";
}

struct SchemaFailure {
  std::string message;
};

class Validator {
 public:
  explicit Validator(const Node& root) : root_(root) {}

  Outcome Validate(const Value& document) {
    Outcome out;
    Recurse(root_, document, out, "(root)", 0);
    return out;
  }

 private:
  [[noreturn]] static void Broken(std::string message) { throw SchemaFailure{std::move(message)}; }

  const Node* Keyword(const Node& schema, std::string_view key) const {
    return schema.IsMapping() ? schema.Find(key) : nullptr;
  }

  // "#/definitions/a" and friends: a JSON pointer into this document.
  const Node& Resolve(const std::string& ref) const {
    if (ref.empty() || ref[0] != '#') Broken("$ref \"" + ref + "\" is not a reference within the schema");
    std::string_view pointer = std::string_view(ref).substr(1);
    const Node* at = &root_;
    if (pointer.empty()) return *at;
    if (pointer[0] != '/') Broken("$ref \"" + ref + "\" is not a JSON pointer");
    std::size_t pos = 1;
    while (true) {
      std::size_t slash = pointer.find('/', pos);
      std::string_view raw = pointer.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
      std::string token;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[i + 1] == '0' ? '~' : '/';
          ++i;
        } else if (raw[i] == '%' && i + 2 < raw.size()) {
          int hex = 0;
          auto [p, ec] = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, hex, 16);
          if (ec != std::errc() || p != raw.data() + i + 3) Broken("$ref \"" + ref + "\" has a bad escape");
          token += static_cast<char>(hex);
          i += 2;
        } else {
          token += raw[i];
        }
      }
      if (at->IsMapping()) {
        at = at->Find(token);
      } else if (at->IsSequence()) {
        std::size_t index = 0;
        auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
        at = ec == std::errc() && p == token.data() + token.size() && index < at->items().size() ? &at->items()[index]
                                                                                                : nullptr;
      } else {
        at = nullptr;
      }
      if (at == nullptr) Broken("$ref \"" + ref + "\" points to nothing");
      if (slash == std::string_view::npos) return *at;
      pos = slash + 1;
    }
  }

  const re2::RE2& Regex(const std::string& pattern) {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_unique<re2::RE2>(pattern, opts);
      if (!re->ok()) Broken("invalid regex pattern '" + pattern + "'");
      it = regexes_.emplace(pattern, std::move(re)).first;
    }
    return *it->second;
  }

  // The types a schema allows; empty when untyped.
  std::vector<std::string> TypesOf(const Node& schema) const {
    std::vector<std::string> types;
    const Node* t = Keyword(schema, "type");
    if (t == nullptr) return types;
    if (t->IsString()) {
      types.push_back(t->AsString());
    } else if (t->IsSequence()) {
      for (const Node& item : t->items()) {
        if (!item.IsString()) Broken("type must be a string or an array of strings");
        types.push_back(item.AsString());
      }
    } else {
      Broken("type must be a string or an array of strings");
    }
    return types;
  }

  static std::string TypesText(const std::vector<std::string>& types) {
    if (types.size() == 1) return types[0];
    std::string out = "[";
    for (std::size_t i = 0; i < types.size(); ++i) out += (i ? "," : "") + types[i];
    return out + "]";
  }

  static bool Contains(const std::vector<std::string>& types, std::string_view t) {
    for (const auto& x : types) {
      if (x == t) return true;
    }
    return false;
  }

  Outcome Sub(const Node& schema, const Value& v, const std::string& context, int depth) {
    Outcome out;
    Recurse(schema, v, out, context, depth + 1);
    return out;
  }

  void Recurse(const Node& schema, const Value& v, Outcome& out, const std::string& context, int depth) {
    if (depth > kMaxDepth) Broken("schema nests or refers deeper than " + std::to_string(kMaxDepth) + " levels");
    if (schema.IsBool()) {
      if (!schema.AsBool()) out.Add(context, "False always fails validation");
      return;
    }
    if (!schema.IsMapping()) Broken("a schema must be an object or a boolean");
    if (const Node* ref = Keyword(schema, "$ref")) {
      if (!ref->IsString()) Broken("$ref must be a string");
      Recurse(Resolve(ref->AsString()), v, out, context, depth + 1);
      return;
    }
    std::vector<std::string> types = TypesOf(schema);
    bool is_integer = false;
    std::string_view given = TypeOfValue(v, &is_integer);
    bool allowed = types.empty() || Contains(types, given) ||
                   ((given == "integer" || given == "number") && Contains(types, "number"));
    if (!allowed) {
      out.Add(context, "Invalid type. Expected: " + TypesText(types) + ", given: " + std::string(given));
      return;
    }
    Combinators(schema, v, out, context, depth);
    switch (v.kind()) {
      case Value::Kind::kInt:
      case Value::Kind::kFloat:
        Number(schema, v, out, context);
        Common(schema, v, out, context);
        break;
      case Value::Kind::kList:
        Array(schema, v.AsList(), out, context, depth);
        Common(schema, v, out, context);
        break;
      case Value::Kind::kMap:
        Object(schema, v.AsMap(), out, context, depth);
        Common(schema, v, out, context);
        if (const Node* props = Keyword(schema, "properties")) {
          if (!props->IsMapping()) Broken("properties must be an object");
          // Go visits properties in map order (random); sorted here.
          std::vector<const Node::Entry*> sorted;
          for (const auto& e : props->entries()) sorted.push_back(&e);
          std::sort(sorted.begin(), sorted.end(),
                    [](const Node::Entry* a, const Node::Entry* b) { return a->key < b->key; });
          for (const Node::Entry* e : sorted) {
            auto it = v.AsMap().find(e->key);
            if (it != v.AsMap().end()) Recurse(e->value, it->second, out, context + "." + e->key, depth + 1);
          }
        }
        break;
      case Value::Kind::kString:
        Common(schema, v, out, context);
        String(schema, v.AsString(), out, context);
        break;
      default:
        Common(schema, v, out, context);
        break;
    }
    ++out.score;
  }

  void Combinators(const Node& schema, const Value& v, Outcome& out, const std::string& context, int depth) {
    if (const Node* any = Keyword(schema, "anyOf")) {
      if (!any->IsSequence()) Broken("anyOf must be an array");
      std::optional<Outcome> best;
      bool matched = false;
      for (const Node& s : any->items()) {
        Outcome r = Sub(s, v, context, depth);
        if (r.valid()) {
          matched = true;
          break;
        }
        if (!best || r.score > best->score) best = std::move(r);
      }
      if (!matched && !any->items().empty()) {
        out.Add(context, "Must validate at least one schema (anyOf)");
        if (best) out.Merge(std::move(*best));
      }
    }
    if (const Node* one = Keyword(schema, "oneOf")) {
      if (!one->IsSequence()) Broken("oneOf must be an array");
      int matches = 0;
      std::optional<Outcome> best;
      for (const Node& s : one->items()) {
        Outcome r = Sub(s, v, context, depth);
        if (r.valid()) {
          ++matches;
        } else if (matches == 0 && (!best || r.score > best->score)) {
          best = std::move(r);
        }
      }
      if (matches != 1 && !one->items().empty()) {
        out.Add(context, "Must validate one and only one schema (oneOf)");
        if (matches == 0 && best) out.Merge(std::move(*best));
      }
    }
    if (const Node* all = Keyword(schema, "allOf")) {
      if (!all->IsSequence()) Broken("allOf must be an array");
      std::size_t matches = 0;
      for (const Node& s : all->items()) {
        Outcome r = Sub(s, v, context, depth);
        if (r.valid()) ++matches;
        out.Merge(std::move(r));
      }
      if (matches != all->items().size()) out.Add(context, "Must validate all the schemas (allOf)");
    }
    if (const Node* no = Keyword(schema, "not")) {
      if (Sub(*no, v, context, depth).valid()) out.Add(context, "Must not validate the schema (not)");
    }
    if (const Node* deps = Keyword(schema, "dependencies"); deps != nullptr && v.IsMap()) {
      if (!deps->IsMapping()) Broken("dependencies must be an object");
      for (const auto& [key, item] : v.AsMap()) {
        const Node* dep = deps->Find(key);
        if (dep == nullptr) continue;
        if (dep->IsSequence()) {
          for (const Node& name : dep->items()) {
            if (name.IsString() && v.AsMap().count(name.AsString()) == 0) {
              out.Add(context, "Has a dependency on " + name.AsString());
            }
          }
        } else {
          Recurse(*dep, v, out, context, depth + 1);
        }
      }
    }
    if (const Node* cond = Keyword(schema, "if")) {
      bool holds = Sub(*cond, v, context, depth).valid();
      if (const Node* then = Keyword(schema, "then"); then != nullptr && holds) {
        Outcome r = Sub(*then, v, context, depth);
        if (!r.valid()) {
          out.Add(context, "Must validate \"then\" as \"if\" was valid");
          out.Merge(std::move(r));
        }
      }
      if (const Node* otherwise = Keyword(schema, "else"); otherwise != nullptr && !holds) {
        Outcome r = Sub(*otherwise, v, context, depth);
        if (!r.valid()) {
          out.Add(context, "Must validate \"else\" as \"if\" was not valid");
          out.Merge(std::move(r));
        }
      }
    }
    ++out.score;
  }

  void Common(const Node& schema, const Value& v, Outcome& out, const std::string& context) {
    const Node* constant = Keyword(schema, "const");
    const Node* choices = Keyword(schema, "enum");
    if (constant != nullptr || choices != nullptr) {
      std::string json = ToJsonText(v);
      if (constant != nullptr) {
        std::string allowed = JsonOfNode(*constant);
        if (json != allowed) out.Add(context, FieldOf(context) + " does not match: " + allowed);
      }
      if (choices != nullptr) {
        if (!choices->IsSequence()) Broken("enum must be an array");
        std::string allowed;
        bool found = false;
        for (const Node& c : choices->items()) {
          std::string text = JsonOfNode(c);
          found = found || text == json;
          if (!allowed.empty()) allowed += ", ";
          allowed += text;
        }
        if (!found && !choices->items().empty()) {
          out.Add(context, FieldOf(context) + " must be one of the following: " + allowed);
        }
      }
    }
    ++out.score;
  }

  static std::optional<std::int64_t> Count(const Node* n, const char* key) {
    if (n == nullptr) return std::nullopt;
    if (n->IsInt()) return n->AsInt();
    if (n->IsFloat() && n->AsFloat() == std::floor(n->AsFloat())) {
      // Whole numbers beyond int64 (1e30 as a maxLength) clamp: no count
      // reaches them anyway.
      double f = n->AsFloat();
      if (std::optional<std::int64_t> whole = manifest::WholeInt64(f)) return *whole;
      return f > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    }
    Broken(std::string(key) + " must be an integer");
  }

  void Array(const Node& schema, const List& items, Outcome& out, const std::string& context, int depth) {
    auto n = static_cast<std::int64_t>(items.size());
    if (const Node* spec = Keyword(schema, "items")) {
      if (spec->IsSequence()) {
        std::size_t positional = spec->items().size();
        for (std::size_t i = 0; i < positional && i < items.size(); ++i) {
          out.Merge(Sub(spec->items()[i], items[i], context + "." + std::to_string(i), depth));
        }
        if (positional < items.size()) {
          if (const Node* extra = Keyword(schema, "additionalItems")) {
            if (extra->IsBool() && !extra->AsBool()) {
              out.Add(context, "No additional items allowed on array");
            } else if (extra->IsMapping()) {
              for (std::size_t i = positional; i < items.size(); ++i) {
                out.Merge(Sub(*extra, items[i], context + "." + std::to_string(i), depth));
              }
            }
          }
        }
      } else {
        for (std::size_t i = 0; i < items.size(); ++i) {
          out.Merge(Sub(*spec, items[i], context + "." + std::to_string(i), depth));
        }
      }
    }
    if (auto min = Count(Keyword(schema, "minItems"), "minItems"); min && n < *min) {
      out.Add(context, "Array must have at least " + std::to_string(*min) + " items");
    }
    if (auto max = Count(Keyword(schema, "maxItems"), "maxItems"); max && n > *max) {
      out.Add(context, "Array must have at most " + std::to_string(*max) + " items");
    }
    if (const Node* unique = Keyword(schema, "uniqueItems"); unique != nullptr && unique->IsBool() && unique->AsBool()) {
      std::map<std::string, std::size_t> seen;
      for (std::size_t j = 0; j < items.size(); ++j) {
        std::string text = ToJsonText(items[j]);
        auto it = seen.find(text);
        if (it != seen.end()) {
          out.Add(context, "array items[" + std::to_string(it->second) + "," + std::to_string(j) + "] must be unique");
        }
        seen[text] = j;
      }
    }
    if (const Node* contains = Keyword(schema, "contains")) {
      bool matched = false;
      std::optional<Outcome> best;
      for (std::size_t i = 0; i < items.size(); ++i) {
        Outcome r = Sub(*contains, items[i], context + "." + std::to_string(i), depth);
        if (r.valid()) {
          matched = true;
          break;
        }
        if (!best || r.score > best->score) best = std::move(r);
      }
      if (!matched) {
        out.Add(context, "At least one of the items must match");
        if (best) out.Merge(std::move(*best));
      }
    }
    ++out.score;
  }

  void Object(const Node& schema, const Map& object, Outcome& out, const std::string& context, int depth) {
    auto n = static_cast<std::int64_t>(object.size());
    if (auto min = Count(Keyword(schema, "minProperties"), "minProperties"); min && n < *min) {
      out.Add(context, "Must have at least " + std::to_string(*min) + " properties");
    }
    if (auto max = Count(Keyword(schema, "maxProperties"), "maxProperties"); max && n > *max) {
      out.Add(context, "Must have at most " + std::to_string(*max) + " properties");
    }
    if (const Node* required = Keyword(schema, "required")) {
      if (!required->IsSequence()) Broken("required must be an array");
      for (const Node& name : required->items()) {
        if (!name.IsString()) Broken("required items must be strings");
        if (object.count(name.AsString())) {
          ++out.score;
        } else {
          out.Add(context, name.AsString() + " is required");
        }
      }
    }
    const Node* props = Keyword(schema, "properties");
    const Node* patterns = Keyword(schema, "patternProperties");
    const Node* additional = Keyword(schema, "additionalProperties");
    if (patterns != nullptr && !patterns->IsMapping()) Broken("patternProperties must be an object");
    for (const auto& [key, item] : object) {
      bool declared = props != nullptr && props->IsMapping() && props->Find(key) != nullptr;
      bool matched = false;
      if (patterns != nullptr) {
        for (const auto& p : patterns->entries()) {
          if (!re2::RE2::PartialMatch(key, Regex(p.key))) continue;
          matched = true;
          out.Merge(Sub(p.value, item, context + "." + key, depth));
        }
        if (matched) ++out.score;
      }
      if (declared || matched || additional == nullptr) continue;
      if (additional->IsBool()) {
        if (!additional->AsBool()) out.Add(context, "Additional property " + key + " is not allowed");
      } else {
        out.Merge(Sub(*additional, item, context + "." + key, depth));
      }
    }
    if (const Node* names = Keyword(schema, "propertyNames")) {
      for (const auto& entry : object) {
        Outcome r = Sub(*names, Value::String(entry.first), context, depth);
        if (!r.valid()) {
          out.Add(context, "Property name of \"" + entry.first + "\" does not match");
          out.Merge(std::move(r));
        }
      }
    }
    ++out.score;
  }

  void String(const Node& schema, const std::string& s, Outcome& out, const std::string& context) {
    auto runes = static_cast<std::int64_t>(RuneCount(s));
    if (auto min = Count(Keyword(schema, "minLength"), "minLength"); min && runes < *min) {
      out.Add(context, "String length must be greater than or equal to " + std::to_string(*min));
    }
    if (auto max = Count(Keyword(schema, "maxLength"), "maxLength"); max && runes > *max) {
      out.Add(context, "String length must be less than or equal to " + std::to_string(*max));
    }
    if (const Node* pattern = Keyword(schema, "pattern")) {
      if (!pattern->IsString()) Broken("pattern must be a string");
      if (!re2::RE2::PartialMatch(s, Regex(pattern->AsString()))) {
        out.Add(context, "Does not match pattern '" + pattern->AsString() + "'");
      }
    }
    ++out.score;
  }

  void Number(const Node& schema, const Value& v, Outcome& out, const std::string& context) {
    double x = v.IsInt() ? static_cast<double>(v.AsInt()) : v.AsFloat();
    // Only the exclusive bounds may be booleans (draft 4's flag form).
    auto number = [&](const char* key, bool flag_allowed = false) -> const Node* {
      const Node* n = Keyword(schema, key);
      if (n != nullptr && !IsNumberNode(*n) && !(flag_allowed && n->IsBool())) {
        Broken(std::string(key) + " must be a number");
      }
      return n;
    };
    if (const Node* m = number("multipleOf")) {
      if (NumberOf(*m) <= 0) Broken("multipleOf must be strictly greater than 0");
      if (!IsMultipleOf(x, NumberOf(*m))) out.Add(context, "Must be a multiple of " + FormatBound(*m));
    }
    // Draft 4 writes exclusiveMaximum: true next to maximum; later drafts
    // give the bound itself. Both are accepted, as the library does.
    const Node* maximum = number("maximum");
    const Node* exclusive_max = number("exclusiveMaximum", true);
    const Node* minimum = number("minimum");
    const Node* exclusive_min = number("exclusiveMinimum", true);
    if (exclusive_max != nullptr && exclusive_max->IsBool()) {
      if (maximum == nullptr) Broken("exclusiveMaximum cannot be used without maximum");
      if (exclusive_max->AsBool()) std::swap(maximum, exclusive_max);
      if (maximum != nullptr && maximum->IsBool()) maximum = nullptr;
    }
    if (exclusive_min != nullptr && exclusive_min->IsBool()) {
      if (minimum == nullptr) Broken("exclusiveMinimum cannot be used without minimum");
      if (exclusive_min->AsBool()) std::swap(minimum, exclusive_min);
      if (minimum != nullptr && minimum->IsBool()) minimum = nullptr;
    }
    if (maximum != nullptr && x > NumberOf(*maximum)) {
      out.Add(context, "Must be less than or equal to " + FormatBound(*maximum));
    }
    if (exclusive_max != nullptr && IsNumberNode(*exclusive_max) && x >= NumberOf(*exclusive_max)) {
      out.Add(context, "Must be less than " + FormatBound(*exclusive_max));
    }
    if (minimum != nullptr && x < NumberOf(*minimum)) {
      out.Add(context, "Must be greater than or equal to " + FormatBound(*minimum));
    }
    if (exclusive_min != nullptr && IsNumberNode(*exclusive_min) && x <= NumberOf(*exclusive_min)) {
      out.Add(context, "Must be greater than " + FormatBound(*exclusive_min));
    }
    ++out.score;
  }

  const Node& root_;
  std::map<std::string, std::unique_ptr<re2::RE2>> regexes_;
};

// JSON straight into a Node: charts ship schemas of 100 KB and more, and
// going through nlohmann's document cost more than validating. Integers
// without fraction or exponent that fit int64 become Int, other numbers
// Float; a repeated key keeps its last value, as Go's decoder does.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : s_(text) {}

  Node Read() {
    Node n = Element(0);
    Space();
    if (pos_ != s_.size()) Bad("unexpected text after the document");
    return n;
  }

 private:
  [[noreturn]] void Bad(const std::string& what) const {
    throw SchemaFailure{"invalid JSON at byte " + std::to_string(pos_) + ": " + what};
  }

  void Space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool Literal(std::string_view word) {
    if (s_.compare(pos_, word.size(), word) != 0) return false;
    pos_ += word.size();
    return true;
  }

  Node Element(int depth) {
    if (depth > kMaxDepth) Bad("nested too deeply");
    Space();
    if (pos_ >= s_.size()) Bad("unexpected end");
    char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      Node map = Node::Mapping();
      std::unordered_map<std::string, std::size_t> index;  // key -> entry, against repeated keys
      Space();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return map;
      }
      while (true) {
        Space();
        if (pos_ >= s_.size() || s_[pos_] != '"') Bad("expected a key");
        std::string key = String();
        Space();
        if (pos_ >= s_.size() || s_[pos_] != ':') Bad("expected ':'");
        ++pos_;
        Node value = Element(depth + 1);
        auto [it, fresh] = index.emplace(key, map.entries().size());
        if (fresh) {
          map.entries().push_back(Node::Entry{std::move(key), std::move(value), {}});
        } else {
          map.entries()[it->second].value = std::move(value);
        }
        Space();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return map;
        }
        Bad("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++pos_;
      Node seq = Node::Sequence();
      Space();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return seq;
      }
      while (true) {
        seq.Append(Element(depth + 1));
        Space();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return seq;
        }
        Bad("expected ',' or ']'");
      }
    }
    if (c == '"') return Node::String(String());
    if (Literal("true")) return Node::Bool(true);
    if (Literal("false")) return Node::Bool(false);
    if (Literal("null")) return Node::Null();
    return Number();
  }

  Node Number() {
    std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      std::size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    std::size_t int_digits = digits();
    if (int_digits == 0 || (int_digits > 1 && s_[pos_ - int_digits] == '0')) Bad("invalid number");
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) Bad("invalid number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) Bad("invalid number");
    }
    std::string_view text = s_.substr(start, pos_ - start);
    if (integral) {
      std::int64_t i = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && p == text.data() + text.size()) return Node::Int(i);
    }
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() && ec != std::errc::result_out_of_range) Bad("invalid number");
    return Node::Float(d);
  }

  static void Utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::uint32_t Hex4() {
    if (pos_ + 4 > s_.size()) Bad("bad \\u escape");
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, v, 16);
    if (ec != std::errc() || p != s_.data() + pos_ + 4) Bad("bad \\u escape");
    pos_ += 4;
    return v;
  }

  std::string String() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      std::size_t run = pos_;
      while (pos_ < s_.size() && s_[pos_] != '"' && s_[pos_] != '\\' && static_cast<unsigned char>(s_[pos_]) >= 0x20) {
        ++pos_;
      }
      out.append(s_.substr(run, pos_ - run));
      if (pos_ >= s_.size()) Bad("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') Bad("control character in string");
      if (pos_ >= s_.size()) Bad("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(pos_, 2, "\\u") == 0) {
            std::size_t save = pos_;
            pos_ += 2;
            std::uint32_t low = Hex4();
            if (low >= 0xDC00 && low < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // a lone surrogate, as Go decodes it
          Utf8(out, cp);
          break;
        }
        default: Bad("invalid escape");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

void ValidateTree(const Chart& chart, const Value& values, std::string& report, int depth) {
  if (depth > 100) return;
  if (!chart.schema.empty()) {
    auto lines = CheckValuesAgainstSchema(chart.schema, values.IsMap() ? values : Value::NewMap());
    if (!lines.ok()) {
      report += chart.name + ":\n" + lines.error().message + "\n";
    } else if (!lines->empty()) {
      report += chart.name + ":\n";
      for (const auto& line : *lines) report += "- " + line + "\n";
    }
  }
  for (const auto& sub : chart.subcharts) {
    Value sub_values;
    if (values.IsMap()) {
      auto it = values.AsMap().find(sub->name);
      if (it != values.AsMap().end()) sub_values = it->second;
    }
    ValidateTree(*sub, sub_values, report, depth + 1);
  }
}

}  // namespace

Result<std::vector<std::string>> CheckValuesAgainstSchema(std::string_view schema_json, const Value& values) {
  std::vector<std::string> lines;
  try {
    Node schema = JsonReader(schema_json).Read();
    Validator validator(schema);
    Outcome outcome = validator.Validate(values);
    for (const auto& f : outcome.errors) lines.push_back(FieldOf(f.context) + ": " + f.description);
  } catch (const SchemaFailure& f) {
    return MakeError(ErrorCode::kInvalidInput, "unable to compile schema: " + f.message);
  }
  return lines;
}

Status ValidateChartValues(const Chart& chart, const Value& values) {
  std::string report;
  ValidateTree(chart, values, report, 0);
  if (report.empty()) return Status::Ok();
  return MakeError(ErrorCode::kInvalidInput,
                   "values don't meet the specifications of the schema(s) in the following chart(s):\n" + report);
}

}  // namespace keelson::helm
