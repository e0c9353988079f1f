#include "transform/dedup_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sluice::transform {
namespace {

std::string TempDir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/dedup-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  return d;
}

KeyAt At(std::string_view text, uint64_t seq, uint32_t rec = 0) {
  return {HashKey(text), seq, rec};
}

TEST(DedupIndex, CommittedKeysAreSeenWithTheirRowsUntilTheyExpire) {
  const std::string dir = TempDir("seen");
  auto idx = DedupIndex::Open(dir, 1 << 20);
  ASSERT_TRUE(idx.ok()) << idx.status();
  const KeyAt a = At("a", 7, 3), b = At("b", 8);
  ASSERT_TRUE((*idx)->Commit(std::vector<KeyAt>{a, b}, /*expires_ms=*/1000).ok());
  DedupIndex::Reader r(idx->get());
  KeyAt by;
  ASSERT_TRUE(r.Seen(a.key, 999, &by));
  EXPECT_EQ(by.seq, 7u);
  EXPECT_EQ(by.rec, 3u);
  EXPECT_FALSE(r.Seen(a.key, 1000, &by));  // expired at its expiry
  EXPECT_FALSE(r.Seen(HashKey("c"), 0, &by));
  EXPECT_EQ((*idx)->entries(), 2u);
  EXPECT_EQ((*idx)->Sweep(999, 100), 0u);
  EXPECT_EQ((*idx)->Sweep(1000, 100), 2u);
  EXPECT_EQ((*idx)->entries(), 0u);
}

TEST(DedupIndex, SurvivesReopeningAndOneInstancePerDirectory) {
  const std::string dir = TempDir("reopen");
  {
    auto idx = DedupIndex::Open(dir, 1 << 20);
    ASSERT_TRUE(idx.ok());
    ASSERT_TRUE((*idx)->Commit(std::vector<KeyAt>{At("k", 1)}, INT64_MAX).ok());
    auto again = DedupIndex::Open(dir, 1 << 20);  // LMDB allows one environment per process
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->get(), idx->get());
  }
  auto idx = DedupIndex::Open(dir, 1 << 20);
  ASSERT_TRUE(idx.ok());
  KeyAt by;
  EXPECT_TRUE(DedupIndex::Reader(idx->get()).Seen(HashKey("k"), 0, &by));
}

TEST(DedupIndex, AGarbledFileIsStartedAgainEmpty) {
  const std::string dir = TempDir("garbled");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/data.mdb") << std::string(8192, 'x');
  auto idx = DedupIndex::Open(dir, 1 << 20);
  ASSERT_TRUE(idx.ok()) << idx.status();
  ASSERT_TRUE((*idx)->Commit(std::vector<KeyAt>{At("k", 1)}, INT64_MAX).ok());
  KeyAt by;
  EXPECT_TRUE(DedupIndex::Reader(idx->get()).Seen(HashKey("k"), 0, &by));
}

// A full index makes room from expired keys; when none expired it refuses (the caller
// keeps going: duplicates may pass, nothing is lost).
TEST(DedupIndex, FullIndexSweepsThenRefuses) {
  const std::string dir = TempDir("full");
  auto idx = DedupIndex::Open(dir, 1 << 20);  // 1 MiB: some tens of thousands of keys
  ASSERT_TRUE(idx.ok());
  std::vector<KeyAt> batch;
  Status s;
  uint64_t n = 0;
  for (int round = 0; round < 200 && s.ok(); ++round) {
    batch.clear();
    for (int i = 0; i < 1000; ++i, ++n) batch.push_back(At(std::to_string(n), n + 1));
    s = (*idx)->Commit(batch, /*expires_ms=*/1);  // already expired at any real time
  }
  EXPECT_TRUE(s.ok()) << "expired keys must make room: " << s;
  batch.clear();
  for (int i = 0; i < 1000; ++i) batch.push_back(At("live" + std::to_string(i), i));
  for (int round = 0; round < 200 && s.ok(); ++round) {
    for (auto& k : batch) k.key = HashKey(std::to_string(n++));
    s = (*idx)->Commit(batch, INT64_MAX);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
}

}  // namespace
}  // namespace sluice::transform
