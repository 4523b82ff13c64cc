// Sprig's date functions: now, date, dateInZone, htmlDate, htmlDateInZone,
// unixEpoch, dateModify, ago, duration. Times are Go time.Time values kept
// as Unix nanoseconds plus a zone; formatting follows Go's reference-time
// layouts ("2006-01-02T15:04:05Z07:00"). Zones are UTC and the process's
// local zone; other IANA names are refused rather than guessed.
#include <chrono>
#include <cmath>
#include <ctime>

#include "renderers/helm/functions.h"

namespace keelson::helm {

namespace {

using Args = std::vector<Value>;
using R = Result<Value>;

struct Time {
  std::int64_t unix_nanos = 0;
  bool local = true;
};

struct Civil {
  int year, month, day, hour, minute, second, weekday, yday;
  long offset;  // seconds east of UTC
  std::string zone;
};

Civil ToCivil(const Time& t) {
  std::time_t secs = static_cast<std::time_t>(t.unix_nanos >= 0 ? t.unix_nanos / 1'000'000'000
                                                                 : (t.unix_nanos - 999'999'999) / 1'000'000'000);
  std::tm tm{};
  if (t.local) {
    localtime_r(&secs, &tm);
  } else {
    gmtime_r(&secs, &tm);
  }
  Civil c{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday, tm.tm_yday + 1,
          t.local ? tm.tm_gmtoff : 0, t.local && tm.tm_zone ? tm.tm_zone : "UTC"};
  return c;
}

const char* const kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

std::string Pad(long v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(0, 1, fill);
  return v < 0 ? "-" + s : s;
}

std::string Offset(long off, bool colon, bool seconds, bool hours_only, bool z) {
  if (z && off == 0) return "Z";
  std::string out = off < 0 ? "-" : "+";
  long a = off < 0 ? -off : off;
  out += Pad(a / 3600, 2);
  if (hours_only) return out;
  out += (colon ? ":" : "") + Pad((a / 60) % 60, 2);
  if (seconds) out += (colon ? ":" : "") + Pad(a % 60, 2);
  return out;
}

// Go's Time.Format with the reference layout.
std::string FormatGo(const Time& t, std::string_view layout) {
  Civil c = ToCivil(t);
  std::int64_t nanos = ((t.unix_nanos % 1'000'000'000) + 1'000'000'000) % 1'000'000'000;
  std::string out;
  std::size_t i = 0;
  auto starts = [&](std::string_view tok) { return layout.substr(i).starts_with(tok); };
  while (i < layout.size()) {
    struct Tok {
      const char* text;
      int id;
    };
    static const Tok kTokens[] = {
        {"January", 1}, {"Jan", 2}, {"Monday", 3}, {"Mon", 4}, {"MST", 5}, {"2006", 6}, {"002", 7}, {"01", 8},
        {"02", 9}, {"03", 10}, {"04", 11}, {"05", 12}, {"06", 13}, {"15", 14}, {"_2", 15}, {"-07:00:00", 16},
        {"-070000", 17}, {"-07:00", 18}, {"-0700", 19}, {"-07", 20}, {"Z07:00:00", 21}, {"Z070000", 22},
        {"Z07:00", 23}, {"Z0700", 24}, {"Z07", 25}, {"PM", 26}, {"pm", 27}, {"1", 28}, {"2", 29}, {"3", 30},
        {"4", 31}, {"5", 32}};
    int id = 0;
    std::size_t len = 0;
    for (const Tok& tok : kTokens) {
      if (starts(tok.text)) {
        id = tok.id;
        len = std::string_view(tok.text).size();
        break;
      }
    }
    // Fractional seconds: .000 / .999 (or with a comma) not followed by a digit.
    if (id == 0 && (layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char d = layout[i + 1];
      std::size_t j = i + 1;
      while (j < layout.size() && layout[j] == d) ++j;
      if (j >= layout.size() || !std::isdigit(static_cast<unsigned char>(layout[j]))) {
        std::size_t digits = j - i - 1;
        std::string frac = Pad(nanos, 9).substr(0, std::min<std::size_t>(digits, 9));
        if (d == '9') {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
          if (!frac.empty()) out += layout[i] + frac;
        } else {
          out += layout[i] + frac;
        }
        i = j;
        continue;
      }
    }
    if (id == 0) {
      out += layout[i++];
      continue;
    }
    i += len;
    switch (id) {
      case 1: out += kMonths[c.month - 1]; break;
      case 2: out += std::string(kMonths[c.month - 1]).substr(0, 3); break;
      case 3: out += kDays[c.weekday]; break;
      case 4: out += std::string(kDays[c.weekday]).substr(0, 3); break;
      case 5: out += c.zone; break;
      case 6: out += Pad(c.year, 4); break;
      case 7: out += Pad(c.yday, 3); break;
      case 8: out += Pad(c.month, 2); break;
      case 9: out += Pad(c.day, 2); break;
      case 10: out += Pad(c.hour % 12 == 0 ? 12 : c.hour % 12, 2); break;
      case 11: out += Pad(c.minute, 2); break;
      case 12: out += Pad(c.second, 2); break;
      case 13: out += Pad(c.year % 100, 2); break;
      case 14: out += Pad(c.hour, 2); break;
      case 15: out += Pad(c.day, 2, ' '); break;
      case 16: out += Offset(c.offset, true, true, false, false); break;
      case 17: out += Offset(c.offset, false, true, false, false); break;
      case 18: out += Offset(c.offset, true, false, false, false); break;
      case 19: out += Offset(c.offset, false, false, false, false); break;
      case 20: out += Offset(c.offset, false, false, true, false); break;
      case 21: out += Offset(c.offset, true, true, false, true); break;
      case 22: out += Offset(c.offset, false, true, false, true); break;
      case 23: out += Offset(c.offset, true, false, false, true); break;
      case 24: out += Offset(c.offset, false, false, false, true); break;
      case 25: out += Offset(c.offset, false, false, true, true); break;
      case 26: out += c.hour >= 12 ? "PM" : "AM"; break;
      case 27: out += c.hour >= 12 ? "pm" : "am"; break;
      case 28: out += std::to_string(c.month); break;
      case 29: out += std::to_string(c.day); break;
      case 30: out += std::to_string(c.hour % 12 == 0 ? 12 : c.hour % 12); break;
      case 31: out += std::to_string(c.minute); break;
      case 32: out += std::to_string(c.second); break;
      default: break;
    }
  }
  return out;
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
  if (s.empty()) return MakeError(ErrorCode::kInvalidInput, "time: invalid duration \"" + std::string(orig) + "\"");
  double total = 0;
  while (!s.empty()) {
    std::size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    if (n == 0) return MakeError(ErrorCode::kInvalidInput, "time: invalid duration \"" + std::string(orig) + "\"");
    double v = std::strtod(std::string(s.substr(0, n)).c_str(), nullptr);
    s.remove_prefix(n);
    std::size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string unit(s.substr(0, u));
    s.remove_prefix(u);
    double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return MakeError(ErrorCode::kInvalidInput, "time: unknown unit \"" + unit + "\" in duration \"" + std::string(orig) + "\"");
    total += v * scale;
  }
  if (total > 9.2e18) return MakeError(ErrorCode::kInvalidInput, "time: invalid duration \"" + std::string(orig) + "\"");
  return static_cast<std::int64_t>(neg ? -total : total);
}

Value TimeValue(const Time& t);

Result<Time> TimeArg(const Value& v) {
  if (v.IsObject() && v.AsObject().TypeName() == "time.Time") {
    const Value* n = v.AsObject().Field("unixNanos");
    const Value* l = v.AsObject().Field("local");
    if (n && l) return Time{n->AsInt(), l->AsBool()};
  }
  if (v.IsInt()) return Time{v.AsInt() * 1'000'000'000, true};
  // Sprig formats the current time for anything else.
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return Time{std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), true};
}

Value TimeValue(const Time& t) {
  auto obj = std::make_shared<TableObject>("time.Time");
  // Unexported in Go; templates cannot reach them by these lower-case names
  // meaningfully, they carry the instant for the functions below.
  obj->SetField("unixNanos", Value::Int64(t.unix_nanos));
  obj->SetField("local", Value::Bool(t.local));
  obj->SetMethod("Unix", [t](const Args&) -> R { return Value::Int64(t.unix_nanos / 1'000'000'000); });
  obj->SetMethod("UnixNano", [t](const Args&) -> R { return Value::Int64(t.unix_nanos); });
  obj->SetMethod("Year", [t](const Args&) -> R { return Value::Int(ToCivil(t).year); });
  obj->SetMethod("UTC", [t](const Args&) -> R { return TimeValue(Time{t.unix_nanos, false}); });
  obj->SetMethod("Format", [t](const Args& a) -> R {
    if (a.size() != 1 || !a[0].IsString()) return MakeError(ErrorCode::kInvalidInput, "Format needs one layout string");
    return Value::String(FormatGo(t, a[0].AsString()));
  });
  obj->SetMethod("String", [t](const Args&) -> R {
    return Value::String(FormatGo(t, "2006-01-02 15:04:05.999999999 -0700 MST"));
  });
  obj->SetStringer("String");
  return Value::FromObject(obj);
}

Result<bool> ZoneIsLocal(const Value& zone) {
  std::string z = zone.IsString() ? zone.AsString() : "";
  if (z == "UTC" || z.empty()) return false;
  if (z == "Local") return true;
  return MakeError(ErrorCode::kInvalidInput, "time zone \"" + z + "\" is not supported (use UTC or Local)");
}

Time Now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return Time{std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), true};
}

}  // namespace

void AddDateFunctions(FunctionTable& table) {
  auto& f = table.functions;
  f["now"] = [](CallContext&, Args& a) -> R {
    if (!a.empty()) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for now: want 0 got " + std::to_string(a.size()));
    return TimeValue(Now());
  };
  auto date_in_zone = [](const Value& layout, const Value& when, const Value& zone) -> R {
    auto t = TimeArg(when);
    auto local = ZoneIsLocal(zone);
    if (!local.ok()) return std::move(local).error();
    t->local = *local;
    return Value::String(FormatGo(*t, layout.IsString() ? layout.AsString() : ""));
  };
  f["date"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (a.size() != 2) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for date: want 2 got " + std::to_string(a.size()));
    return date_in_zone(a[0], a[1], Value::String("Local"));
  };
  f["dateInZone"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (a.size() != 3) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for dateInZone: want 3 got " + std::to_string(a.size()));
    return date_in_zone(a[0], a[1], a[2]);
  };
  f["htmlDate"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for htmlDate: want 1 got " + std::to_string(a.size()));
    return date_in_zone(Value::String("2006-01-02"), a[0], Value::String("Local"));
  };
  f["htmlDateInZone"] = [date_in_zone](CallContext&, Args& a) -> R {
    if (a.size() != 2) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for htmlDateInZone: want 2 got " + std::to_string(a.size()));
    return date_in_zone(Value::String("2006-01-02"), a[0], a[1]);
  };
  f["unixEpoch"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for unixEpoch: want 1 got " + std::to_string(a.size()));
    auto t = TimeArg(a[0]);
    return Value::String(std::to_string(t->unix_nanos / 1'000'000'000));
  };
  f["dateModify"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 2) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for dateModify: want 2 got " + std::to_string(a.size()));
    auto t = TimeArg(a[1]);
    auto d = ParseDuration(a[0].IsString() ? a[0].AsString() : "");
    if (!d.ok()) return a[1];  // Sprig returns the time unchanged
    return TimeValue(Time{t->unix_nanos + *d, t->local});
  };
  f["ago"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for ago: want 1 got " + std::to_string(a.size()));
    auto t = TimeArg(a[0]);
    std::int64_t d = Now().unix_nanos - t->unix_nanos;
    d = (d / 1'000'000'000) * 1'000'000'000;
    return Value::String(FormatDuration(d));
  };
  f["duration"] = [](CallContext&, Args& a) -> R {
    if (a.size() != 1) return MakeError(ErrorCode::kInvalidInput, "wrong number of args for duration: want 1 got " + std::to_string(a.size()));
    std::int64_t secs = 0;
    if (a[0].IsInt()) secs = a[0].AsInt();
    else if (a[0].IsFloat()) secs = static_cast<std::int64_t>(a[0].AsFloat());
    else if (a[0].IsString()) secs = std::strtoll(a[0].AsString().c_str(), nullptr, 10);
    if (secs > 9'000'000'000 || secs < -9'000'000'000) return MakeError(ErrorCode::kInvalidInput, "duration out of range");
    return Value::String(FormatDuration(secs * 1'000'000'000));
  };
}

}  // namespace keelson::helm
