// A temporary directory removed with everything in it when it goes out of
// scope.
#pragma once

#include <string>
#include <string_view>

namespace keelson::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes a file (creating parent directories) and returns its full path.
  std::string Write(std::string_view relative, std::string_view contents) const;

 private:
  std::string path_;
};

// Reads a whole file; fails the current test when it cannot.
std::string ReadFileOrDie(const std::string& path);

}  // namespace keelson::testing
