#include "pipeline/replay_plan.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

Cut C(const std::string& table, uint64_t s0, uint32_t r0, uint64_t s1, uint32_t r1) {
  return {table, {s0, r0}, {s1, r1}, 0};
}

TEST(ReplayPlan, EmptyWithoutCutsAtOrAboveTheCheckpoint) {
  EXPECT_TRUE(ReplayPlan({}, {"t"}, 5).empty());
  EXPECT_TRUE(ReplayPlan({C("t", 1, 0, 4, 9)}, {"t"}, 5).empty());
  EXPECT_TRUE(ReplayPlan({C("gone", 5, 0, 6, 0)}, {"t"}, 5).empty());  // unknown table
}

TEST(ReplayPlan, SkipsTheSettledBatchThatStraddlesTheCheckpoint) {
  // Batch A (3.0-5.2) was confirmed, so the checkpoint could reach 5; B (5.3-6.1) maybe not.
  ReplayPlan p({C("t", 3, 0, 5, 2), C("t", 5, 3, 6, 1)}, {"t"}, 5);
  ASSERT_FALSE(p.empty());
  for (uint32_t r = 0; r <= 2; ++r) EXPECT_TRUE(p.Before(0, {5, r}, 0).skip);
  auto s = p.Before(0, {5, 3}, 0);
  EXPECT_FALSE(s.skip);
  EXPECT_FALSE(s.cut_before);
  EXPECT_TRUE(p.Holds(0));
  EXPECT_FALSE(p.After(0, {5, 3}));
  EXPECT_FALSE(p.Before(0, {6, 0}, 1).cut_before);
  EXPECT_FALSE(p.After(0, {6, 0}));
  EXPECT_FALSE(p.Before(0, {6, 1}, 2).cut_before);
  EXPECT_TRUE(p.After(0, {6, 1}));  // B's last row: cut here, whatever the size limit
  EXPECT_FALSE(p.Holds(0));
  EXPECT_FALSE(p.Before(0, {6, 2}, 0).skip);  // beyond the plan: ordinary rows
  EXPECT_FALSE(p.Holds(0));
}

TEST(ReplayPlan, RowsBeforeAPlannedBatchGoOutAlone) {
  ReplayPlan p({C("t", 7, 0, 7, 4)}, {"t"}, 6);
  EXPECT_FALSE(p.Before(0, {6, 0}, 0).cut_before);
  EXPECT_FALSE(p.Holds(0));
  auto s = p.Before(0, {7, 0}, 1);  // one unplanned row gathered: it leaves first
  EXPECT_TRUE(s.cut_before);
  EXPECT_TRUE(p.Holds(0));
}

TEST(ReplayPlan, APlannedBatchWhoseLastRowNeverComesEndsEarly) {
  ReplayPlan p({C("t", 7, 0, 8, 1), C("t", 8, 2, 9, 0)}, {"t"}, 7);
  EXPECT_FALSE(p.Before(0, {7, 0}, 0).cut_before);
  EXPECT_FALSE(p.After(0, {7, 0}));
  // Entry 8 was lost: the next row is 9.0, past the first batch's end and the start of
  // the second one.
  auto s = p.Before(0, {9, 0}, 1);
  EXPECT_TRUE(s.cut_before);
  EXPECT_TRUE(p.Holds(0));
  EXPECT_TRUE(p.After(0, {9, 0}));
}

TEST(ReplayPlan, ALaterOverlappingCutReplacesEarlierOnes) {
  // 7.0-9.5 was abandoned and re-cut as 7.0-8.3 then 8.4-9.5; the checkpoint is 8, so the
  // first re-cut batch is settled and the second replays. Keeping the abandoned cut would
  // skip 8.4-9.5, rows of an unconfirmed batch.
  ReplayPlan p({C("t", 7, 0, 9, 5), C("t", 7, 0, 8, 3), C("t", 8, 4, 9, 5)}, {"t"}, 8);
  EXPECT_TRUE(p.Before(0, {8, 3}, 0).skip);
  EXPECT_FALSE(p.Before(0, {8, 4}, 0).skip);
  EXPECT_TRUE(p.Holds(0));
  EXPECT_TRUE(p.After(0, {9, 5}));
}

TEST(ReplayPlan, RoutesAreIndependent) {
  ReplayPlan p({C("a", 5, 0, 5, 1), C("b", 5, 2, 5, 3)}, {"a", "b"}, 5);
  EXPECT_FALSE(p.Before(0, {5, 0}, 0).skip);
  EXPECT_TRUE(p.Holds(0));
  EXPECT_FALSE(p.Holds(1));
  EXPECT_TRUE(p.After(0, {5, 1}));
  EXPECT_FALSE(p.Before(1, {5, 2}, 0).skip);
  EXPECT_TRUE(p.Holds(1));
  p.Clear();
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(p.Holds(1));
}

}  // namespace
}  // namespace sluice::pipeline
