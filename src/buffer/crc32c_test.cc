#include "buffer/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::buffer {
namespace {

TEST(Crc32c, KnownValues) {
  // RFC 3720 (iSCSI) test vectors.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  std::string inc;
  for (int i = 0; i < 32; ++i) inc.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(inc), 0x46dd794eu);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
}

TEST(Crc32c, ExtendAndMask) {
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), Crc32c("123456789"));
  const uint32_t c = Crc32c("abc");
  EXPECT_NE(MaskCrc(c), c);
  EXPECT_EQ(UnmaskCrc(MaskCrc(c)), c);
}

TEST(Crc32c, FastPathMatchesTableAtEveryShape) {
  // Lengths around the interleaved rounds (3 x 4096 bytes), at odd offsets, extended.
  std::string data(5 * 12288 + 100, '\0');
  uint32_t x = 12345;
  for (char& c : data) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  for (size_t len : {0u, 1u, 7u, 8u, 4095u, 12287u, 12288u, 12289u, 24576u, 30000u, 61440u}) {
    for (size_t off : {0u, 3u}) {
      std::string_view v(data.data() + off, len);
      EXPECT_EQ(Crc32c(v), Crc32cPortable(v)) << len << "@" << off;
      EXPECT_EQ(Crc32c(v, 0xdeadbeefu), Crc32cPortable(v, 0xdeadbeefu)) << len << "@" << off;
    }
  }
  EXPECT_EQ(
      Crc32c(std::string_view(data).substr(20000), Crc32c(std::string_view(data).substr(0, 20000))),
      Crc32cPortable(data));
}

}  // namespace
}  // namespace sluice::buffer
