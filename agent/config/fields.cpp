#include "agent/config/fields.h"

#include <charconv>
#include <cmath>

namespace keelson::config {

using manifest::Node;

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidInput,
                     "invalid duration \"" + std::string(text) + "\" (use units ms, s, m, h, e.g. 90s or 1h30m)");
  };
  if (text.empty()) return bad();
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == start) return bad();
    // from_chars never throws: "." or a 400-digit number is simply invalid.
    std::string_view number = text.substr(start, i - start);
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || !(value <= 1e12)) return bad();
    std::size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit == "ms") {
      total_ms += value;
    } else if (unit == "s") {
      total_ms += value * 1000;
    } else if (unit == "m") {
      total_ms += value * 60'000;
    } else if (unit == "h") {
      total_ms += value * 3'600'000;
    } else {
      return bad();
    }
  }
  if (total_ms > 1e12) return bad();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

FieldReader::FieldReader(const Node& node, std::string file, std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (!node_.IsMapping()) Fail(&node_, "", "must be a mapping");
}

std::string FieldReader::ChildPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string FieldReader::ItemPath(std::string_view key, std::size_t index) const {
  return ChildPath(key) + "[" + std::to_string(index) + "]";
}

void FieldReader::Fail(const Node* at, std::string_view field, std::string message) {
  if (failed_) return;
  failed_ = true;
  Location where{file_, at != nullptr ? at->mark().line : 0, at != nullptr ? at->mark().column : 0,
                 field.empty() ? path_ : ChildPath(field)};
  error_ = MakeError(ErrorCode::kInvalidInput, std::move(message), where);
}

void FieldReader::Adopt(const FieldReader& nested) {
  if (failed_ || nested.ok()) return;
  failed_ = true;
  error_ = nested.error();
}

const Node* FieldReader::Lookup(std::string_view key) {
  if (failed_ || !node_.IsMapping()) return nullptr;
  const Node* n = node_.Find(key);
  return n != nullptr && !n->IsNull() ? n : nullptr;
}

void FieldReader::RejectUnknown(std::initializer_list<std::string_view> known) {
  if (failed_ || !node_.IsMapping()) return;
  for (const Node::Entry& e : node_.entries()) {
    bool found = false;
    for (std::string_view k : known) found = found || e.key == k;
    if (!found) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      failed_ = true;
      error_ = MakeError(ErrorCode::kInvalidInput, "unknown field (known fields: " + list + ")",
                         Location{file_, e.key_mark.line, e.key_mark.column, ChildPath(e.key)});
      return;
    }
  }
}

void FieldReader::String(std::string_view key, std::string* out, bool required) {
  const Node* n = Lookup(key);
  if (n == nullptr) {
    if (required && !failed_) Fail(&node_, key, "missing required field");
    return;
  }
  if (!n->IsString()) return Fail(n, key, "must be a string");
  if (required && n->AsString().empty()) return Fail(n, key, "must not be empty");
  *out = n->AsString();
}

void FieldReader::Bool(std::string_view key, bool* out) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  if (!n->IsBool()) return Fail(n, key, "must be true or false");
  *out = n->AsBool();
}

void FieldReader::Int(std::string_view key, std::int64_t* out, std::int64_t min, std::int64_t max) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  if (!n->IsInt()) return Fail(n, key, "must be an integer");
  if (n->AsInt() < min || n->AsInt() > max) {
    return Fail(n, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  *out = n->AsInt();
}

void FieldReader::Double(std::string_view key, double* out, double min, double max) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  double v = 0;
  if (n->IsInt()) {
    v = static_cast<double>(n->AsInt());
  } else if (n->IsFloat()) {
    v = n->AsFloat();
  } else {
    return Fail(n, key, "must be a number");
  }
  if (v < min || v > max) return Fail(n, key, "out of range");
  *out = v;
}

void FieldReader::Duration(std::string_view key, std::chrono::milliseconds* out) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  if (!n->IsString()) return Fail(n, key, "must be a duration such as \"30s\" or \"5m\"");
  Result<std::chrono::milliseconds> d = ParseDuration(n->AsString());
  if (!d.ok()) return Fail(n, key, d.error().message);
  *out = *d;
}

void FieldReader::StringList(std::string_view key, std::vector<std::string>* out) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  if (!n->IsSequence()) return Fail(n, key, "must be a list of strings");
  out->clear();
  for (std::size_t i = 0; i < n->items().size(); ++i) {
    const Node& item = n->items()[i];
    if (!item.IsString()) {
      failed_ = true;
      error_ = MakeError(ErrorCode::kInvalidInput, "must be a string",
                         Location{file_, item.mark().line, item.mark().column, ItemPath(key, i)});
      return;
    }
    out->push_back(item.AsString());
  }
}

void FieldReader::Enum(std::string_view key, std::string* out, std::initializer_list<std::string_view> allowed) {
  const Node* n = Lookup(key);
  if (n == nullptr) return;
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (!n->IsString()) return Fail(n, key, "must be one of: " + list);
  for (std::string_view a : allowed) {
    if (n->AsString() == a) {
      *out = n->AsString();
      return;
    }
  }
  Fail(n, key, "\"" + n->AsString() + "\" is not one of: " + list);
}

const Node* FieldReader::Mapping(std::string_view key, bool required) {
  const Node* n = Lookup(key);
  if (n == nullptr) {
    if (required && !failed_) Fail(&node_, key, "missing required field");
    return nullptr;
  }
  if (!n->IsMapping()) {
    Fail(n, key, "must be a mapping");
    return nullptr;
  }
  return n;
}

const Node* FieldReader::List(std::string_view key, bool required) {
  const Node* n = Lookup(key);
  if (n == nullptr) {
    if (required && !failed_) Fail(&node_, key, "missing required field");
    return nullptr;
  }
  if (!n->IsSequence()) {
    Fail(n, key, "must be a list");
    return nullptr;
  }
  return n;
}

}  // namespace keelson::config
