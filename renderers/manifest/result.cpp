#include "renderers/manifest/result.h"

namespace keelson {

std::string Error::ToString() const {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) {
      out += ":" + std::to_string(where.line);
      if (where.column > 0) out += ":" + std::to_string(where.column);
    }
    out += ": ";
  }
  if (!where.field.empty()) out += where.field + ": ";
  out += message;
  return out;
}

Error& Error::At(const Location& outer) {
  if (where.file.empty()) where.file = outer.file;
  if (where.line == 0) {
    where.line = outer.line;
    where.column = outer.column;
  }
  if (where.field.empty()) where.field = outer.field;
  return *this;
}

Error& Error::InFile(std::string file) {
  if (where.file.empty()) where.file = std::move(file);
  return *this;
}

Error MakeError(ErrorCode code, std::string message, Location where) {
  return Error{code, std::move(message), std::move(where)};
}

}  // namespace keelson
