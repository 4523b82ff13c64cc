// Cron schedules for change windows: the five standard fields
//   minute hour day-of-month month day-of-week
// with `*`, lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n`, month and
// weekday names (jan-dec, sun-sat, any case), 7 as Sunday, and the macros
// @yearly @annually @monthly @weekly @daily @midnight @hourly. As in Vixie
// cron, when both day fields are restricted a day matches if either does.
//
// Schedules are matched against wall-clock time in a TimeZone: a wall-clock
// minute that does not exist (skipped by a DST change) never fires, and one
// that occurs twice fires twice. Immutable; thread-safe.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policies/engine/timezone.h"
#include "renderers/manifest/result.h"

namespace keelson::policy {

class CronSchedule {
 public:
  // Errors name the field and the column (1-based) in Location::column.
  static Result<CronSchedule> Parse(std::string_view spec);

  const std::string& spec() const { return spec_; }
  bool Matches(const CivilTime& t) const;

  // The first firing minute at or after `from`, no later than `until`
  // (Unix seconds, rounded up to a whole minute).
  std::optional<std::int64_t> NextFire(const TimeZone& zone, std::int64_t from, std::int64_t until) const;
  // The last firing minute at or before `from`, no earlier than `since`.
  std::optional<std::int64_t> PreviousFire(const TimeZone& zone, std::int64_t from, std::int64_t since) const;

 private:
  bool DayMatches(const CivilTime& t) const;
  std::string spec_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace keelson::policy
