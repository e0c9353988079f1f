#include "core/log_throttle.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(LogThrottle, AllowsABurstPerWindowAndCountsTheRest) {
  LogThrottle t(2, std::chrono::seconds(10));
  const auto t0 = LogThrottle::Clock::now();
  uint64_t suppressed = 99;
  EXPECT_TRUE(t.Allow(&suppressed, t0));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(t.Allow(&suppressed, t0));
  EXPECT_FALSE(t.Allow(&suppressed, t0 + std::chrono::seconds(1)));
  EXPECT_FALSE(t.Allow(&suppressed, t0 + std::chrono::seconds(9)));
  EXPECT_TRUE(t.Allow(&suppressed, t0 + std::chrono::seconds(10)));
  EXPECT_EQ(suppressed, 2u);
  EXPECT_TRUE(t.Allow(&suppressed, t0 + std::chrono::seconds(11)));
  EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace sluice
