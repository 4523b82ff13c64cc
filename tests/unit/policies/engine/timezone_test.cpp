// Time zones from tzdata, checked against the C library's own conversion
// (`date` with TZ set) as the reference.
#include "policies/engine/timezone.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "tests/testing/subprocess.h"

namespace keelson::policy {
namespace {

std::int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  static ZoneDatabase db;
  Result<std::shared_ptr<const TimeZone>> z = db.Get(name);
  EXPECT_TRUE(z.ok()) << name << ": " << (z.ok() ? "" : z.error().ToString());
  return z.ok() ? *z : TimeZone::Utc();
}

TEST(Civil, RoundTripsDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  for (std::int64_t days = -800'000; days < 800'000; days += 997) {
    int y, m, d;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(TimeZone, BerlinDaylightSavingBoundaries) {
  auto berlin = Zone("Europe/Berlin");
  // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 0, 59, 59)), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 1, 0, 0)), 7200);
  // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 10, 25, 0, 59, 59)), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 10, 25, 1, 0, 0)), 3600);
  CivilTime c = berlin->ToCivil(Utc(2026, 3, 29, 1, 0, 0));
  EXPECT_EQ(c.hour, 3);
  EXPECT_EQ(c.abbreviation, "CEST");
  EXPECT_EQ(c.weekday, 0);  // a Sunday
  EXPECT_EQ(berlin->Format(Utc(2026, 3, 29, 1, 0, 0)), "2026-03-29T03:00:00+02:00 CEST");
  // Beyond the file's transitions the footer rule takes over.
  EXPECT_EQ(berlin->OffsetAt(Utc(2100, 7, 1)), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2101, 1, 1)), 3600);
}

TEST(TimeZone, OtherHemispheresAndOddOffsets) {
  EXPECT_EQ(Zone("Australia/Sydney")->OffsetAt(Utc(2026, 1, 15)), 11 * 3600);
  EXPECT_EQ(Zone("Australia/Sydney")->OffsetAt(Utc(2026, 7, 15)), 10 * 3600);
  EXPECT_EQ(Zone("Asia/Kolkata")->OffsetAt(Utc(2026, 7, 15)), 5 * 3600 + 1800);
  EXPECT_EQ(Zone("Asia/Kathmandu")->OffsetAt(Utc(2026, 7, 15)), 5 * 3600 + 2700);
  EXPECT_EQ(Zone("UTC")->OffsetAt(Utc(2026, 7, 15)), 0);
}

TEST(TimeZone, PosixRules) {
  Result<std::shared_ptr<const TimeZone>> ny = TimeZone::FromPosixRule("EST5EDT,M3.2.0,M11.1.0", "ny");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ((*ny)->OffsetAt(Utc(2030, 3, 10, 6, 59, 59)), -5 * 3600);
  EXPECT_EQ((*ny)->OffsetAt(Utc(2030, 3, 10, 7, 0, 0)), -4 * 3600);
  EXPECT_EQ((*ny)->OffsetAt(Utc(2030, 11, 3, 5, 59, 59)), -4 * 3600);
  EXPECT_EQ((*ny)->OffsetAt(Utc(2030, 11, 3, 6, 0, 0)), -5 * 3600);
  Result<std::shared_ptr<const TimeZone>> tehran = TimeZone::FromPosixRule("<+0330>-3:30", "x");
  ASSERT_TRUE(tehran.ok());
  EXPECT_EQ((*tehran)->OffsetAt(0), 12600);
  // Dublin's rule has winter as "daylight" time with a negative saving.
  Result<std::shared_ptr<const TimeZone>> dublin = TimeZone::FromPosixRule("IST-1GMT0,M10.5.0,M3.5.0/1", "d");
  ASSERT_TRUE(dublin.ok());
  EXPECT_EQ((*dublin)->OffsetAt(Utc(2040, 7, 1)), 3600);
  EXPECT_EQ((*dublin)->OffsetAt(Utc(2040, 1, 1)), 0);
  // Southern hemisphere rule: daylight time spans the new year.
  Result<std::shared_ptr<const TimeZone>> syd = TimeZone::FromPosixRule("AEST-10AEDT,M10.1.0,M4.1.0/3", "s");
  ASSERT_TRUE(syd.ok());
  EXPECT_EQ((*syd)->OffsetAt(Utc(2040, 1, 1)), 11 * 3600);
  EXPECT_EQ((*syd)->OffsetAt(Utc(2040, 6, 1)), 10 * 3600);
  EXPECT_FALSE(TimeZone::FromPosixRule("X5", "bad").ok());
  EXPECT_FALSE(TimeZone::FromPosixRule("EST5EDT,M13.1.0,M11.1.0", "bad").ok());
}

TEST(TimeZone, AgreesWithTheCLibrary) {
  if (!testing::HaveProgram("date")) GTEST_SKIP() << "date not installed";
  std::vector<std::int64_t> instants;
  for (int year : {1975, 1996, 2007, 2026, 2036, 2038, 2051, 2099}) {
    for (int month = 1; month <= 12; ++month) instants.push_back(Utc(year, month, 1 + month * 2, month));
  }
  instants.push_back(Utc(2026, 3, 29, 0, 59, 59));
  instants.push_back(Utc(2026, 3, 29, 1, 0, 0));
  std::string input;
  for (std::int64_t t : instants) input += "@" + std::to_string(t) + "\n";
  for (std::string name : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Europe/Dublin",
                           "America/Sao_Paulo", "Asia/Tokyo", "Pacific/Chatham", "Australia/Lord_Howe"}) {
    testing::ProcessResult r = testing::RunProgram({"env", "TZ=" + name, "date", "-f", "-", "+%z"}, input);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(r.out);
    auto zone = Zone(name);
    for (std::int64_t t : instants) {
      std::string expected;
      std::getline(lines, expected);
      int off = zone->OffsetAt(t);
      char buf[16];
      std::snprintf(buf, sizeof buf, "%c%02d%02d", off < 0 ? '-' : '+', std::abs(off) / 3600, std::abs(off) / 60 % 60);
      EXPECT_EQ(buf, expected) << name << " at " << t;
    }
  }
}

TEST(ZoneDatabase, ConcurrentLookupsShareOneZone) {
  ZoneDatabase db;
  std::vector<std::thread> threads;
  std::vector<const TimeZone*> seen(8, nullptr);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) {
        Result<std::shared_ptr<const TimeZone>> z = db.Get(k % 2 ? "Europe/Berlin" : "Asia/Tokyo");
        if (z.ok() && k % 2) seen[i] = z->get();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const TimeZone* z : seen) EXPECT_EQ(z, seen[0]);
  EXPECT_NE(seen[0], nullptr);
}

TEST(ZoneDatabase, RejectsBadNamesAndFiles) {
  ZoneDatabase db;
  Result<std::shared_ptr<const TimeZone>> z = db.Get("../../etc/passwd");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error().message, "invalid time zone name \"../../etc/passwd\"");
  EXPECT_FALSE(db.Get("/etc/passwd").ok());
  z = db.Get("Mars/Olympus_Mons");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(z.error().message, "unknown time zone \"Mars/Olympus_Mons\"");
  EXPECT_FALSE(db.Get("Europe").ok());  // a directory
  EXPECT_FALSE(TimeZone::FromTzif("TZif2 but short", "x").ok());
  std::string truncated = "TZif2" + std::string(15, '\0') + std::string(24, '\x7f');
  EXPECT_FALSE(TimeZone::FromTzif(truncated, "x").ok());
}

}  // namespace
}  // namespace keelson::policy
