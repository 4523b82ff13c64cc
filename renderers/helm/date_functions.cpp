// Sprig's date functions: now, date, dateInZone, htmlDate, htmlDateInZone,
// unixEpoch, dateModify, mustDateModify, toDate, mustToDate, ago,
// duration, durationRound. Times are Go time.Time values: seconds and
// nanoseconds since the Unix epoch plus a location. Locations are UTC,
// Local (the process's zone, as the C library resolves TZ and
// /etc/localtime), fixed offsets from parsed text, and IANA names read
// from the system's tz database (/usr/share/zoneinfo TZif files, with
// their POSIX TZ rule for times past the last listed transition).
// Formatting and parsing follow Go's reference-time layouts
// ("2006-01-02T15:04:05Z07:00").
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "renderers/helm/functions.h"

namespace keelson::helm {

namespace {

using Args = std::vector<Value>;
using R = Result<Value>;

constexpr std::int64_t kSecondsPerDay = 86400;

Error Fail(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

// ------------------------------------------------------------ calendar

// Days since 1970-01-01 of a proleptic Gregorian date (any year).
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = static_cast<unsigned>((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Date {
  std::int64_t year;
  int month, day;
};

Date CivilFromDays(std::int64_t z) {
  z += 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Date{y + (m <= 2), m, d};
}

bool IsLeap(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysIn(int month, std::int64_t year) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ------------------------------------------------------------ locations

struct ZoneInfo {
  int offset = 0;  // seconds east of UTC
  std::string abbrev;
  bool dst = false;
};

class Zone {
 public:
  virtual ~Zone() = default;
  virtual ZoneInfo At(std::int64_t unix) const = 0;
  // Go's location name ("UTC", "Local", "Europe/Berlin"; "" for a fixed
  // offset read from text).
  virtual std::string Name() const = 0;
};
using ZonePtr = std::shared_ptr<const Zone>;

class UtcZone final : public Zone {
 public:
  ZoneInfo At(std::int64_t) const override { return {0, "UTC", false}; }
  std::string Name() const override { return "UTC"; }
};

class LocalZone final : public Zone {
 public:
  ZoneInfo At(std::int64_t unix) const override {
    auto t = static_cast<std::time_t>(unix);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return {0, "UTC", false};
    return {static_cast<int>(tm.tm_gmtoff), tm.tm_zone ? tm.tm_zone : "UTC", tm.tm_isdst > 0};
  }
  std::string Name() const override { return "Local"; }
};

class FixedZone final : public Zone {
 public:
  FixedZone(std::string name, int offset) : name_(std::move(name)), offset_(offset) {}
  ZoneInfo At(std::int64_t) const override { return {offset_, name_, false}; }
  std::string Name() const override { return name_; }

 private:
  std::string name_;
  int offset_;
};

// A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), the tail of TZif files.
class PosixRule {
 public:
  static std::optional<PosixRule> Parse(std::string_view s) {
    PosixRule r;
    if (!Name(s, r.std_.abbrev) || !Offset(s, r.std_.offset)) return std::nullopt;
    r.std_.offset = -r.std_.offset;
    if (s.empty()) return r;
    r.has_dst_ = true;
    r.dst_.dst = true;
    if (!Name(s, r.dst_.abbrev)) return std::nullopt;
    r.dst_.offset = r.std_.offset + 3600;
    if (!s.empty() && s[0] != ',') {
      if (!Offset(s, r.dst_.offset)) return std::nullopt;
      r.dst_.offset = -r.dst_.offset;
    }
    if (s.empty()) {
      // No rule: the US rules of 2007 are the default.
      r.start_ = {Kind::kMonth, 2, 3, 0};
      r.end_ = {Kind::kMonth, 1, 11, 0};
      return r;
    }
    if (s[0] != ',') return std::nullopt;
    s.remove_prefix(1);
    if (!RuleDate(s, r.start_, r.start_time_)) return std::nullopt;
    if (s.empty() || s[0] != ',') return std::nullopt;
    s.remove_prefix(1);
    if (!RuleDate(s, r.end_, r.end_time_) || !s.empty()) return std::nullopt;
    return r;
  }

  ZoneInfo At(std::int64_t unix) const {
    if (!has_dst_) return std_;
    std::int64_t days = FloorDiv(unix, kSecondsPerDay);
    std::int64_t year = CivilFromDays(days).year;
    std::int64_t year_start = DaysFromCivil(year, 1, 1) * kSecondsPerDay;
    std::int64_t ysec = unix - year_start;
    std::int64_t start = DayOfYear(start_, year) * kSecondsPerDay + start_time_ - std_.offset;
    std::int64_t end = DayOfYear(end_, year) * kSecondsPerDay + end_time_ - dst_.offset;
    bool in_dst;
    if (start <= end) {
      in_dst = ysec >= start && ysec < end;
    } else {
      in_dst = !(ysec >= end && ysec < start);
    }
    return in_dst ? dst_ : std_;
  }

 private:
  enum class Kind { kJulian1, kJulian0, kMonth };
  struct When {
    Kind kind = Kind::kJulian0;
    int day = 0;  // J: 1..365; n: 0..365; M: weekday 0..6
    int mon = 0;
    int week = 0;
  };

  static bool Name(std::string_view& s, std::string& out) {
    if (!s.empty() && s[0] == '<') {
      std::size_t close = s.find('>');
      if (close == std::string_view::npos) return false;
      out = std::string(s.substr(1, close - 1));
      s.remove_prefix(close + 1);
      return true;
    }
    std::size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
    if (n < 3) return false;
    out = std::string(s.substr(0, n));
    s.remove_prefix(n);
    return true;
  }

  static bool Number(std::string_view& s, int& out) {
    std::size_t n = 0;
    out = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) out = out * 10 + (s[n++] - '0');
    s.remove_prefix(n);
    return n > 0 && n <= 3;
  }

  // [+-]hh[:mm[:ss]] in seconds; used for offsets and rule times.
  static bool Offset(std::string_view& s, int& out) {
    int sign = 1;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
      sign = s[0] == '-' ? -1 : 1;
      s.remove_prefix(1);
    }
    int h = 0, m = 0, sec = 0;
    if (!Number(s, h)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!Number(s, m)) return false;
      if (!s.empty() && s[0] == ':') {
        s.remove_prefix(1);
        if (!Number(s, sec)) return false;
      }
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  static bool RuleDate(std::string_view& s, When& when, int& time) {
    if (s.empty()) return false;
    if (s[0] == 'J') {
      s.remove_prefix(1);
      when.kind = Kind::kJulian1;
      if (!Number(s, when.day) || when.day < 1 || when.day > 365) return false;
    } else if (s[0] == 'M') {
      s.remove_prefix(1);
      when.kind = Kind::kMonth;
      if (!Number(s, when.mon) || s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
      if (!Number(s, when.week) || s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
      if (!Number(s, when.day)) return false;
      if (when.mon < 1 || when.mon > 12 || when.week < 1 || when.week > 5 || when.day > 6) return false;
    } else {
      when.kind = Kind::kJulian0;
      if (!Number(s, when.day) || when.day > 365) return false;
    }
    time = 7200;
    if (!s.empty() && s[0] == '/') {
      s.remove_prefix(1);
      if (!Offset(s, time)) return false;
    }
    return true;
  }

  static std::int64_t DayOfYear(const When& w, std::int64_t year) {
    switch (w.kind) {
      case Kind::kJulian1: return w.day - 1 + (IsLeap(year) && w.day >= 60 ? 1 : 0);
      case Kind::kJulian0: return w.day;
      case Kind::kMonth: {
        std::int64_t first = DaysFromCivil(year, w.mon, 1);
        int dow = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday
        int day = w.day - dow;
        if (day < 0) day += 7;
        day += (w.week - 1) * 7;
        while (day >= DaysIn(w.mon, year)) day -= 7;
        return first + day - DaysFromCivil(year, 1, 1);
      }
    }
    return 0;
  }

  ZoneInfo std_, dst_;
  bool has_dst_ = false;
  When start_, end_;
  int start_time_ = 7200, end_time_ = 7200;
};

// A zone from a TZif file of the tz database.
class TzifZone final : public Zone {
 public:
  static std::shared_ptr<TzifZone> Parse(std::string name, std::string_view data) {
    auto z = std::make_shared<TzifZone>();
    z->name_ = std::move(name);
    std::size_t pos = 0;
    auto be = [&](std::size_t bytes, std::int64_t& out) {
      if (pos + bytes > data.size()) return false;
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
      pos += bytes;
      out = bytes == 4 ? static_cast<std::int32_t>(static_cast<std::uint32_t>(v)) : static_cast<std::int64_t>(v);
      return true;
    };
    auto header = [&](std::int64_t counts[6]) {
      if (data.substr(pos, 4) != "TZif" || pos + 44 > data.size()) return false;
      pos += 20;
      for (int i = 0; i < 6; ++i) {
        if (!be(4, counts[i]) || counts[i] < 0 || counts[i] > 100000) return false;
      }
      return true;
    };
    std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    if (!header(c)) return nullptr;
    char version = data[4];
    std::size_t time_size = 4;
    if (version >= '2') {
      // Skip the 32-bit block; the 64-bit one follows with its own header.
      pos += static_cast<std::size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
      if (!header(c)) return nullptr;
      time_size = 8;
    }
    if (c[4] == 0) return nullptr;
    for (std::int64_t i = 0; i < c[3]; ++i) {
      std::int64_t t;
      if (!be(time_size, t)) return nullptr;
      z->when_.push_back(t);
    }
    for (std::int64_t i = 0; i < c[3]; ++i) {
      std::int64_t idx;
      if (!be(1, idx) || idx >= c[4]) return nullptr;
      z->index_.push_back(static_cast<std::uint8_t>(idx));
    }
    std::vector<std::int64_t> abbrev_index;
    for (std::int64_t i = 0; i < c[4]; ++i) {
      std::int64_t off, dst, ai;
      if (!be(4, off) || !be(1, dst) || !be(1, ai)) return nullptr;
      z->types_.push_back(ZoneInfo{static_cast<int>(off), "", dst != 0});
      abbrev_index.push_back(ai);
    }
    if (pos + static_cast<std::size_t>(c[5]) > data.size()) return nullptr;
    std::string_view chars = data.substr(pos, static_cast<std::size_t>(c[5]));
    for (std::size_t i = 0; i < z->types_.size(); ++i) {
      auto ai = static_cast<std::size_t>(abbrev_index[i]);
      if (ai >= chars.size()) return nullptr;
      std::size_t end = chars.find('\0', ai);
      z->types_[i].abbrev = std::string(chars.substr(ai, end == std::string_view::npos ? std::string_view::npos : end - ai));
    }
    pos += static_cast<std::size_t>(c[5]) + static_cast<std::size_t>(c[2]) * (time_size + 4) +
           static_cast<std::size_t>(c[1] + c[0]);
    if (version >= '2' && pos < data.size() && data[pos] == '\n') {
      std::size_t end = data.find('\n', pos + 1);
      if (end != std::string_view::npos) z->rule_ = PosixRule::Parse(data.substr(pos + 1, end - pos - 1));
    }
    return z;
  }

  ZoneInfo At(std::int64_t unix) const override {
    if (when_.empty() || unix < when_.front()) {
      if (when_.empty() && rule_) return rule_->At(unix);
      return FirstZone();
    }
    if (unix >= when_.back() && rule_) return rule_->At(unix);
    auto it = std::upper_bound(when_.begin(), when_.end(), unix);
    return types_[index_[static_cast<std::size_t>(it - when_.begin() - 1)]];
  }
  std::string Name() const override { return name_; }

 private:
  // Before the first transition: the first standard-time type, as Go.
  ZoneInfo FirstZone() const {
    if (!index_.empty() && types_[index_[0]].dst) {
      for (std::size_t i = index_[0]; i-- > 0;) {
        if (!types_[i].dst) return types_[i];
      }
    }
    for (const auto& t : types_) {
      if (!t.dst) return t;
    }
    return types_[0];
  }

  std::string name_;
  std::vector<std::int64_t> when_;
  std::vector<std::uint8_t> index_;
  std::vector<ZoneInfo> types_;
  std::optional<PosixRule> rule_;
};

const ZonePtr& Utc() {
  static const ZonePtr utc = std::make_shared<UtcZone>();
  return utc;
}

const ZonePtr& Local() {
  static const ZonePtr local = std::make_shared<LocalZone>();
  return local;
}

// Go's time.LoadLocation against the system tz database; nullptr when the
// name is unknown. Loaded zones are kept for the process (bounded).
ZonePtr LoadLocation(const std::string& name) {
  if (name.empty() || name == "UTC") return Utc();
  if (name == "Local") return Local();
  if (name[0] == '/' || name[0] == '\\' || name.find("..") != std::string::npos || name.size() > 255) return nullptr;
  static std::mutex mutex;
  static std::map<std::string, ZonePtr> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string data = buf.str();
  if (data.size() > (1 << 20)) return nullptr;
  ZonePtr zone = TzifZone::Parse(name, data);
  if (zone == nullptr) return nullptr;
  if (cache.size() >= 64) cache.clear();
  cache.emplace(name, zone);
  return zone;
}

// --------------------------------------------------------------- times

struct Time {
  std::int64_t sec = 0;  // since the Unix epoch
  std::int32_t nsec = 0;
  ZonePtr zone = Local();
};

constexpr std::int64_t kZeroTimeSec = -62135596800;  // 0001-01-01T00:00:00Z, Go's zero Time

struct Civil {
  std::int64_t year;
  int month, day, hour, minute, second, weekday, yday;
  ZoneInfo zone;
};

Civil ToCivil(const Time& t) {
  ZoneInfo z = t.zone->At(t.sec);
  std::int64_t local = t.sec + z.offset;
  std::int64_t days = FloorDiv(local, kSecondsPerDay);
  std::int64_t secs = local - days * kSecondsPerDay;
  Date d = CivilFromDays(days);
  int weekday = static_cast<int>(((days % 7) + 11) % 7);
  int yday = static_cast<int>(days - DaysFromCivil(d.year, 1, 1)) + 1;
  return Civil{d.year, d.month, d.day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
               static_cast<int>(secs % 60), weekday, yday, z};
}

const char* const kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

std::string Pad(std::int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(0, 1, fill);
  return v < 0 ? "-" + s : s;
}

// The layout elements of Go's time package.
enum class Std {
  kNone, kLongMonth, kMonth, kNumMonth, kZeroMonth, kLongWeekDay, kWeekDay, kDay, kUnderDay, kZeroDay,
  kZeroYearDay, kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond, kZeroSecond, kLongYear, kYear,
  kPM, kpm, kTZ, kISO8601TZ, kISO8601SecondsTZ, kISO8601ShortTZ, kISO8601ColonTZ, kISO8601ColonSecondsTZ,
  kNumTZ, kNumSecondsTz, kNumShortTZ, kNumColonTZ, kNumColonSecondsTZ, kFracSecond0, kFracSecond9,
};

struct Chunk {
  std::size_t prefix;  // literal bytes before the element
  Std std;
  std::size_t length;  // of the element in the layout
  int digits = 0;      // fractional seconds
};

bool StartsWithLower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }

// Go's nextStdChunk: the next layout element and the literal text before it.
Chunk NextChunk(std::string_view layout) {
  for (std::size_t i = 0; i < layout.size(); ++i) {
    std::string_view rest = layout.substr(i);
    auto is = [&](std::string_view tok) { return rest.starts_with(tok); };
    switch (layout[i]) {
      case 'J':
        if (is("Jan")) {
          if (is("January")) return {i, Std::kLongMonth, 7};
          if (!StartsWithLower(rest.substr(3))) return {i, Std::kMonth, 3};
        }
        break;
      case 'M':
        if (is("Mon")) {
          if (is("Monday")) return {i, Std::kLongWeekDay, 6};
          if (!StartsWithLower(rest.substr(3))) return {i, Std::kWeekDay, 3};
        }
        if (is("MST")) return {i, Std::kTZ, 3};
        break;
      case '0':
        if (rest.size() >= 2 && rest[1] >= '1' && rest[1] <= '6') {
          static const Std kZero[] = {Std::kZeroMonth, Std::kZeroDay, Std::kZeroHour12, Std::kZeroMinute,
                                      Std::kZeroSecond, Std::kYear};
          return {i, kZero[rest[1] - '1'], 2};
        }
        if (is("002")) return {i, Std::kZeroYearDay, 3};
        break;
      case '1':
        if (is("15")) return {i, Std::kHour, 2};
        return {i, Std::kNumMonth, 1};
      case '2':
        if (is("2006")) return {i, Std::kLongYear, 4};
        return {i, Std::kDay, 1};
      case '_':
        if (is("_2")) {
          if (is("_2006")) return {i + 1, Std::kLongYear, 4};
          return {i, Std::kUnderDay, 2};
        }
        break;
      case '3': return {i, Std::kHour12, 1};
      case '4': return {i, Std::kMinute, 1};
      case '5': return {i, Std::kSecond, 1};
      case 'P':
        if (is("PM")) return {i, Std::kPM, 2};
        break;
      case 'p':
        if (is("pm")) return {i, Std::kpm, 2};
        break;
      case '-':
        if (is("-070000")) return {i, Std::kNumSecondsTz, 7};
        if (is("-07:00:00")) return {i, Std::kNumColonSecondsTZ, 9};
        if (is("-0700")) return {i, Std::kNumTZ, 5};
        if (is("-07:00")) return {i, Std::kNumColonTZ, 6};
        if (is("-07")) return {i, Std::kNumShortTZ, 3};
        break;
      case 'Z':
        if (is("Z070000")) return {i, Std::kISO8601SecondsTZ, 7};
        if (is("Z07:00:00")) return {i, Std::kISO8601ColonSecondsTZ, 9};
        if (is("Z0700")) return {i, Std::kISO8601TZ, 5};
        if (is("Z07:00")) return {i, Std::kISO8601ColonTZ, 6};
        if (is("Z07")) return {i, Std::kISO8601ShortTZ, 3};
        break;
      case '.': case ',':
        if (rest.size() >= 2 && (rest[1] == '0' || rest[1] == '9')) {
          char d = rest[1];
          std::size_t j = 1;
          while (j < rest.size() && rest[j] == d) ++j;
          if (j >= rest.size() || !std::isdigit(static_cast<unsigned char>(rest[j]))) {
            Chunk c{i, d == '0' ? Std::kFracSecond0 : Std::kFracSecond9, j};
            c.digits = static_cast<int>(j - 1);
            return c;
          }
        }
        break;
      default: break;
    }
  }
  return {layout.size(), Std::kNone, 0};
}

std::string Offset(int off, bool colon, bool seconds, bool hours_only) {
  std::string out = off < 0 ? "-" : "+";
  int a = off < 0 ? -off : off;
  out += Pad(a / 3600, 2);
  if (hours_only) return out;
  out += (colon ? ":" : "") + Pad((a / 60) % 60, 2);
  if (seconds) out += (colon ? ":" : "") + Pad(a % 60, 2);
  return out;
}

// Go's Time.Format.
std::string FormatGo(const Time& t, std::string_view layout) {
  Civil c = ToCivil(t);
  std::string out;
  while (!layout.empty()) {
    Chunk ch = NextChunk(layout);
    out.append(layout.substr(0, ch.prefix));
    if (ch.std == Std::kNone) break;
    layout.remove_prefix(ch.prefix + ch.length);
    int hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
    switch (ch.std) {
      case Std::kLongMonth: out += kMonths[c.month - 1]; break;
      case Std::kMonth: out += std::string(kMonths[c.month - 1]).substr(0, 3); break;
      case Std::kNumMonth: out += std::to_string(c.month); break;
      case Std::kZeroMonth: out += Pad(c.month, 2); break;
      case Std::kLongWeekDay: out += kDays[c.weekday]; break;
      case Std::kWeekDay: out += std::string(kDays[c.weekday]).substr(0, 3); break;
      case Std::kDay: out += std::to_string(c.day); break;
      case Std::kUnderDay: out += Pad(c.day, 2, ' '); break;
      case Std::kZeroDay: out += Pad(c.day, 2); break;
      case Std::kZeroYearDay: out += Pad(c.yday, 3); break;
      case Std::kHour: out += Pad(c.hour, 2); break;
      case Std::kHour12: out += std::to_string(hour12); break;
      case Std::kZeroHour12: out += Pad(hour12, 2); break;
      case Std::kMinute: out += std::to_string(c.minute); break;
      case Std::kZeroMinute: out += Pad(c.minute, 2); break;
      case Std::kSecond: out += std::to_string(c.second); break;
      case Std::kZeroSecond: out += Pad(c.second, 2); break;
      case Std::kLongYear: out += Pad(c.year, 4); break;
      case Std::kYear: out += Pad(((c.year % 100) + 100) % 100, 2); break;
      case Std::kPM: out += c.hour >= 12 ? "PM" : "AM"; break;
      case Std::kpm: out += c.hour >= 12 ? "pm" : "am"; break;
      case Std::kTZ:
        if (!c.zone.abbrev.empty()) {
          out += c.zone.abbrev;
        } else {
          out += Offset(c.zone.offset, false, false, false);
        }
        break;
      case Std::kISO8601TZ: case Std::kISO8601SecondsTZ: case Std::kISO8601ShortTZ: case Std::kISO8601ColonTZ:
      case Std::kISO8601ColonSecondsTZ:
        if (c.zone.offset == 0) {
          out += 'Z';
          break;
        }
        [[fallthrough]];
      default: {
        bool colon = ch.std == Std::kISO8601ColonTZ || ch.std == Std::kISO8601ColonSecondsTZ ||
                     ch.std == Std::kNumColonTZ || ch.std == Std::kNumColonSecondsTZ;
        bool secs = ch.std == Std::kISO8601SecondsTZ || ch.std == Std::kISO8601ColonSecondsTZ ||
                    ch.std == Std::kNumSecondsTz || ch.std == Std::kNumColonSecondsTZ;
        bool hours = ch.std == Std::kISO8601ShortTZ || ch.std == Std::kNumShortTZ;
        if (ch.std == Std::kFracSecond0 || ch.std == Std::kFracSecond9) {
          std::string frac = Pad(t.nsec, 9).substr(0, static_cast<std::size_t>(std::min(ch.digits, 9)));
          if (ch.std == Std::kFracSecond9) {
            while (!frac.empty() && frac.back() == '0') frac.pop_back();
            if (!frac.empty()) out += std::string(1, '.') + frac;
          } else {
            out += std::string(1, '.') + frac;
          }
          break;
        }
        out += Offset(c.zone.offset, colon, secs, hours);
        break;
      }
    }
  }
  return out;
}

// Go's Time.In for a location, then Date-style construction of the UTC
// instant of a civil time in `zone` (as time.Date resolves it).
std::int64_t UnixOfCivil(std::int64_t year, int month, int day, int hour, int minute, int second, const Zone& zone) {
  std::int64_t unix = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  int offset = zone.At(unix).offset;
  if (offset != 0) {
    std::int64_t utc = unix - offset;
    int again = zone.At(utc).offset;
    if (again != offset) offset = again;
    unix -= offset;
  }
  return unix;
}

// Go's time.ParseInLocation.
std::string Quote(std::string_view s) { return GoQuote(s); }

Result<Time> ParseGo(std::string_view layout_in, std::string_view value_in, const ZonePtr& loc) {
  const std::string whole_layout(layout_in), whole_value(value_in);
  auto bad = [&](std::string_view value_elem, std::string_view layout_elem) {
    return Fail("parsing time " + Quote(whole_value) + " as " + Quote(whole_layout) + ": cannot parse " +
                Quote(value_elem) + " as " + Quote(layout_elem));
  };
  auto range_error = [&](const std::string& what) {
    return Fail("parsing time " + Quote(whole_value) + ": " + what + " out of range");
  };
  std::string_view layout = layout_in, value = value_in;
  std::int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0, nsec = 0;
  bool pm = false, am = false, have_zone = false, utc_zone = false;
  int zone_offset = 0;
  std::string zone_name;
  bool have_zone_name = false;
  auto digit = [](std::string_view s, std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  auto getnum = [&](std::string_view& s, bool fixed, int& out) {
    if (!digit(s, 0)) return false;
    if (!digit(s, 1)) {
      if (fixed) return false;
      out = s[0] - '0';
      s.remove_prefix(1);
      return true;
    }
    out = (s[0] - '0') * 10 + (s[1] - '0');
    s.remove_prefix(2);
    return true;
  };
  auto lookup = [](std::string_view& s, const char* const* names, int count, std::size_t len, int& out) {
    for (int i = 0; i < count; ++i) {
      std::string_view n = names[i];
      if (len) n = n.substr(0, len);
      if (s.size() >= n.size()) {
        bool eq = true;
        for (std::size_t k = 0; k < n.size(); ++k) {
          if (std::tolower(static_cast<unsigned char>(s[k])) != std::tolower(static_cast<unsigned char>(n[k]))) eq = false;
        }
        if (eq) {
          out = i;
          s.remove_prefix(n.size());
          return true;
        }
      }
    }
    return false;
  };
  auto nanos = [&](std::string_view s, std::size_t n, int& out) {
    if (s[0] != '.' && s[0] != ',') return false;
    out = 0;
    std::size_t i = 1;
    for (; i < n && i < 10; ++i) {
      if (!digit(s, i)) return false;
      out = out * 10 + (s[i] - '0');
    }
    for (; i < 10; ++i) out *= 10;
    for (std::size_t k = 10; k < n; ++k) {
      if (!digit(s, k)) return false;
    }
    return true;
  };
  while (true) {
    Chunk ch = NextChunk(layout);
    std::string_view prefix = layout.substr(0, ch.prefix);
    std::string_view layout_elem = layout.substr(ch.prefix, ch.length);
    // Literal text; a space in the layout matches one or more spaces.
    while (!prefix.empty()) {
      if (prefix[0] == ' ') {
        if (!value.empty() && value[0] != ' ') return bad(value, layout.substr(0, ch.prefix));
        while (!prefix.empty() && prefix[0] == ' ') prefix.remove_prefix(1);
        while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        continue;
      }
      if (value.empty() || value[0] != prefix[0]) return bad(value, layout.substr(0, ch.prefix));
      prefix.remove_prefix(1);
      value.remove_prefix(1);
    }
    if (ch.std == Std::kNone) {
      if (!value.empty()) return Fail("parsing time " + Quote(whole_value) + ": extra text: " + Quote(value));
      break;
    }
    layout.remove_prefix(ch.prefix + ch.length);
    std::string_view hold = value;
    bool ok = true;
    std::string range;
    switch (ch.std) {
      case Std::kYear: {
        if (value.size() < 2 || !digit(value, 0) || !digit(value, 1)) { ok = false; break; }
        int y = (value[0] - '0') * 10 + (value[1] - '0');
        year = y >= 69 ? 1900 + y : 2000 + y;
        value.remove_prefix(2);
        break;
      }
      case Std::kLongYear: {
        if (value.size() < 4 || !digit(value, 0) || !digit(value, 1) || !digit(value, 2) || !digit(value, 3)) {
          ok = false;
          break;
        }
        year = std::stoll(std::string(value.substr(0, 4)));
        value.remove_prefix(4);
        break;
      }
      case Std::kMonth: case Std::kLongMonth:
        ok = lookup(value, kMonths, 12, ch.std == Std::kMonth ? 3 : 0, month);
        ++month;
        break;
      case Std::kNumMonth: case Std::kZeroMonth:
        ok = getnum(value, ch.std == Std::kZeroMonth, month);
        if (ok && (month <= 0 || month > 12)) range = "month";
        break;
      case Std::kWeekDay: case Std::kLongWeekDay: {
        int ignored;
        ok = lookup(value, kDays, 7, ch.std == Std::kWeekDay ? 3 : 0, ignored);
        break;
      }
      case Std::kDay: case Std::kUnderDay: case Std::kZeroDay:
        if (ch.std == Std::kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = getnum(value, ch.std == Std::kZeroDay, day);
        break;
      case Std::kZeroYearDay:
        if (value.size() < 3 || !digit(value, 0) || !digit(value, 1) || !digit(value, 2)) { ok = false; break; }
        yday = std::stoi(std::string(value.substr(0, 3)));
        value.remove_prefix(3);
        if (yday < 1 || yday > 366) range = "day-of-year";
        break;
      case Std::kHour:
        ok = getnum(value, false, hour);
        if (ok && (hour < 0 || hour >= 24)) range = "hour";
        break;
      case Std::kHour12: case Std::kZeroHour12:
        ok = getnum(value, ch.std == Std::kZeroHour12, hour);
        if (ok && (hour < 0 || hour > 12)) range = "hour";
        break;
      case Std::kMinute: case Std::kZeroMinute:
        ok = getnum(value, ch.std == Std::kZeroMinute, minute);
        if (ok && (minute < 0 || minute >= 60)) range = "minute";
        break;
      case Std::kSecond: case Std::kZeroSecond:
        ok = getnum(value, ch.std == Std::kZeroSecond, second);
        if (ok && (second < 0 || second >= 60)) {
          range = "second";
          break;
        }
        // A fractional second the layout does not show is still read.
        if (ok && value.size() >= 2 && (value[0] == '.' || value[0] == ',') && digit(value, 1)) {
          Chunk next = NextChunk(layout);
          if (next.std == Std::kFracSecond0 || next.std == Std::kFracSecond9) break;
          std::size_t n = 2;
          while (digit(value, n)) ++n;
          ok = nanos(value, n, nsec);
          value.remove_prefix(n);
        }
        break;
      case Std::kPM: case Std::kpm: {
        if (value.size() < 2) { ok = false; break; }
        std::string_view p = value.substr(0, 2);
        if (p == (ch.std == Std::kPM ? "PM" : "pm")) {
          pm = true;
        } else if (p == (ch.std == Std::kPM ? "AM" : "am")) {
          am = true;
        } else {
          ok = false;
        }
        value.remove_prefix(2);
        break;
      }
      case Std::kTZ: {
        if (value.starts_with("UTC")) {
          utc_zone = have_zone = true;
          value.remove_prefix(3);
          break;
        }
        // Go's parseTimeZone: three to five upper-case letters (ending in T
        // beyond three), or GMT with an optional offset.
        std::size_t n = 0;
        if (value.starts_with("ChST") || value.starts_with("MeST")) {
          n = 4;
        } else if (value.starts_with("GMT")) {
          n = 3;
          if (value.size() > 3 && (value[3] == '+' || value[3] == '-')) {
            std::size_t k = 4;
            while (digit(value, k)) ++k;
            if (k > 4 && k - 4 <= 2) n = k;
          }
        } else {
          std::size_t upper = 0;
          while (upper < value.size() && value[upper] >= 'A' && value[upper] <= 'Z') ++upper;
          if (upper == 3 || (upper == 4 && (value[3] == 'T' || value.starts_with("WITA"))) ||
              (upper == 5 && value[4] == 'T')) {
            n = upper;
          }
        }
        if (n < 3) {
          ok = false;
          break;
        }
        zone_name = std::string(value.substr(0, n));
        have_zone_name = true;
        value.remove_prefix(n);
        break;
      }
      case Std::kFracSecond0: {
        std::size_t n = static_cast<std::size_t>(ch.digits) + 1;
        if (value.size() < n) { ok = false; break; }
        ok = nanos(value, n, nsec);
        value.remove_prefix(n);
        break;
      }
      case Std::kFracSecond9: {
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !digit(value, 1)) break;
        std::size_t n = 1;
        while (digit(value, n)) ++n;
        ok = nanos(value, n, nsec);
        value.remove_prefix(n);
        break;
      }
      default: {
        // Numeric zone offsets; the ISO 8601 forms also take "Z".
        bool iso = ch.std == Std::kISO8601TZ || ch.std == Std::kISO8601SecondsTZ ||
                   ch.std == Std::kISO8601ShortTZ || ch.std == Std::kISO8601ColonTZ ||
                   ch.std == Std::kISO8601ColonSecondsTZ;
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          utc_zone = have_zone = true;
          break;
        }
        bool colon = ch.std == Std::kISO8601ColonTZ || ch.std == Std::kISO8601ColonSecondsTZ ||
                     ch.std == Std::kNumColonTZ || ch.std == Std::kNumColonSecondsTZ;
        bool secs = ch.std == Std::kISO8601SecondsTZ || ch.std == Std::kISO8601ColonSecondsTZ ||
                    ch.std == Std::kNumSecondsTz || ch.std == Std::kNumColonSecondsTZ;
        bool hours_only = ch.std == Std::kISO8601ShortTZ || ch.std == Std::kNumShortTZ;
        std::size_t need = hours_only ? 3 : colon ? (secs ? 9 : 6) : (secs ? 7 : 5);
        if (value.size() < need || (value[0] != '+' && value[0] != '-')) { ok = false; break; }
        auto two = [&](std::size_t at, int& out) {
          if (!digit(value, at) || !digit(value, at + 1)) return false;
          out = (value[at] - '0') * 10 + (value[at + 1] - '0');
          return true;
        };
        int hh = 0, mm = 0, ss = 0;
        ok = two(1, hh);
        if (ok && !hours_only) {
          if (colon && value[3] != ':') ok = false;
          ok = ok && two(colon ? 4 : 3, mm);
          if (ok && secs) {
            if (colon && value[6] != ':') ok = false;
            ok = ok && two(colon ? 7 : 5, ss);
          }
        }
        if (!ok) break;
        if (hh > 24 || mm >= 60 || ss >= 60) {
          range = "time zone offset";
          break;
        }
        zone_offset = (hh * 60 + mm) * 60 + ss;
        if (value[0] == '-') zone_offset = -zone_offset;
        have_zone = true;
        value.remove_prefix(need);
        break;
      }
    }
    if (!range.empty()) return range_error(range);
    if (!ok) return bad(hold, layout_elem);
  }
  if (pm && hour < 12) hour += 12;
  if (am && hour == 12) hour = 0;
  if (yday >= 0) {
    int m = 0, d = yday;
    if (d > 365 && !IsLeap(year)) return range_error("day-of-year");
    for (m = 1; m <= 12 && d > DaysIn(m, year); ++m) d -= DaysIn(m, year);
    if (month >= 0 && month != m) return range_error("day-of-year");
    if (day >= 0 && day != d) return range_error("day-of-year");
    month = m;
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > DaysIn(month, year)) return range_error("day");
  std::int64_t civil = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  Time t;
  t.nsec = nsec;
  if (have_zone && utc_zone) {
    t.sec = civil;
    t.zone = Utc();
    return t;
  }
  if (have_zone) {
    t.sec = civil - zone_offset;
    if (loc->At(t.sec).offset == zone_offset) {
      t.zone = loc;
    } else {
      t.zone = std::make_shared<FixedZone>("", zone_offset);
    }
    return t;
  }
  if (have_zone_name) {
    // The location's own abbreviation near this time, else an unknown
    // offset (GMT+n gives its hours).
    for (std::int64_t probe : {civil, civil - 86400 * 183, civil + 86400 * 183}) {
      ZoneInfo z = loc->At(probe);
      if (z.abbrev == zone_name) {
        t.sec = civil - z.offset;
        t.zone = loc;
        return t;
      }
    }
    // Go keeps the civil time read as UTC here and only labels it.
    int offset = 0;
    if (zone_name.size() > 3 && zone_name.starts_with("GMT")) offset = std::stoi(zone_name.substr(3)) * 3600;
    t.sec = civil;
    t.zone = std::make_shared<FixedZone>(zone_name, offset);
    return t;
  }
  t.sec = UnixOfCivil(year, month, day, hour, minute, second, *loc);
  t.zone = loc;
  return t;
}

// Go's Duration.String.
std::string FormatDuration(std::int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(d) : static_cast<std::uint64_t>(d);
  auto frac = [](std::uint64_t v, int digits) {
    std::string s = std::to_string(v);
    while (static_cast<int>(s.size()) < digits) s.insert(0, "0");
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s.empty() ? "" : "." + s;
  };
  std::string out;
  if (u < 1'000'000'000ull) {
    if (u < 1000) out = std::to_string(u) + "ns";
    else if (u < 1'000'000) out = std::to_string(u / 1000) + frac(u % 1000, 3) + "\u00b5s";
    else out = std::to_string(u / 1'000'000) + frac(u % 1'000'000, 6) + "ms";
  } else {
    std::uint64_t secs = u / 1'000'000'000ull, ns = u % 1'000'000'000ull;
    std::uint64_t h = secs / 3600, m = (secs / 60) % 60, s = secs % 60;
    if (h > 0) out += std::to_string(h) + "h";
    if (h > 0 || m > 0) out += std::to_string(m) + "m";
    out += std::to_string(s) + frac(ns, 9) + "s";
  }
  return neg ? "-" + out : out;
}

// Go's time.ParseDuration.
Result<std::int64_t> ParseDuration(std::string_view s) {
  std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return Fail("time: invalid duration " + Quote(orig));
  double total = 0;
  while (!s.empty()) {
    std::size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    if (n == 0) return Fail("time: invalid duration " + Quote(orig));
    double v = std::strtod(std::string(s.substr(0, n)).c_str(), nullptr);
    s.remove_prefix(n);
    std::size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string unit(s.substr(0, u));
    s.remove_prefix(u);
    double scale = 0;
    if (unit.empty()) return Fail("time: missing unit in duration " + Quote(orig));
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return Fail("time: unknown unit " + Quote(unit) + " in duration " + Quote(orig));
    total += v * scale;
  }
  if (total > 9.2e18) return Fail("time: invalid duration " + Quote(orig));
  return static_cast<std::int64_t>(neg ? -total : total);
}

// A time.Time as templates see it: printable, with a few methods; the
// functions below read the instant back from it.
class TimeObject final : public Object {
 public:
  explicit TimeObject(Time t) : time_(std::move(t)), methods_("time.Time") {
    Time t2 = time_;
    methods_.SetMethod("Unix", [t2](const Args&) -> R { return Value::Int64(t2.sec); });
    methods_.SetMethod("UnixNano", [t2](const Args&) -> R { return Value::Int64(t2.sec * 1'000'000'000 + t2.nsec); });
    methods_.SetMethod("Year", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).year); });
    methods_.SetMethod("Month", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).month); });
    methods_.SetMethod("Day", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).day); });
    methods_.SetMethod("Hour", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).hour); });
    methods_.SetMethod("Minute", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).minute); });
    methods_.SetMethod("Second", [t2](const Args&) -> R { return Value::Int(ToCivil(t2).second); });
    methods_.SetMethod("IsZero", [t2](const Args&) -> R { return Value::Bool(t2.sec == kZeroTimeSec && t2.nsec == 0); });
    methods_.SetMethod("UTC", [t2](const Args&) -> R { return Make(Time{t2.sec, t2.nsec, Utc()}); });
    methods_.SetMethod("Local", [t2](const Args&) -> R { return Make(Time{t2.sec, t2.nsec, Local()}); });
    methods_.SetMethod("Format", [t2](const Args& a) -> R {
      if (a.size() != 1 || !a[0].IsString()) return Fail("Format needs one layout string");
      return Value::String(FormatGo(t2, a[0].AsString()));
    });
    methods_.SetMethod("String", [t2](const Args&) -> R { return Value::String(Printed(t2)); });
  }

  static Value Make(Time t) { return Value::FromObject(std::make_shared<TimeObject>(std::move(t))); }
  static std::string Printed(const Time& t) { return FormatGo(t, "2006-01-02 15:04:05.999999999 -0700 MST"); }

  std::string TypeName() const override { return "time.Time"; }
  const Value* Field(std::string_view) const override { return nullptr; }
  const Method* FindMethod(std::string_view name) const override { return methods_.FindMethod(name); }
  std::string Print() const override { return Printed(time_); }
  const Time& time() const { return time_; }

 private:
  Time time_;
  TableObject methods_;
};

