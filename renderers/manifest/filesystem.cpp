#include "renderers/manifest/filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace keelson::manifest {
namespace fs = std::filesystem;

Result<std::string> CleanPath(std::string_view path) {
  if (!path.empty() && path[0] == '/') {
    return MakeError(ErrorCode::kAccessDenied,
                     "absolute path \"" + std::string(path) + "\" is outside the repository root");
  }
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) {
        return MakeError(ErrorCode::kAccessDenied,
                         "path \"" + std::string(path) + "\" climbs above the repository root");
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

Result<std::string> JoinPath(std::string_view dir, std::string_view ref) {
  if (!ref.empty() && ref[0] == '/') return CleanPath(ref);
  std::string joined(dir);
  if (!joined.empty()) joined += '/';
  joined += ref;
  return CleanPath(joined);
}

std::string ParentPath(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

namespace {

// openat2 with RESOLVE_BENEATH: the kernel refuses any path whose
// resolution (through ".." or a symlink) leaves the directory. It also
// refuses absolute symlinks that point back inside (EXDEV); callers then
// take the canonical-path route, which decides those as before.
int OpenBeneath(int dirfd, const std::string& path, int flags) {
#ifdef SYS_openat2
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof(how)));
#else
  (void)dirfd;
  (void)path;
  (void)flags;
  errno = ENOSYS;
  return -1;
#endif
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

DiskFileSystem::DiskFileSystem(std::string root) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(root), ec);
  root_ = ec ? root : canonical.string();
  int fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  root_fd_ = std::shared_ptr<const int>(new int(fd), [](const int* p) {
    if (*p >= 0) close(*p);
    delete p;
  });
}

Result<std::string> DiskFileSystem::Resolve(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return clean;
  fs::path full = fs::path(root_) / *clean;
  std::error_code ec;
  fs::path real = fs::weakly_canonical(full, ec);
  if (ec) real = full;
  std::string real_str = real.string();
  if (real_str != root_ && !(real_str.starts_with(root_) && real_str[root_.size()] == '/')) {
    return MakeError(ErrorCode::kAccessDenied,
                     "\"" + std::string(path) + "\" resolves (through a symlink) outside the repository root");
  }
  return real_str;
}

Result<std::string> DiskFileSystem::ReadFile(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return clean;
  int fd = *root_fd_ >= 0 ? OpenBeneath(*root_fd_, *clean, O_RDONLY) : -1;
  if (fd < 0) return ReadFileByPath(path);
  FdCloser closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return ReadFileByPath(path);
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
    return MakeError(ErrorCode::kLimitExceeded,
                     "file of " + std::to_string(st.st_size) + " bytes exceeds the limit of " +
                         std::to_string(kMaxFileBytes),
                     Location{std::string(path), 0, 0, {}});
  }
  std::string data;
  data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (true) {
    if (got == data.size()) data.resize(data.size() + 4096);  // the file grew
    ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadFileByPath(path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got > kMaxFileBytes) return ReadFileByPath(path);
  }
  data.resize(got);
  return data;
}

Result<std::string> DiskFileSystem::ReadFileByPath(std::string_view path) const {
  Result<std::string> full = Resolve(path);
  if (!full.ok()) return full;
  std::error_code ec;
  auto status = fs::status(*full, ec);
  if (ec || !fs::exists(status)) {
    return MakeError(ErrorCode::kNotFound, "file not found", Location{std::string(path), 0, 0, {}});
  }
  if (fs::is_directory(status)) {
    return MakeError(ErrorCode::kInvalidInput, "is a directory, not a file", Location{std::string(path), 0, 0, {}});
  }
  auto size = fs::file_size(*full, ec);
  if (!ec && size > kMaxFileBytes) {
    return MakeError(ErrorCode::kLimitExceeded,
                     "file of " + std::to_string(size) + " bytes exceeds the limit of " +
                         std::to_string(kMaxFileBytes),
                     Location{std::string(path), 0, 0, {}});
  }
  std::ifstream in(*full, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot open file", Location{std::string(path), 0, 0, {}});
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Result<std::vector<DirEntry>> DiskFileSystem::ListDirectory(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return std::move(clean).error();
  int fd = *root_fd_ >= 0 ? OpenBeneath(*root_fd_, *clean, O_RDONLY | O_DIRECTORY) : -1;
  if (fd < 0) return ListDirectoryByPath(path);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    close(fd);
    return ListDirectoryByPath(path);
  }
  std::vector<DirEntry> entries;
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    // Entries of a directory inside the root are inside too, unless they
    // are symlinks: only those (and unknown types) need a lookup.
    FileType type = FileType::kMissing;
    if (e->d_type == DT_DIR) {
      type = FileType::kDirectory;
    } else if (e->d_type == DT_REG) {
      type = FileType::kFile;
    } else {
      Result<std::string> child = JoinPath(path, name);
      if (child.ok()) type = Type(*child);
    }
    if (type == FileType::kMissing) continue;  // dangling or escaping symlink
    entries.push_back(DirEntry{std::string(name), type});
  }
  closedir(dir);
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

Result<std::vector<DirEntry>> DiskFileSystem::ListDirectoryByPath(std::string_view path) const {
  Result<std::string> full = Resolve(path);
  if (!full.ok()) return std::move(full).error();
  std::error_code ec;
  if (!fs::is_directory(*full, ec)) {
    return MakeError(ErrorCode::kNotFound, "directory not found", Location{std::string(path), 0, 0, {}});
  }
  std::vector<DirEntry> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(*full, ec)) {
    std::string name = e.path().filename().string();
    Result<std::string> child = JoinPath(path, name);
    if (!child.ok()) continue;
    FileType type = Type(*child);
    if (type == FileType::kMissing) continue;  // dangling or escaping symlink
    entries.push_back(DirEntry{name, type});
  }
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

FileType DiskFileSystem::Type(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return FileType::kMissing;
  int fd = *root_fd_ >= 0 ? OpenBeneath(*root_fd_, *clean, O_PATH) : -1;
  if (fd < 0) return TypeByPath(path);
  FdCloser closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) return TypeByPath(path);
  return S_ISDIR(st.st_mode) ? FileType::kDirectory : FileType::kFile;
}

