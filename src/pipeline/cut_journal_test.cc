#include "pipeline/cut_journal.h"

#include <gtest/gtest.h>

#include "core/fault_fs_testing.h"

namespace sluice::pipeline {
namespace {

std::shared_ptr<buffer::LocalLog> Open(testing::FaultFs& fs) {
  buffer::LogOptions o;
  o.dir = "/cuts";
  o.segment_bytes = 4096;
  auto l = buffer::LocalLog::Open(&fs, o);
  EXPECT_TRUE(l.ok()) << l.status();
  return std::shared_ptr<buffer::LocalLog>(std::move(*l));
}

TEST(CutJournal, EncodesAndDecodesACut) {
  Cut c{"otel_logs", {1ull << 40, 7}, {(1ull << 40) + 3, 65535}, 12345};
  auto d = DecodeCut(EncodeCut(c));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->table, "otel_logs");
  EXPECT_EQ(d->first, c.first);
  EXPECT_EQ(d->last, c.last);
  EXPECT_EQ(d->rows, 12345u);
  std::string b = EncodeCut(c);
  EXPECT_FALSE(DecodeCut(b.substr(0, b.size() - 1)));            // truncated table name
  EXPECT_FALSE(DecodeCut(EncodeCut({"t", {5, 0}, {4, 0}, 1})));  // last before first
}

TEST(CutJournal, SurvivesACrashAndTrimsSettledCuts) {
  testing::FaultFs fs;
  {
    CutJournal j(Open(fs));
    ASSERT_TRUE(j.Load().ok());
    for (uint64_t i = 1; i <= 2000; ++i) ASSERT_TRUE(j.Record({"t", {i, 0}, {i, 9}, 10}).ok());
  }
  fs.Crash();  // records were synced before Record returned (fsync always)
  auto log = Open(fs);
  CutJournal j(log);
  auto cuts = j.Load();
  ASSERT_TRUE(cuts.ok());
  ASSERT_EQ(cuts->size(), 2000u);
  EXPECT_EQ((*cuts)[1999].first, (Position{2000, 0}));
  j.Trim(1500);  // cuts 1..1499 lie below the checkpoint
  EXPECT_EQ(log->checkpoint(), 1500u);
  auto again = j.Load();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 501u);
  EXPECT_EQ(again->front().first, (Position{1500, 0}));
  j.Trim(1600);  // fewer than a trim's worth: nothing written
  EXPECT_EQ(log->checkpoint(), 1500u);
}

}  // namespace
}  // namespace sluice::pipeline
