#include "agent/audit/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace keelson::audit {

namespace {

constexpr off_t kMaxJournalBytes = off_t{1} << 30;

Error IoError(const std::string& path, const std::string& what) {
  return MakeError(ErrorCode::kInternal, what + ": " + std::strerror(errno), Location{path, 0, 0, ""});
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(dir, "cannot open directory to fsync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError(dir, "cannot fsync directory");
  return Status::Ok();
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(path, "cannot write journal");
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Creates every missing directory of `dir`, fsyncing each parent so the new
// entries survive a crash.
Status MakeDirectories(const std::string& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir);
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path q = p; !q.empty() && !std::filesystem::exists(q); q = q.parent_path()) {
    missing.push_back(q);
    if (q == q.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) return IoError(it->string(), "cannot create directory");
    if (Status s = FsyncDirectory(it->parent_path().string()); !s) return s;
  }
  return Status::Ok();
}

Status CheckFollows(const Record& previous, const Record& next, const std::string& path, int line) {
  if (next.seq != previous.seq + 1 || next.previous_id != previous.id) {
    return MakeError(ErrorCode::kInvalidInput,
                     "journal record seq " + std::to_string(next.seq) + " does not follow seq " +
                         std::to_string(previous.seq) + "; the journal is damaged",
                     Location{path, line, 0, ""});
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& dir) {
  if (Status s = MakeDirectories(dir); !s) return std::move(s).error();
  std::unique_ptr<Journal> j(new Journal());
  j->dir_ = dir;
  j->path_ = dir + "/journal.jsonl";
  std::string lock_path = dir + "/lock";
  j->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (j->lock_fd_ < 0) return IoError(lock_path, "cannot open journal lock");
  if (::flock(j->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return MakeError(ErrorCode::kUnavailable, "another keelson process is using this audit journal",
                     Location{lock_path, 0, 0, ""});
  }
  bool existed = ::access(j->path_.c_str(), F_OK) == 0;
  j->fd_ = ::open(j->path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (j->fd_ < 0) return IoError(j->path_, "cannot open journal");
  if (!existed) {
    if (Status s = FsyncDirectory(dir); !s) return std::move(s).error();
  }

  struct stat st {};
  if (::fstat(j->fd_, &st) != 0) return IoError(j->path_, "cannot stat journal");
  if (st.st_size > kMaxJournalBytes) {
    return MakeError(ErrorCode::kLimitExceeded, "journal is larger than 1 GiB; is the audit repository writable?",
                     Location{j->path_, 0, 0, ""});
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::pread(j->fd_, text.data() + got, text.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(j->path_, "cannot read journal");
    got += static_cast<std::size_t>(n);
  }
  std::size_t complete = text.rfind('\n');
  complete = complete == std::string::npos ? 0 : complete + 1;
  if (complete < text.size()) {
    // An append that never finished: the caller was never told it succeeded.
    if (::ftruncate(j->fd_, static_cast<off_t>(complete)) != 0 || ::fdatasync(j->fd_) != 0) {
      return IoError(j->path_, "cannot cut the unfinished last line off the journal");
    }
    text.resize(complete);
  }
  int line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view row(text.data() + pos, nl - pos);
    pos = nl + 1;
    ++line;
    Result<Record> r = ParseRecord(row, j->path_);
    if (!r.ok()) {
      Error e = std::move(r).error();
      e.where.line = line;
      return e;
    }
    if (!j->records_.empty()) {
      if (Status s = CheckFollows(j->records_.back(), *r, j->path_, line); !s) return std::move(s).error();
    }
    j->records_.push_back(std::move(*r));
  }
  return j;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status Journal::Append(const Record& record) {
  if (!records_.empty()) {
    if (Status s = CheckFollows(records_.back(), record, path_, 0); !s) return s;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return IoError(path_, "cannot stat journal");
  std::string line = CompactJson(record) + "\n";
  Status written = WriteAll(fd_, line, path_);
  if (written.ok() && ::fdatasync(fd_) != 0) written = IoError(path_, "cannot fsync journal");
  if (!written.ok()) {
    // Leave no partial line: the next Open would take it for a torn write
    // anyway, but a later append must not land behind it.
    if (::ftruncate(fd_, st.st_size) == 0) (void)::fdatasync(fd_);
    return written;
  }
  records_.push_back(record);
  return Status::Ok();
}

Status Journal::Compact(std::uint64_t committed_seq) {
  std::vector<Record> keep;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].seq > committed_seq || i + 1 == records_.size()) keep.push_back(records_[i]);
  }
  if (keep.size() == records_.size()) return Status::Ok();
  std::string text;
  for (const Record& r : keep) text += CompactJson(r) + "\n";
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(temp, "cannot create journal rewrite");
  Status s = WriteAll(fd, text, temp);
  if (s.ok() && ::fsync(fd) != 0) s = IoError(temp, "cannot fsync journal rewrite");
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(temp.c_str(), path_.c_str()) != 0) return IoError(path_, "cannot replace journal");
  if (Status d = FsyncDirectory(dir_); !d) return d;
  int new_fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (new_fd < 0) return IoError(path_, "cannot reopen journal");
  ::close(fd_);
  fd_ = new_fd;
  records_ = std::move(keep);
  return Status::Ok();
}

}  // namespace keelson::audit
