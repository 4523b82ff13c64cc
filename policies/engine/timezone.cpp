#include "policies/engine/timezone.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace keelson::policy {

std::int64_t DaysFromCivil(int year, int month, int day) {
  // Proleptic Gregorian calendar; eras of 400 years keep the arithmetic exact.
  std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;
  std::int64_t mp = (month + 9) % 12;
  std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(std::int64_t days, int* year, int* month, int* day) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(y + (*month <= 2 ? 1 : 0));
}

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// The rule date's local time in `year`, as seconds since 1970-01-01 local.
std::int64_t RuleLocalSeconds(const TimeZone::PosixRule::Date& d, int year) {
  std::int64_t jan1 = DaysFromCivil(year, 1, 1);
  std::int64_t days = 0;
  if (d.kind == 'J') {
    days = d.day - 1;
    if (IsLeap(year) && d.day >= 60) ++days;  // Jn never counts Feb 29
  } else if (d.kind == 'D') {
    days = d.day;
  } else {
    std::int64_t first = DaysFromCivil(year, d.month, 1);
    int first_weekday = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    int day = 1 + (d.weekday - first_weekday + 7) % 7 + (d.week - 1) * 7;
    while (day > DaysInMonth(year, d.month)) day -= 7;
    days = first + day - 1 - jan1;
  }
  return (jan1 + days) * kDay + d.time;
}

