#include "receivers/request_budget.h"

#include <gtest/gtest.h>

namespace sluice::receivers {
namespace {

TEST(RequestBudget, LeasesHoldTheirShareUntilReleased) {
  RequestBudget b(100);
  bool ok;
  RequestBudget::Lease a = b.TryLease(60, &ok);
  EXPECT_TRUE(ok);
  RequestBudget::Lease c = b.TryLease(50, &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(c.bytes(), 0u);
  EXPECT_TRUE(c.TryGrow(40));  // chunk by chunk, while there is room
  EXPECT_FALSE(c.TryGrow(1));
  EXPECT_TRUE(b.full());
  a.Resize(70);  // inflated: counted past the limit, data already in memory
  EXPECT_EQ(b.used(), 110u);
  {
    RequestBudget::Lease moved = std::move(a);
    EXPECT_EQ(b.used(), 110u);
  }
  EXPECT_EQ(b.used(), 40u);
  c.Release();
  c.Release();
  EXPECT_EQ(b.used(), 0u);
  {
    RequestBudget::Lease held = b.Hold(150);  // already in memory: counted past the limit
    EXPECT_TRUE(b.full());
    EXPECT_EQ(held.bytes(), 150u);
  }
  EXPECT_EQ(b.used(), 0u);
}

}  // namespace
}  // namespace sluice::receivers
