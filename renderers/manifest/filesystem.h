// The read-only file tree renderers read from.
//
// Renderers never touch the disk or Git directly: they get a FileSystem
// rooted at a repository (a directory on disk, or a Git tree snapshot) and
// address files by clean relative paths ("envs/prod/kustomization.yaml").
// Every implementation refuses paths that leave the root: "..", absolute
// paths and symlinks whose target lies outside. Implementations are safe
// for concurrent reads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::manifest {

enum class FileType { kMissing, kFile, kDirectory };

struct DirEntry {
  std::string name;  // base name
  FileType type = FileType::kFile;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Whole file contents. kNotFound when missing, kAccessDenied when the
  // path escapes the root, kLimitExceeded above max_file_bytes.
  virtual Result<std::string> ReadFile(std::string_view path) const = 0;
  // Entries sorted by name.
  virtual Result<std::vector<DirEntry>> ListDirectory(std::string_view path) const = 0;
  virtual FileType Type(std::string_view path) const = 0;
  // A label for messages: the directory or "repo@rev".
  virtual std::string Describe() const = 0;
};

// Files larger than this are refused by every implementation.
inline constexpr std::uint64_t kMaxFileBytes = 64u << 20;

// Cleans a relative path: collapses "//" and ".", resolves "..". Fails with
// kAccessDenied if the path is absolute or climbs above the root. "" and
// "." both mean the root and come back as "".
Result<std::string> CleanPath(std::string_view path);

// Joins a directory and a relative reference and cleans the result.
Result<std::string> JoinPath(std::string_view dir, std::string_view ref);

// The parent directory of a clean path ("" for top-level entries).
std::string ParentPath(std::string_view path);

// A directory on disk. Symlinks are followed only when their target stays
// inside the root.
class DiskFileSystem final : public FileSystem {
 public:
  explicit DiskFileSystem(std::string root);
  Result<std::string> ReadFile(std::string_view path) const override;
  Result<std::vector<DirEntry>> ListDirectory(std::string_view path) const override;
  FileType Type(std::string_view path) const override;
  std::string Describe() const override { return root_; }

 private:
  // Absolute path for a relative one, after checking it stays inside.
  Result<std::string> Resolve(std::string_view path) const;
  // The same operations through the canonical path; the fast paths above
  // fall back to these whenever the kernel refuses or lacks openat2.
  Result<std::string> ReadFileByPath(std::string_view path) const;
  Result<std::vector<DirEntry>> ListDirectoryByPath(std::string_view path) const;
  FileType TypeByPath(std::string_view path) const;
  std::string root_;  // canonical absolute path
  // An O_PATH handle on the root for openat2(RESOLVE_BENEATH) lookups
  // (one system call per file instead of one per path component); -1 when
  // the root could not be opened. Shared by copies, closed with the last.
  std::shared_ptr<const int> root_fd_;
};

// An in-memory tree for tests; records every path read.
class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem() = default;
  // Copies and moves take the files and the reads so far; each instance
  // has its own lock.
  MemoryFileSystem(const MemoryFileSystem& other);
  MemoryFileSystem(MemoryFileSystem&& other) noexcept;
  MemoryFileSystem& operator=(const MemoryFileSystem& other);
  MemoryFileSystem& operator=(MemoryFileSystem&& other) noexcept;

  void AddFile(std::string path, std::string contents);
  Result<std::string> ReadFile(std::string_view path) const override;
  Result<std::vector<DirEntry>> ListDirectory(std::string_view path) const override;
  FileType Type(std::string_view path) const override;
  std::string Describe() const override { return "memory"; }
  // Every path read so far, in order (a copy: readers may run concurrently).
  std::vector<std::string> reads() const;

 private:
  std::map<std::string, std::string, std::less<>> files_;
  mutable std::mutex reads_mu_;
  mutable std::vector<std::string> reads_;
};

}  // namespace keelson::manifest