class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}

  bool Parse(TimeZone::PosixRule* rule) {
    if (!Name(&rule->standard.abbreviation) || !Offset(&rule->standard.offset)) return false;
    rule->standard.offset = -rule->standard.offset;  // POSIX counts west as positive
    if (AtEnd()) return true;
    rule->has_dst = true;
    rule->daylight.dst = true;
    if (!Name(&rule->daylight.abbreviation)) return false;
    rule->daylight.offset = rule->standard.offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      int off = 0;
      if (!Offset(&off)) return false;
      rule->daylight.offset = -off;
    }
    if (AtEnd()) {
      // No rule given: the US rules, as POSIX leaves it to the implementation.
      rule->start = {'M', 3, 2, 0, 0, 7200};
      rule->end = {'M', 11, 1, 0, 0, 7200};
      return true;
    }
    if (!Eat(',') || !Date(&rule->start) || !Eat(',') || !Date(&rule->end)) return false;
    return AtEnd();
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }
  bool Eat(char c) {
    if (AtEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Number(int* out, int max_digits) {
    int n = 0, digits = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(s_[pos_])) && digits < max_digits) {
      n = n * 10 + (s_[pos_++] - '0');
      ++digits;
    }
    *out = n;
    return digits > 0;
  }
  bool Name(std::string* out) {
    if (Eat('<')) {
      std::size_t end = s_.find('>', pos_);
      if (end == std::string_view::npos) return false;
      *out = std::string(s_.substr(pos_, end - pos_));
      pos_ = end + 1;
      return !out->empty();
    }
    std::size_t start = pos_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    *out = std::string(s_.substr(start, pos_ - start));
    return out->size() >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  bool Offset(int* out) {
    int sign = 1;
    if (Eat('-')) sign = -1;
    else Eat('+');
    int h = 0, m = 0, sec = 0;
    if (!Number(&h, 3) || h > 167) return false;
    if (Eat(':') && (!Number(&m, 2) || m > 59)) return false;
    if (Eat(':') && (!Number(&sec, 2) || sec > 59)) return false;
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool Date(TimeZone::PosixRule::Date* d) {
    if (Eat('M')) {
      d->kind = 'M';
      if (!Number(&d->month, 2) || !Eat('.') || !Number(&d->week, 1) || !Eat('.') || !Number(&d->weekday, 1)) return false;
      if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->weekday > 6) return false;
    } else if (Eat('J')) {
      d->kind = 'J';
      if (!Number(&d->day, 3) || d->day < 1 || d->day > 365) return false;
    } else {
      d->kind = 'D';
      if (!Number(&d->day, 3) || d->day > 365) return false;
    }
    d->time = 7200;
    if (Eat('/')) return Offset(&d->time);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view b) : b_(b) {}
  bool Has(std::size_t n) const { return pos_ + n <= b_.size(); }
  std::int64_t Int(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  std::uint8_t Byte() { return static_cast<std::uint8_t>(b_[pos_++]); }
  void Skip(std::size_t n) { pos_ += n; }
  std::size_t pos() const { return pos_; }
  std::string_view Rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> kUtc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    z->types_.push_back({0, false, "UTC"});
    return std::shared_ptr<const TimeZone>(std::move(z));
  }();
  return kUtc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromPosixRule(std::string_view rule, std::string name) {
  auto z = std::make_shared<TimeZone>();
  z->name_ = std::move(name);
  RuleParser parser(rule);
  if (!parser.Parse(&z->rule_)) {
    return MakeError(ErrorCode::kInvalidInput, "invalid POSIX TZ rule \"" + std::string(rule) + "\"",
                     Location{z->name_, 0, 0, {}});
  }
  z->has_rule_ = true;
  z->types_.push_back(z->rule_.standard);
  return std::shared_ptr<const TimeZone>(std::move(z));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string_view bytes, std::string name) {
  auto bad = [&](std::string what) {
    return MakeError(ErrorCode::kInvalidInput, "not a valid TZif file: " + what, Location{name, 0, 0, {}});
  };
  ByteReader r(bytes);
  struct Header {
    int version;
    std::int64_t isut, isstd, leap, time, type, chars;
  };
  auto header = [&](Header* h) {
    if (!r.Has(44) || r.Rest().substr(0, 4) != "TZif") return false;
    r.Skip(4);
    std::uint8_t v = r.Byte();
    h->version = v == 0 ? 1 : v - '0';
    r.Skip(15);
    h->isut = r.Int(4), h->isstd = r.Int(4), h->leap = r.Int(4);
    h->time = r.Int(4), h->type = r.Int(4), h->chars = r.Int(4);
    return h->isut >= 0 && h->isstd >= 0 && h->leap >= 0 && h->time >= 0 && h->type > 0 && h->chars >= 0 &&
           h->time < 100000 && h->type < 256 && h->chars < 10000 && h->leap < 10000;
  };
  Header h{};
  if (!header(&h)) return bad("bad header");
  int time_size = 4;
  if (h.version >= 2) {
    std::size_t v1 = static_cast<std::size_t>(h.time * 5 + h.type * 6 + h.chars + h.leap * 8 + h.isstd + h.isut);
    if (!r.Has(v1)) return bad("truncated");
    r.Skip(v1);
    if (!header(&h)) return bad("bad second header");
    time_size = 8;
  }
  std::size_t need = static_cast<std::size_t>(h.time * (time_size + 1) + h.type * 6 + h.chars +
                                              h.leap * (time_size + 4) + h.isstd + h.isut);
  if (!r.Has(need)) return bad("truncated");
  auto z = std::make_shared<TimeZone>();
  z->name_ = std::move(name);
  for (std::int64_t i = 0; i < h.time; ++i) z->transitions_.push_back(r.Int(time_size));
  for (std::int64_t i = 0; i < h.time; ++i) {
    std::uint8_t t = r.Byte();
    if (t >= h.type) return bad("transition type out of range");
    z->transition_types_.push_back(t);
  }
  if (!std::is_sorted(z->transitions_.begin(), z->transitions_.end())) return bad("transitions out of order");
  std::vector<std::uint8_t> desig;
  for (std::int64_t i = 0; i < h.type; ++i) {
    LocalType t;
    t.offset = static_cast<int>(r.Int(4));
    t.dst = r.Byte() != 0;
    desig.push_back(r.Byte());
    if (t.offset < -25 * 3600 || t.offset > 26 * 3600) return bad("offset out of range");
    z->types_.push_back(t);
  }
  std::string_view chars = r.Rest().substr(0, static_cast<std::size_t>(h.chars));
  for (std::size_t i = 0; i < z->types_.size(); ++i) {
    if (desig[i] < chars.size()) {
      std::string_view a = chars.substr(desig[i]);
      z->types_[i].abbreviation = std::string(a.substr(0, a.find('\0')));
    }
  }
  r.Skip(static_cast<std::size_t>(h.chars + h.leap * (time_size + 4) + h.isstd + h.isut));
  if (h.version >= 2) {
    std::string_view footer = r.Rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      std::size_t end = footer.find('\n', 1);
      if (end != std::string_view::npos && end > 1) {
        RuleParser parser(footer.substr(1, end - 1));
        if (!parser.Parse(&z->rule_)) return bad("invalid footer rule");
        z->has_rule_ = true;
      }
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(z));
}

const TimeZone::LocalType& TimeZone::TypeAt(std::int64_t t) const {
  if (has_rule_ && (transitions_.empty() || t >= transitions_.back())) {
    if (!rule_.has_dst) return rule_.standard;
    int year = 0, month = 0, day = 0;
    CivilFromDays(FloorDiv(t + rule_.standard.offset, kDay), &year, &month, &day);
    // Transition instants in UTC: the start rule is read in standard time,
    // the end rule in daylight time.
    std::int64_t start = RuleLocalSeconds(rule_.start, year) - rule_.standard.offset;
    std::int64_t end = RuleLocalSeconds(rule_.end, year) - rule_.daylight.offset;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? rule_.daylight : rule_.standard;
  }
  if (transitions_.empty() || t < transitions_.front()) return types_[0];
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return types_[transition_types_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
}

int TimeZone::OffsetAt(std::int64_t unix_seconds) const { return TypeAt(unix_seconds).offset; }

CivilTime TimeZone::ToCivil(std::int64_t unix_seconds) const {
  const LocalType& type = TypeAt(unix_seconds);
  std::int64_t local = unix_seconds + type.offset;
  std::int64_t days = FloorDiv(local, kDay);
  std::int64_t secs = local - days * kDay;
  CivilTime c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);
  c.utc_offset = type.offset;
  c.abbreviation = type.abbreviation;
  return c;
}

std::string TimeZone::Format(std::int64_t unix_seconds) const {
  CivilTime c = ToCivil(unix_seconds);
  int off = c.utc_offset;
  char sign = off < 0 ? '-' : '+';
  off = off < 0 ? -off : off;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                c.second, sign, off / 3600, off / 60 % 60);
  std::string out = buf;
  if (!c.abbreviation.empty()) out += " " + c.abbreviation;
  return out;
}

ZoneDatabase::ZoneDatabase(std::string root) : root_(std::move(root)) {}

Result<std::shared_ptr<const TimeZone>> ZoneDatabase::Get(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC") return TimeZone::Utc();
  bool valid = !name.empty() && name.size() < 128 && name.front() != '/';
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' || c == '/')) valid = false;
  }
  if (name.find("//") != std::string_view::npos || name.back() == '/') valid = false;
  if (!valid) {
    return MakeError(ErrorCode::kInvalidInput, "invalid time zone name \"" + std::string(name) + "\"", {});
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = zones_.find(name); it != zones_.end()) return it->second;
  std::string path = root_ + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "unknown time zone \"" + std::string(name) + "\"", {});
  std::string bytes;
  constexpr std::size_t kMaxZoneFile = 1u << 20;
  bytes.resize(kMaxZoneFile + 1);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (bytes.size() > kMaxZoneFile) {
    return MakeError(ErrorCode::kLimitExceeded, "time zone file too large: " + path, {});
  }
  Result<std::shared_ptr<const TimeZone>> zone = TimeZone::FromTzif(bytes, std::string(name));
  if (!zone.ok()) return zone;
  zones_.emplace(std::string(name), *zone);
  return zone;
}

}  // namespace keelson::policy