const Time* AsTime(const Value& v) {
  if (!v.IsObject()) return nullptr;
  const auto* t = dynamic_cast<const TimeObject*>(&v.AsObject());
  return t ? &t->time() : nullptr;
}

Time Now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  return Time{FloorDiv(ns, 1'000'000'000), static_cast<std::int32_t>(ns - FloorDiv(ns, 1'000'000'000) * 1'000'000'000),
              Local()};
}

// Sprig's date argument: a time, or Unix seconds as int/int64; anything
// else means now.
Time TimeArg(const Value& v) {
  if (const Time* t = AsTime(v)) return *t;
  if (v.IsInt()) return Time{v.AsInt(), 0, Local()};
  return Now();
}

Status Arity(const char* name, const Args& a, std::size_t want) {
  if (a.size() == want) return Status::Ok();
  return Fail(std::string("wrong number of args for ") + name + ": want " + std::to_string(want) + " got " +
              std::to_string(a.size()));
}

// A Go `time.Time` parameter: anything else is a call error.
Result<Time> TimeParam(const char* name, const Value& v) {
  if (const Time* t = AsTime(v)) return *t;
  return Fail(std::string("wrong type for value; expected time.Time; got ") + v.TypeName() + " (in " + name + ")");
}

std::string StrArg(const Value& v) { return v.IsString() ? v.AsString() : v.IsNil() ? "" : FormatValue(v); }

}  // namespace

