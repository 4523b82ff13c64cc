#include <gtest/gtest.h>

#include <limits>

#include "renderers/manifest/node.h"

namespace keelson::manifest {
namespace {

TEST(Node, SetReplacesInPlaceAndEraseRemoves) {
  Node m = Node::Mapping();
  m.Set("a", Node::Int(1));
  m.Set("b", Node::Int(2));
  m.Set("a", Node::Int(3));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.entries()[0].key, "a");
  EXPECT_EQ(m.entries()[0].value.AsInt(), 3);
  EXPECT_TRUE(m.Erase("a"));
  EXPECT_FALSE(m.Erase("a"));
  EXPECT_EQ(m.size(), 1u);
}

TEST(Node, EqualityIgnoresMappingOrderButNotTypes) {
  Node a = Node::Mapping(), b = Node::Mapping();
  a.Set("x", Node::Int(1));
  a.Set("y", Node::String("s"));
  b.Set("y", Node::String("s"));
  b.Set("x", Node::Int(1));
  EXPECT_EQ(a, b);
  b.Set("x", Node::Float(1));
  EXPECT_FALSE(a == b);
}

TEST(Node, FormatsFloatsAsGo) {
  EXPECT_EQ(FormatGoFloat(1000000), "1e+06");
  EXPECT_EQ(FormatGoFloat(123456), "123456");
  EXPECT_EQ(FormatGoFloat(1.5), "1.5");
  EXPECT_EQ(FormatGoFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatGoFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatGoFloat(1234567), "1.234567e+06");
  EXPECT_EQ(FormatGoFloat(-2.25), "-2.25");
  EXPECT_EQ(FormatGoFloat(3), "3");
}

TEST(Node, FormatsFloatsAsGoJson) {
  EXPECT_EQ(FormatGoJsonFloat(1000000), "1000000");
  EXPECT_EQ(FormatGoJsonFloat(1152921504606846976.0), "1152921504606847000");  // 2^60, shortest digits
  EXPECT_EQ(FormatGoJsonFloat(0.000001), "0.000001");
  EXPECT_EQ(FormatGoJsonFloat(1e-7), "1e-7");
  EXPECT_EQ(FormatGoJsonFloat(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(FormatGoJsonFloat(1e21), "1e+21");
  EXPECT_EQ(FormatGoJsonFloat(123.25), "123.25");
  EXPECT_EQ(FormatGoJsonFloat(-0.0), "-0");
  EXPECT_EQ(FormatGoJsonFloat(std::numeric_limits<double>::quiet_NaN()), "null");
  ShortestDecimal d = ShortestDigits(-1234500);
  EXPECT_TRUE(d.negative);
  EXPECT_EQ(d.digits, "12345");
  EXPECT_EQ(d.exponent, 6);
  EXPECT_EQ(d.Mantissa(), 12345u);
  EXPECT_EQ(d.MantissaExponent(), 2);
  ShortestDecimal small = ShortestDigits(0.075);
  EXPECT_EQ(small.Mantissa(), 75u);
  EXPECT_EQ(small.MantissaExponent(), -3);
  ShortestDecimal widest = ShortestDigits(0.30000000000000004);  // 17 digits
  EXPECT_EQ(widest.Mantissa(), 30000000000000004u);
  EXPECT_EQ(widest.MantissaExponent(), -17);
}

TEST(Node, GoJsonRoundTripIntReadsTheShortestDigits) {
  EXPECT_EQ(GoJsonRoundTripInt(3.0), 3);
  EXPECT_EQ(GoJsonRoundTripInt(1152921504606846976.0), 1152921504606847000);
  EXPECT_EQ(GoJsonRoundTripInt(9223372036854774784.0), 9223372036854775000);  // largest double below 2^63
  EXPECT_EQ(GoJsonRoundTripInt(9223372036854775808.0), std::nullopt);         // "9223372036854776000"
  EXPECT_EQ(GoJsonRoundTripInt(-9223372036854775808.0), std::nullopt);        // "-9223372036854776000"
  EXPECT_EQ(GoJsonRoundTripInt(2.5), std::nullopt);
  EXPECT_EQ(GoJsonRoundTripInt(1e21), std::nullopt);
  EXPECT_EQ(GoJsonRoundTripInt(std::numeric_limits<double>::infinity()), std::nullopt);
}

TEST(Node, GoJsonRoundTripUintTakesOnlyTheRangePastInt64) {
  EXPECT_EQ(GoJsonRoundTripUint(3.0), std::nullopt);  // an int64
  EXPECT_EQ(GoJsonRoundTripUint(9223372036854775808.0), 9223372036854776000u);
  EXPECT_EQ(GoJsonRoundTripUint(1.2e19), 12000000000000000000u);
  EXPECT_EQ(GoJsonRoundTripUint(18446744073709549568.0), 18446744073709550000u);  // largest double below 2^64
  EXPECT_EQ(GoJsonRoundTripUint(18446744073709551616.0), std::nullopt);           // "18446744073709552000"
  EXPECT_EQ(GoJsonRoundTripUint(-1.2e19), std::nullopt);
  EXPECT_EQ(GoJsonRoundTripUint(1e20), std::nullopt);
}

TEST(Node, WholeInt64TakesOnlyWholeNumbersAnInt64Holds) {
  EXPECT_EQ(WholeInt64(3.0), 3);
  EXPECT_EQ(WholeInt64(-0.0), 0);
  EXPECT_EQ(WholeInt64(-9223372036854775808.0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(WholeInt64(9223372036854774784.0), 9223372036854774784);  // the largest double below 2^63
  EXPECT_EQ(WholeInt64(9223372036854775808.0), std::nullopt);         // 2^63 itself
  EXPECT_EQ(WholeInt64(-9223372036854777856.0), std::nullopt);        // the next double below -2^63
  EXPECT_EQ(WholeInt64(2.5), std::nullopt);
  EXPECT_EQ(WholeInt64(1e300), std::nullopt);
  EXPECT_EQ(WholeInt64(std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(WholeInt64(-std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(WholeInt64(std::numeric_limits<double>::quiet_NaN()), std::nullopt);
}

TEST(Node, OperatorBracketCreatesMappingPath) {
  Node n;
  n["metadata"]["name"] = Node::String("web");
  EXPECT_EQ(n.FindPath({"metadata", "name"})->AsString(), "web");
  EXPECT_EQ(n.FindPath({"metadata", "missing"}), nullptr);
}

}  // namespace
}  // namespace keelson::manifest
