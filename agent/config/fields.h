// Strict reading of YAML configuration mappings: every key must be known,
// every value of the expected type, and every error names the file, line,
// column and dotted field path.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::config {

// Parses "90s", "5m", "1h30m", "250ms" (Go's time.ParseDuration units
// ms, s, m, h). Fails on anything else.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Reads fields of one mapping. Collects the first error; later reads after
// an error are no-ops, so callers read everything and check error() once.
class FieldReader {
 public:
  // `path` is the dotted path of this mapping ("" at the top), used in
  // error messages.
  FieldReader(const manifest::Node& node, std::string file, std::string path);

  // Fails when the mapping holds a key not in `known`.
  void RejectUnknown(std::initializer_list<std::string_view> known);

  void String(std::string_view key, std::string* out, bool required = false);
  void Bool(std::string_view key, bool* out);
  void Int(std::string_view key, std::int64_t* out, std::int64_t min, std::int64_t max);
  void Double(std::string_view key, double* out, double min, double max);
  void Duration(std::string_view key, std::chrono::milliseconds* out);
  void StringList(std::string_view key, std::vector<std::string>* out);
  // One of `allowed`, stored as given.
  void Enum(std::string_view key, std::string* out, std::initializer_list<std::string_view> allowed);

  // A nested mapping or list for the caller to read; nullptr when absent.
  // Records an error when present with the wrong type.
  const manifest::Node* Mapping(std::string_view key, bool required = false);
  const manifest::Node* List(std::string_view key, bool required = false);

  std::string ChildPath(std::string_view key) const;
  std::string ItemPath(std::string_view key, std::size_t index) const;
  const std::string& file() const { return file_; }

  bool ok() const { return !failed_; }
  const Error& error() const { return error_; }
  // Records an error at `at` (a node of this mapping) for `field`.
  void Fail(const manifest::Node* at, std::string_view field, std::string message);
  // Adopts an error from a nested reader, keeping the first one.
  void Adopt(const FieldReader& nested);

 private:
  const manifest::Node* Lookup(std::string_view key);

  const manifest::Node& node_;
  std::string file_;
  std::string path_;
  bool failed_ = false;
  Error error_;
};

}  // namespace keelson::config
