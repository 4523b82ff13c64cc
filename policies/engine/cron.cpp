#include "policies/engine/cron.h"

#include <cctype>
#include <string>
#include <vector>

namespace keelson::policy {
namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // 3-letter names for min.., or nullptr
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr},     {"hour", 0, 23, nullptr},       {"day of month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},  {"day of week", 0, 7, kDayNames},
};

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

Error CronError(std::size_t column, std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), Location{{}, 1, static_cast<int>(column) + 1, {}});
}

// Parses one field into bits (index = value). `at` is the field's column.
Result<std::vector<bool>> ParseField(std::string_view text, std::size_t at, const FieldSpec& f) {
  std::vector<bool> bits(static_cast<std::size_t>(f.max) + 1, false);
  std::size_t pos = 0;
  auto value = [&](int* out) -> Status {
    std::size_t start = pos;
    if (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      long v = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        v = v * 10 + (text[pos++] - '0');
        if (v > 1000) v = 1000;
      }
      if (v < f.min || v > f.max) {
        return CronError(at + start, std::string(f.name) + " value " + std::to_string(v) + " is out of range " +
                                         std::to_string(f.min) + "-" + std::to_string(f.max));
      }
      *out = static_cast<int>(v);
      return Status::Ok();
    }
    if (f.names != nullptr && pos + 3 <= text.size()) {
      std::string word;
      for (std::size_t i = 0; i < 3; ++i) word += static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos + i])));
      int count = f.names == kMonthNames ? 12 : 7;
      for (int i = 0; i < count; ++i) {
        if (word == f.names[i]) {
          pos += 3;
          *out = f.min + i;
          return Status::Ok();
        }
      }
    }
    return CronError(at + start, std::string("expected a ") + f.name + " value, found \"" +
                                     std::string(text.substr(start, text.find_first_of(",-/", start) - start)) + "\"");
  };
  while (true) {
    std::size_t term = pos;
    int lo = f.min, hi = f.max;
    bool star = false;
    if (pos < text.size() && text[pos] == '*') {
      star = true;
      ++pos;
    } else {
      if (Status s = value(&lo); !s) return std::move(s).error();
      hi = lo;
      if (pos < text.size() && text[pos] == '-') {
        ++pos;
        if (Status s = value(&hi); !s) return std::move(s).error();
        if (hi < lo) return CronError(at + term, std::string(f.name) + " range " + std::to_string(lo) + "-" + std::to_string(hi) + " runs backwards");
      }
    }
    int step = 1;
    if (pos < text.size() && text[pos] == '/') {
      std::size_t step_at = ++pos;
      long v = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        v = v * 10 + (text[pos++] - '0');
        if (v > 1000) v = 1000;
      }
      if (pos == step_at || v < 1 || v > f.max) return CronError(at + step_at, std::string("invalid step in ") + f.name + " field");
      step = static_cast<int>(v);
      if (!star && hi == lo) hi = f.max;  // "a/n" means a through the maximum
    }
    for (int v = lo; v <= hi; v += step) bits[static_cast<std::size_t>(v)] = true;
    if (pos >= text.size()) break;
    if (text[pos] != ',') return CronError(at + pos, std::string("unexpected \"") + text[pos] + "\" in " + f.name + " field");
    ++pos;
  }
  return bits;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec) {
  CronSchedule out;
  out.spec_ = std::string(spec);
  std::string_view expanded = spec;
  std::size_t first = spec.find_first_not_of(" \t");
  if (first != std::string_view::npos && spec[first] == '@') {
    std::string_view macro = spec.substr(first);
    macro = macro.substr(0, macro.find_last_not_of(" \t") + 1);
    if (macro == "@yearly" || macro == "@annually") expanded = "0 0 1 1 *";
    else if (macro == "@monthly") expanded = "0 0 1 * *";
    else if (macro == "@weekly") expanded = "0 0 * * 0";
    else if (macro == "@daily" || macro == "@midnight") expanded = "0 0 * * *";
    else if (macro == "@hourly") expanded = "0 * * * *";
    else return CronError(first, "unknown macro \"" + std::string(macro) + "\"");
  }
  std::vector<std::pair<std::size_t, std::string_view>> fields;
  for (std::size_t pos = 0; pos < expanded.size();) {
    std::size_t start = expanded.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = expanded.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = expanded.size();
    fields.emplace_back(expanded == spec ? start : 0, expanded.substr(start, end - start));
    pos = end;
  }
  if (fields.size() != 5) {
    return CronError(0, "a schedule has 5 fields (minute hour day-of-month month day-of-week), found " +
                            std::to_string(fields.size()));
  }
  std::vector<bool> parsed[5];
  for (int i = 0; i < 5; ++i) {
    Result<std::vector<bool>> bits = ParseField(fields[static_cast<std::size_t>(i)].second,
                                                fields[static_cast<std::size_t>(i)].first, kFields[i]);
    if (!bits.ok()) return std::move(bits).error();
    parsed[i] = std::move(bits).value();
  }
  for (int v = 0; v < 60; ++v) out.minutes_[static_cast<std::size_t>(v)] = parsed[0][static_cast<std::size_t>(v)];
  for (int v = 0; v < 24; ++v) out.hours_[static_cast<std::size_t>(v)] = parsed[1][static_cast<std::size_t>(v)];
  for (int v = 1; v <= 31; ++v) out.days_[static_cast<std::size_t>(v)] = parsed[2][static_cast<std::size_t>(v)];
  for (int v = 1; v <= 12; ++v) out.months_[static_cast<std::size_t>(v)] = parsed[3][static_cast<std::size_t>(v)];
  for (int v = 0; v <= 7; ++v) {
    if (parsed[4][static_cast<std::size_t>(v)]) out.weekdays_[static_cast<std::size_t>(v % 7)] = true;
  }
  out.days_restricted_ = !fields[2].second.starts_with('*');
  out.weekdays_restricted_ = !fields[4].second.starts_with('*');
  return out;
}

