#include <gtest/gtest.h>

#include "agent/cli/line_diff.h"

namespace keelson::cli {
namespace {

TEST(LineDiff, EqualTextsGiveNothing) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(LineDiff, OneChangedLineWithContext) {
  std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(UnifiedDiff(before, after, "live", "next"),
            "--- live\n+++ next\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(LineDiff, NewObjectIsAllInsertions) {
  EXPECT_EQ(UnifiedDiff("", "a: 1\nb: 2\n", "/dev/null", "next"), "--- /dev/null\n+++ next\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n");
}

TEST(LineDiff, FarApartChangesMakeTwoHunks) {
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  std::string d = UnifiedDiff(before, after, "a", "b");
  EXPECT_NE(d.find("@@ -1,5 +1,5 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -15,6 +15,6 @@"), std::string::npos) << d;
}

}  // namespace
}  // namespace keelson::cli
