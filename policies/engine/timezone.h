// Time zones for change windows, read from the system's tzdata files
// (/usr/share/zoneinfo, the TZif format of RFC 8536) by this code rather
// than through localtime()/TZ, so conversions are thread-safe, never touch
// process-wide state, and can be tested against any zone.
//
// Version 1 files use their 32-bit data; version 2+ files their 64-bit data
// and, for instants after the last listed transition, the POSIX TZ rule in
// the file's footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"). A TimeZone is
// immutable and safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::policy {

// A wall-clock time in some zone.
struct CivilTime {
  int year = 1970, month = 1, day = 1;  // month 1-12, day 1-31
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;                      // 0 = Sunday
  int utc_offset = 0;                   // seconds east of UTC
  std::string abbreviation;             // "CEST", "+0530", ...
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(std::int64_t days, int* year, int* month, int* day);

class TimeZone {
 public:
  // "UTC", needing no files.
  static std::shared_ptr<const TimeZone> Utc();
  // Parses TZif bytes; `name` is used in messages.
  static Result<std::shared_ptr<const TimeZone>> FromTzif(std::string_view bytes, std::string name);
  // A zone from a POSIX TZ rule alone ("EST5EDT,M3.2.0,M11.1.0").
  static Result<std::shared_ptr<const TimeZone>> FromPosixRule(std::string_view rule, std::string name);

  const std::string& name() const { return name_; }
  // Offset from UTC in seconds (east positive) at a Unix time.
  int OffsetAt(std::int64_t unix_seconds) const;
  CivilTime ToCivil(std::int64_t unix_seconds) const;
  // "2026-03-29T03:00:00+02:00 CEST"
  std::string Format(std::int64_t unix_seconds) const;

  struct LocalType {
    int offset = 0;
    bool dst = false;
    std::string abbreviation;
  };
  struct PosixRule {
    LocalType standard, daylight;
    bool has_dst = false;
    // A rule date: kind 'J' (Jn, 1-365 without Feb 29), 'D' (n, 0-365) or
    // 'M' (Mm.w.d); `time` is seconds after local midnight (may be negative
    // or above 24h).
    struct Date {
      char kind = 'M';
      int month = 0, week = 0, weekday = 0, day = 0;
      int time = 7200;
    } start, end;
  };

 private:
  const LocalType& TypeAt(std::int64_t unix_seconds) const;
  std::string name_;
  std::vector<std::int64_t> transitions_;   // sorted Unix times
  std::vector<std::uint8_t> transition_types_;
  std::vector<LocalType> types_;
  bool has_rule_ = false;
  PosixRule rule_;
};

// Loads zones by IANA name ("Europe/Berlin") from a tzdata directory and
// keeps them. Names are checked before any file is opened (letters, digits,
// '_', '-', '+', '/' only; no "." components), so a name cannot escape the
// directory. Thread-safe.
class ZoneDatabase {
 public:
  explicit ZoneDatabase(std::string root = "/usr/share/zoneinfo");
  // kNotFound for an unknown zone, kInvalidInput for a malformed name/file.
  Result<std::shared_ptr<const TimeZone>> Get(std::string_view name);

 private:
  std::string root_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> zones_;
};

}  // namespace keelson::policy
