#include "agent/trust/encoding.h"

#include <gtest/gtest.h>

namespace keelson::trust {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data);
    EXPECT_EQ(Base64Decode(Base64Encode(data, false)), data);
    data.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64, StrictAboutAlphabetPaddingAndLeftoverBits) {
  EXPECT_EQ(Base64Decode("aGVsbG8=\n"), "hello");
  EXPECT_EQ(Base64Decode("aGVs\r\n bG8="), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG8=x").has_value());  // data after padding
  EXPECT_FALSE(Base64Decode("aGVsbG9=").has_value());   // non-zero leftover bits
  EXPECT_FALSE(Base64Decode("a").has_value());
  EXPECT_FALSE(Base64Decode("aGV*").has_value());
  EXPECT_FALSE(Base64Decode("aGVsbG8===").has_value());
}

TEST(ByteReader, StopsAtTheEndAndStaysFailed) {
  ByteReader r(std::string_view("\x00\x00\x00\x02hi\x01", 7));
  EXPECT_EQ(r.SshString(), "hi");
  EXPECT_EQ(r.U8(), 1);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0);
  ByteReader big(std::string_view("\xff\xff\xff\xff", 4));
  EXPECT_TRUE(big.SshString().empty());
  EXPECT_FALSE(big.ok());
}

}  // namespace
}  // namespace keelson::trust
