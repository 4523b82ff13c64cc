// The local, append-only journal of audit records: the first place a
// record goes, so that nothing is lost when the process dies before the
// record reaches the audit repository.
//
// One file, <dir>/journal.jsonl, one compact JSON record per line. Every
// append is fdatasync'ed before it returns; creating the file and the
// rewrite in Compact() also fsync the directory. An exclusive flock on
// <dir>/lock keeps a second process from using the same journal.
//
// Not thread-safe: one owner (the AuditWriter).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/audit/record.h"
#include "renderers/manifest/result.h"

namespace keelson::audit {

class Journal {
 public:
  // Creates `dir` when missing, takes the lock (kUnavailable when another
  // process holds it) and reads the journal. A last line without its
  // newline is a write the process never finished (and never acknowledged);
  // it is cut off. Any other unreadable line, or records that do not follow
  // each other (seq+1, previous_id), fail with the line number.
  static Result<std::unique_ptr<Journal>> Open(const std::string& dir);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The records in the file, oldest first.
  const std::vector<Record>& records() const { return records_; }
  const std::string& path() const { return path_; }

  // Appends one record (which must follow the last one) durably. On a
  // failed write the file is cut back so no partial line stays behind.
  Status Append(const Record& record);

  // Rewrites the journal without the records with seq <= committed_seq,
  // keeping the newest record in any case so the next seq and previous_id
  // survive a restart. Crash-safe: temp file, fsync, rename, fsync dir.
  Status Compact(std::uint64_t committed_seq);

 private:
  Journal() = default;
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::vector<Record> records_;
};

}  // namespace keelson::audit
