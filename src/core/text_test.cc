#include "core/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sluice {
namespace {

std::string Rfc(uint64_t ns) {
  std::string s;
  AppendRfc3339Nano(ns, &s);
  return s;
}
std::string Dbl(double d) {
  std::string s;
  AppendDouble(d, &s);
  return s;
}

TEST(Text, Rfc3339Nano) {
  EXPECT_EQ(Rfc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc(1717171717123456789ull), "2024-05-31T16:08:37.123456789Z");
  EXPECT_EQ(Rfc(1717171717100000000ull), "2024-05-31T16:08:37.1Z");
  EXPECT_EQ(Rfc(951782400000000000ull), "2000-02-29T00:00:00Z");  // leap day
  EXPECT_EQ(Rfc(std::numeric_limits<uint64_t>::max()), "2554-07-21T23:34:33.709551615Z");
}

TEST(Text, DoublesLikeGo) {
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(1e21), "1000000000000000000000");
  EXPECT_EQ(Dbl(1.5e-7), "0.00000015");
  EXPECT_EQ(Dbl(-2), "-2");
  EXPECT_EQ(Dbl(std::nan("")), "NaN");
  EXPECT_EQ(Dbl(-INFINITY), "-Inf");
  EXPECT_EQ(Dbl(INFINITY), "+Inf");
}

TEST(Text, JsonEscaping) {
  std::string s;
  AppendJsonString("a\"b\\c\n\x01", &s);
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(Text, JsonStringsAreAlwaysValidUtf8) {
  auto json = [](std::string_view in) {
    std::string s;
    AppendJsonString(in, &s);
    return s;
  };
  // Valid sequences of every length pass through unchanged.
  EXPECT_EQ(json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
            "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  // Each byte that starts no valid sequence becomes U+FFFD, as Go's encoder writes it.
  EXPECT_EQ(json("a\xff"
                 "b"),
            "\"a\\ufffd"
            "b\"");
  EXPECT_EQ(json("\xc3"), "\"\\ufffd\"");                                   // cut short
  EXPECT_EQ(json("\xc0\xaf"), "\"\\ufffd\\ufffd\"");                        // overlong
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // a surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // past U+10FFFF
}

TEST(Text, ParseDateTime) {
  int64_t ns;
  ASSERT_TRUE(ParseDateTime("2024-05-31T16:08:37.123456789Z", &ns));
  EXPECT_EQ(ns, 1717171717123456789);
  ASSERT_TRUE(ParseDateTime("2024-05-31 18:08:37+02:00", &ns));
  EXPECT_EQ(ns, 1717171717000000000);
  ASSERT_TRUE(ParseDateTime("2024-05-31", &ns));
  EXPECT_EQ(ns, 1717113600000000000);
  ASSERT_TRUE(ParseDateTime("1969-12-31T23:59:59Z", &ns));
  EXPECT_EQ(ns, -1000000000);
  EXPECT_FALSE(ParseDateTime("2024-13-01", &ns));
  EXPECT_FALSE(ParseDateTime("2024-05-31T16:08", &ns));
  EXPECT_FALSE(ParseDateTime("2024-05-31T16:08:37.Z", &ns));
  EXPECT_FALSE(ParseDateTime("yesterday", &ns));
}

}  // namespace
}  // namespace sluice
