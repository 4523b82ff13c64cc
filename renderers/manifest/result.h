// The one result type for expected failures across Keelson.
//
// An Error carries a category, a message a user can act on, and where it
// happened (file, line, column, field). Result<T> holds either a value or an
// Error; it is [[nodiscard]] so a failure cannot be dropped silently. Broken
// invariants are bugs and are not reported through this type.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace keelson {

enum class ErrorCode {
  kInvalidInput,   // malformed YAML/JSON, unknown field, bad value (exit 2)
  kNotFound,       // a referenced file, object or revision does not exist
  kLimitExceeded,  // an input exceeded a safety cap (alias expansion, size)
  kAccessDenied,   // a path escapes its root, a signature is not trusted
  kCheckFailed,    // a verification or policy check said no (exit 1)
  kUnavailable,    // a remote or the cluster could not be reached; retry
  kInternal,       // a library call failed in a way we did not expect
};

struct Location {
  std::string file;  // path as the user wrote it, relative to the root
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string field; // dotted path of the offending field, e.g. spec.replicas
};

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kInvalidInput;
  std::string message;
  Location where;

  // "file:line:col: field: message", leaving out the parts that are unknown.
  std::string ToString() const;

  // Fills in the location parts that are still empty; returns *this so a
  // caller can add context while passing an error up.
  Error& At(const Location& outer);
  Error& InFile(std::string file);
};

Error MakeError(ErrorCode code, std::string message, Location where = {});

// Either a T or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}       // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(data_); }
  const T& value() const& { assert(ok()); return std::get<0>(data_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(data_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(data_)); }

 private:
  std::variant<T, Error> data_;
};

// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(failed_); return error_; }
  Error&& error() && { assert(failed_); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace keelson
