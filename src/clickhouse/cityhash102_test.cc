#include "clickhouse/cityhash102.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::clickhouse {
namespace {

void Expect(const std::string& in, uint64_t low, uint64_t high) {
  Hash128 h = CityHash128V102(in.data(), in.size());
  EXPECT_EQ(h.low, low) << in.size() << " bytes";
  EXPECT_EQ(h.high, high) << in.size() << " bytes";
}

// The vectors ClickHouse's frames are checked with (clickhouse-protocol.md §4.2).
TEST(CityHash102, KnownVectors) {
  Expect("", 0x3df09dfc64c09a2bULL, 0x3cb540c392e51e29ULL);
  Expect("a", 0xd27139a1afe01ad0ULL, 0xfd7e8ee2e4c86cf6ULL);
  Expect("Moscow", 0x2edf17bfee3edf6dULL, 0x22aef305c6409d55ULL);
  Expect("Hello, world!", 0xc4bee4167681fc0fULL, 0x5a21e805b50d08f9ULL);
  Expect("0123456789abcdef", 0xc52ea1adb29e4800ULL, 0x7369a2fab076de4cULL);
  std::string all(256, '\0');
  for (int i = 0; i < 256; ++i) all[i] = static_cast<char>(i);
  Expect(all, 0x327bb07ec0345a9bULL, 0xfb45ef5cb037bd93ULL);
}

}  // namespace
}  // namespace sluice::clickhouse