FileType DiskFileSystem::TypeByPath(std::string_view path) const {
  Result<std::string> full = Resolve(path);
  if (!full.ok()) return FileType::kMissing;
  std::error_code ec;
  auto status = fs::status(*full, ec);
  if (ec || !fs::exists(status)) return FileType::kMissing;
  return fs::is_directory(status) ? FileType::kDirectory : FileType::kFile;
}

void MemoryFileSystem::AddFile(std::string path, std::string contents) {
  files_[std::move(path)] = std::move(contents);
}

MemoryFileSystem::MemoryFileSystem(const MemoryFileSystem& other) : files_(other.files_), reads_(other.reads()) {}

MemoryFileSystem::MemoryFileSystem(MemoryFileSystem&& other) noexcept
    : files_(std::move(other.files_)), reads_(std::move(other.reads_)) {}

MemoryFileSystem& MemoryFileSystem::operator=(const MemoryFileSystem& other) {
  if (this != &other) {
    files_ = other.files_;
    std::vector<std::string> reads = other.reads();
    std::lock_guard lock(reads_mu_);
    reads_ = std::move(reads);
  }
  return *this;
}

MemoryFileSystem& MemoryFileSystem::operator=(MemoryFileSystem&& other) noexcept {
  if (this != &other) {
    files_ = std::move(other.files_);
    std::lock_guard lock(reads_mu_);
    reads_ = std::move(other.reads_);
  }
  return *this;
}

std::vector<std::string> MemoryFileSystem::reads() const {
  std::lock_guard lock(reads_mu_);
  return reads_;
}

Result<std::string> MemoryFileSystem::ReadFile(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return clean;
  {
    std::lock_guard lock(reads_mu_);
    reads_.push_back(*clean);
  }
  auto it = files_.find(*clean);
  if (it == files_.end()) {
    return MakeError(ErrorCode::kNotFound, "file not found", Location{*clean, 0, 0, {}});
  }
  return it->second;
}

Result<std::vector<DirEntry>> MemoryFileSystem::ListDirectory(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return std::move(clean).error();
  std::string prefix = clean->empty() ? "" : *clean + "/";
  std::map<std::string, FileType> seen;
  for (const auto& [file, contents] : files_) {
    if (!file.starts_with(prefix)) continue;
    std::string rest = file.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos) {
      seen[rest] = FileType::kFile;
    } else {
      seen[rest.substr(0, slash)] = FileType::kDirectory;
    }
  }
  if (seen.empty() && !clean->empty()) {
    return MakeError(ErrorCode::kNotFound, "directory not found", Location{*clean, 0, 0, {}});
  }
  std::vector<DirEntry> out;
  for (auto& [name, type] : seen) out.push_back(DirEntry{name, type});
  return out;
}

FileType MemoryFileSystem::Type(std::string_view path) const {
  Result<std::string> clean = CleanPath(path);
  if (!clean.ok()) return FileType::kMissing;
  if (clean->empty()) return FileType::kDirectory;
  if (files_.count(*clean) != 0) return FileType::kFile;
  std::string prefix = *clean + "/";
  auto it = files_.lower_bound(prefix);
  if (it != files_.end() && it->first.starts_with(prefix)) return FileType::kDirectory;
  return FileType::kMissing;
}

}  // namespace keelson::manifest
