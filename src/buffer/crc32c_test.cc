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

}  // namespace
}  // namespace sluice::buffer