void AddDateFunctions(FunctionTable& table) {
  auto& f = table.functions;
  f["now"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("now", a, 0); !st.ok()) return std::move(st).error();
    return TimeObject::Make(Now());
  };
  // Sprig's dateInZone: unknown zone names fall back to UTC.
  auto date_in_zone = [](const Value& layout, const Value& when, const std::string& zone_name) -> R {
    Time t = TimeArg(when);
    ZonePtr zone = LoadLocation(zone_name);
    t.zone = zone ? zone : Utc();
    return Value::String(FormatGo(t, StrArg(layout)));
  };
  f["date"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (Status st = Arity("date", a, 2); !st.ok()) return std::move(st).error();
    return date_in_zone(a[0], a[1], "Local");
  };
  f["dateInZone"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (Status st = Arity("dateInZone", a, 3); !st.ok()) return std::move(st).error();
    return date_in_zone(a[0], a[1], StrArg(a[2]));
  };
  f["htmlDate"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (Status st = Arity("htmlDate", a, 1); !st.ok()) return std::move(st).error();
    return date_in_zone(Value::String("2006-01-02"), a[0], "Local");
  };
  f["htmlDateInZone"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (Status st = Arity("htmlDateInZone", a, 2); !st.ok()) return std::move(st).error();
    return date_in_zone(Value::String("2006-01-02"), a[0], StrArg(a[1]));
  };
  f["unixEpoch"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("unixEpoch", a, 1); !st.ok()) return std::move(st).error();
    auto t = TimeParam("unixEpoch", a[0]);
    if (!t.ok()) return std::move(t).error();
    return Value::String(std::to_string(t->sec));
  };
  auto modify = [](const char* name, Args& a, bool must) -> R {
    if (Status st = Arity(name, a, 2); !st.ok()) return std::move(st).error();
    auto t = TimeParam(name, a[1]);
    if (!t.ok()) return std::move(t).error();
    auto d = ParseDuration(StrArg(a[0]));
    if (!d.ok()) {
      if (must) return std::move(d).error();
      return a[1];  // Sprig returns the time unchanged
    }
    std::int64_t ns = static_cast<std::int64_t>(t->nsec) + *d % 1'000'000'000;
    std::int64_t sec = t->sec + *d / 1'000'000'000 + FloorDiv(ns, 1'000'000'000);
    return TimeObject::Make(Time{sec, static_cast<std::int32_t>(ns - FloorDiv(ns, 1'000'000'000) * 1'000'000'000), t->zone});
  };
  f["dateModify"] = [modify](CallContext&, Args& a) -> R { return modify("dateModify", a, false); };
  f["mustDateModify"] = [modify](CallContext&, Args& a) -> R { return modify("mustDateModify", a, true); };
  f["toDate"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("toDate", a, 2); !st.ok()) return std::move(st).error();
    auto t = ParseGo(StrArg(a[0]), StrArg(a[1]), Local());
    return TimeObject::Make(t.ok() ? *t : Time{kZeroTimeSec, 0, Utc()});
  };
  f["mustToDate"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("mustToDate", a, 2); !st.ok()) return std::move(st).error();
    auto t = ParseGo(StrArg(a[0]), StrArg(a[1]), Local());
    if (!t.ok()) return std::move(t).error();
    return TimeObject::Make(*t);
  };
  f["ago"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("ago", a, 1); !st.ok()) return std::move(st).error();
    Time t = TimeArg(a[0]);
    Time now = Now();
    std::int64_t d = (now.sec - t.sec) * 1'000'000'000 + (now.nsec - t.nsec);
    // time.Since(t).Round(time.Second): halves away from zero.
    std::int64_t r = d % 1'000'000'000;
    d -= r;
    if (r >= 500'000'000) d += 1'000'000'000;
    if (r <= -500'000'000) d -= 1'000'000'000;
    return Value::String(FormatDuration(d));
  };
  f["duration"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("duration", a, 1); !st.ok()) return std::move(st).error();
    std::int64_t secs = 0;
    if (a[0].IsInt() && a[0].is_int64()) secs = a[0].AsInt();
    else if (a[0].IsString()) secs = std::strtoll(a[0].AsString().c_str(), nullptr, 10);
    if (secs > 9'000'000'000 || secs < -9'000'000'000) return Fail("duration out of range");
    return Value::String(FormatDuration(secs * 1'000'000'000));
  };
  f["durationRound"] = [](CallContext&, Args& a) -> R {
    if (Status st = Arity("durationRound", a, 1); !st.ok()) return std::move(st).error();
    std::int64_t d = 0;
    if (a[0].IsString()) {
      auto parsed = ParseDuration(a[0].AsString());
      d = parsed.ok() ? *parsed : 0;
    } else if (a[0].IsInt() && a[0].is_int64()) {
      d = a[0].AsInt();
    } else if (const Time* t = AsTime(a[0])) {
      Time now = Now();
      d = (now.sec - t->sec) * 1'000'000'000 + (now.nsec - t->nsec);
    }
    std::uint64_t u = d < 0 ? 0 - static_cast<std::uint64_t>(d) : static_cast<std::uint64_t>(d);
    const std::uint64_t second = 1'000'000'000ull, minute = 60 * second, hour = 60 * minute, day = 24 * hour;
    const std::uint64_t month = 30 * day, year = 365 * day;
    if (u > year) return Value::String(std::to_string(u / year) + "y");
    if (u > month) return Value::String(std::to_string(u / month) + "mo");
    if (u > day) return Value::String(std::to_string(u / day) + "d");
    if (u > hour) return Value::String(std::to_string(u / hour) + "h");
    if (u > minute) return Value::String(std::to_string(u / minute) + "m");
    if (u > second) return Value::String(std::to_string(u / second) + "s");
    return Value::String("0s");
  };
}

}  // namespace keelson::helm
