#include "agent/source/semver.h"

#include <gtest/gtest.h>

namespace keelson::source {
namespace {

bool In(const std::string& range, const std::string& version) {
  Result<SemVerRange> r = SemVerRange::Parse(range);
  EXPECT_TRUE(r.ok()) << range;
  std::optional<SemVer> v = SemVer::Parse(version);
  EXPECT_TRUE(v) << version;
  return r.ok() && v && r->Matches(*v);
}

TEST(SemVer, ParsesAndOrdersLikeTheSpecification) {
  EXPECT_EQ(SemVer::Parse("v1.2.3-rc.1+build.7")->ToString(), "1.2.3-rc.1+build.7");
  for (const char* bad : {"1.2", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.3.4", "a.b.c", "", "v"}) {
    EXPECT_FALSE(SemVer::Parse(bad)) << bad;
  }
  // semver.org section 11's example chain.
  std::vector<std::string> chain = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"};
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    EXPECT_LT(Compare(*SemVer::Parse(chain[i]), *SemVer::Parse(chain[i + 1])), 0) << chain[i];
    EXPECT_GT(Compare(*SemVer::Parse(chain[i + 1]), *SemVer::Parse(chain[i])), 0) << chain[i];
  }
  EXPECT_EQ(Compare(*SemVer::Parse("1.0.0+a"), *SemVer::Parse("1.0.0+b")), 0);
}

TEST(SemVerRange, MatchesComparatorsCaretsTildesAndWildcards) {
  EXPECT_TRUE(In(">=1.2.0 <2.0.0", "1.9.9"));
  EXPECT_FALSE(In(">=1.2.0 <2.0.0", "2.0.0"));
  EXPECT_TRUE(In(">=1.2.0, <2.0.0", "1.2.0"));
  EXPECT_TRUE(In("^1.4", "1.9.0"));
  EXPECT_FALSE(In("^1.4", "1.3.9"));
  EXPECT_FALSE(In("^1.4", "2.0.0"));
  EXPECT_TRUE(In("^0.2.3", "0.2.9"));
  EXPECT_FALSE(In("^0.2.3", "0.3.0"));
  EXPECT_FALSE(In("^0.0.3", "0.0.4"));
  EXPECT_TRUE(In("~1.2.3", "1.2.9"));
  EXPECT_FALSE(In("~1.2.3", "1.3.0"));
  EXPECT_TRUE(In("~1", "1.9.0"));
  EXPECT_TRUE(In("1.x", "1.7.2"));
  EXPECT_FALSE(In("1.x", "2.0.0"));
  EXPECT_TRUE(In("*", "3.4.5"));
  EXPECT_TRUE(In("1.2.3", "1.2.3"));
  EXPECT_FALSE(In("!=1.2.3", "1.2.3"));
  EXPECT_TRUE(In("<1.0.0 || >=3.0.0", "3.1.0"));
  EXPECT_FALSE(In("<1.0.0 || >=3.0.0", "2.0.0"));
  EXPECT_TRUE(In("> 1.2", "1.3.0"));
  EXPECT_FALSE(In("> 1.2", "1.2.9"));
  EXPECT_TRUE(In("<=1.2", "1.2.9"));
}

TEST(SemVerRange, SelectsPreReleasesOnlyWhenAskedFor) {
  EXPECT_FALSE(In("^1.2.0", "1.3.0-rc.1"));
  EXPECT_FALSE(In("*", "1.0.0-alpha"));
  EXPECT_TRUE(In(">=1.3.0-rc.1", "1.3.0-rc.2"));
  EXPECT_FALSE(In(">=1.3.0-rc.1", "1.4.0-rc.1"));
  EXPECT_TRUE(In(">=1.3.0-rc.1", "1.4.0"));
}

TEST(SemVerRange, RejectsWhatItCannotRead) {
  for (const char* bad : {">=", "1.2.3.4", "=>1", "1.x.3", "^1.2.3-", "!=1.2", ">=1.0 <<2", "abc"}) {
    Result<SemVerRange> r = SemVerRange::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(SemVerRange::Parse(std::string(2000, '1')).error().code, ErrorCode::kLimitExceeded);
}

TEST(SemVerRange, PicksTheHighestMatchingTag) {
  Result<SemVerRange> range = SemVerRange::Parse("^1.0");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*HighestMatchingTag({"v1.0.0", "v1.10.0", "v1.9.0", "v2.0.0", "latest", "v1.11.0-rc.1"}, *range),
            "v1.10.0");
  EXPECT_EQ(*HighestMatchingTag({"v1.0.0", "1.0.0"}, *range), "1.0.0");
  EXPECT_FALSE(HighestMatchingTag({"v2.0.0", "x"}, *range));
}

}  // namespace
}  // namespace keelson::source