bool CronSchedule::DayMatches(const CivilTime& t) const {
  bool dom = days_[static_cast<std::size_t>(t.day)];
  bool dow = weekdays_[static_cast<std::size_t>(t.weekday)];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

bool CronSchedule::Matches(const CivilTime& t) const {
  return minutes_[static_cast<std::size_t>(t.minute)] && hours_[static_cast<std::size_t>(t.hour)] &&
         months_[static_cast<std::size_t>(t.month)] && DayMatches(t);
}

std::optional<std::int64_t> CronSchedule::NextFire(const TimeZone& zone, std::int64_t from, std::int64_t until) const {
  std::int64_t t = FloorDiv(from + 59, 60) * 60;
  while (t <= until) {
    CivilTime c = zone.ToCivil(t);
    if (!months_[static_cast<std::size_t>(c.month)] || !DayMatches(c) || !hours_[static_cast<std::size_t>(c.hour)]) {
      t += (60 - c.minute) * 60 - c.second;  // to the next local hour
      continue;
    }
    if (minutes_[static_cast<std::size_t>(c.minute)]) return t;
    t += 60;
  }
  return std::nullopt;
}

std::optional<std::int64_t> CronSchedule::PreviousFire(const TimeZone& zone, std::int64_t from,
                                                       std::int64_t since) const {
  std::int64_t t = FloorDiv(from, 60) * 60;
  while (t >= since) {
    CivilTime c = zone.ToCivil(t);
    if (!months_[static_cast<std::size_t>(c.month)] || !DayMatches(c) || !hours_[static_cast<std::size_t>(c.hour)]) {
      t -= c.minute * 60 + c.second + 60;  // to the last minute of the previous local hour
      continue;
    }
    if (minutes_[static_cast<std::size_t>(c.minute)]) return t;
    t -= 60;
  }
  return std::nullopt;
}

}  // namespace keelson::policy
