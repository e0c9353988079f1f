#include "control/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/cat.h"

namespace sluice::control {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        Cat(::testing::TempDir(), "/store_test_", ::testing::UnitTest::GetInstance()->random_seed(),
            "_", reinterpret_cast<uintptr_t>(this));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

StoredPipeline Sample(const std::string& id) {
  StoredPipeline p;
  p.id = id;
  p.document = R"({"version":"v3","pipeline_id":")" + id + R"("})";
  p.stopped = true;
  p.name = "Logs \"prod\"";
  p.tags = {"a", "b"};
  p.created_ms = 1700000000000;
  p.updated_ms = 1700000000500;
  return p;
}

TEST_F(StoreTest, RoundTripsAndReplaces) {
  PipelineStore store(PosixFilesystem(), dir_);
  ASSERT_TRUE(store.Put(Sample("logs-one")).ok());
  StoredPipeline two = Sample("logs-two");
  two.stopped = false;
  ASSERT_TRUE(store.Put(two).ok());
  two.name = "renamed";
  ASSERT_TRUE(store.Put(two).ok());  // replaced in place
  std::vector<std::string> problems;
  auto all = store.LoadAll(&problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(all.size(), 2u);
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
  EXPECT_EQ(all[0].document, Sample("logs-one").document);
  EXPECT_TRUE(all[0].stopped);
  EXPECT_EQ(all[0].name, "Logs \"prod\"");
  EXPECT_EQ(all[0].tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(all[0].created_ms, 1700000000000);
  EXPECT_EQ(all[1].name, "renamed");
  EXPECT_FALSE(all[1].stopped);
  ASSERT_TRUE(store.Remove("logs-one").ok());
  ASSERT_TRUE(store.Remove("logs-one").ok());  // idempotent
  EXPECT_EQ(store.LoadAll(&problems).size(), 1u);
}

TEST_F(StoreTest, BadFilesAreReportedNotFatal) {
  PipelineStore store(PosixFilesystem(), dir_);
  ASSERT_TRUE(store.Put(Sample("logs-good")).ok());
  const std::string d = dir_ + "/api/pipelines";
  ASSERT_TRUE(PosixFilesystem()->WriteFileAtomic(d + "/logs-junk.json", "{\"format\":1,").ok());
  ASSERT_TRUE(
      PosixFilesystem()
          ->WriteFileAtomic(d + "/other-name.json", PipelineStore::Encode(Sample("logs-else")))
          .ok());
  // A write cut before its rename leaves a temporary file: dropped, the record stands.
  ASSERT_TRUE(PosixFilesystem()->WriteFileAtomic(d + "/logs-good.json.tmp", "{\"form").ok());
  std::vector<std::string> problems;
  auto all = store.LoadAll(&problems);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "logs-good");
  EXPECT_EQ(problems.size(), 2u);
  EXPECT_FALSE(PosixFilesystem()->Exists(d + "/logs-good.json.tmp"));
}

TEST_F(StoreTest, DecodeRefusesWhatIsNotARecord) {
  EXPECT_FALSE(PipelineStore::Decode("[]").ok());
  EXPECT_FALSE(PipelineStore::Decode("{\"format\":2}").ok());
  EXPECT_FALSE(
      PipelineStore::Decode(R"({"format":1,"pipeline_id":"X","document":"","desired":"Running"})")
          .ok());
  EXPECT_TRUE(PipelineStore::Decode(PipelineStore::Encode(Sample("valid-id"))).ok());
}

}  // namespace
}  // namespace sluice::control
