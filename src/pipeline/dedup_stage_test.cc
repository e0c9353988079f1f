#include "pipeline/dedup_stage.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sluice::pipeline {
namespace {

using transform::HashKey;
using transform::KeyAt;

std::shared_ptr<transform::DedupIndex> Index(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/stage-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  return *transform::DedupIndex::Open(d, 1 << 20);
}

TEST(DedupStage, AKeyOnItsWayOrCommittedByAnEarlierRowIsADuplicate) {
  DedupStage st(Index("basic"), std::chrono::hours(1));
  const int64_t now = 1000;
  auto snap = st.Snapshot();
  const KeyAt first{HashKey("k"), 5, 0}, again{HashKey("k"), 5, 1}, other{HashKey("o"), 5, 2};
  EXPECT_TRUE(st.Admit(first, *snap, now));
  EXPECT_FALSE(st.Admit(again, *snap, now));  // pending
  EXPECT_TRUE(st.Admit(other, *snap, now));
  // `other` is not inserted after all (dead-lettered): its key is free again.
  st.Release(std::vector<KeyAt>{other});
  EXPECT_TRUE(st.Admit(KeyAt{HashKey("o"), 6, 0}, *snap, now));
  // `first` is confirmed: committed, and seen even through the snapshot taken before.
  ASSERT_TRUE(st.Commit(std::vector<KeyAt>{first}, now).ok());
  EXPECT_EQ(st.pending(), 1u);
  EXPECT_FALSE(st.Admit(KeyAt{HashKey("k"), 9, 0}, *snap, now));
  snap = st.Snapshot();
  EXPECT_FALSE(st.Admit(KeyAt{HashKey("k"), 9, 0}, *snap, now));
  // After the window the key is new again.
  EXPECT_TRUE(st.Admit(KeyAt{HashKey("k"), 9, 0}, *snap, now + 3600 * 1000));
}

// After a restart a batch is replayed with its own rows: a key its own row committed
// (confirmed just before the crash) lets that row in again, a later row stays out.
TEST(DedupStage, AReplayedRowIsAdmittedAgainByItsOwnCommit) {
  auto index = Index("replay");
  {
    DedupStage before(index, std::chrono::hours(1));
    ASSERT_TRUE(before.Commit(std::vector<KeyAt>{{HashKey("k"), 10, 4}}, 0).ok());
  }
  DedupStage after(index, std::chrono::hours(1));
  auto snap = after.Snapshot();
  EXPECT_FALSE(after.Admit(KeyAt{HashKey("k"), 10, 5}, *snap, 1));  // a later row: duplicate
  EXPECT_TRUE(after.Admit(KeyAt{HashKey("k"), 10, 4}, *snap, 1));   // the row itself
  EXPECT_FALSE(after.Admit(KeyAt{HashKey("k"), 11, 0}, *snap, 1));  // pending again
}

}  // namespace
}  // namespace sluice::pipeline
