#include "pipeline/dead_letters.h"

#include <gtest/gtest.h>

#include "core/fault_fs_testing.h"

namespace sluice::pipeline {
namespace {

TEST(DeadLetters, EntryShapeAndDurability) {
  EXPECT_EQ(DeadLetters::EntryJson("sink", "sink_rejection_190", "Code: 190, \"bad\"",
                                   R"({"name":"x"})", 1717171717000000000ull),
            R"({"component":"sink","reason":"sink_rejection_190","error":"Code: 190, \"bad\"",)"
            R"("original_message":"{\"name\":\"x\"}","time":"2024-05-31T16:08:37Z"})");
  testing::FaultFs fs;
  buffer::LogOptions o;
  o.dir = "/dlq";
  auto log = buffer::LocalLog::Open(&fs, o);
  ASSERT_TRUE(log.ok());
  DeadLetters dlq(std::shared_ptr<buffer::LocalLog>(std::move(*log)));
  ASSERT_TRUE(dlq.Write("sink", "schema_mismatch", "why", "{}").ok());
  fs.faults().fail_syncs = 1;
  EXPECT_FALSE(dlq.Write("sink", "schema_mismatch", "why", "{}").ok());  // the caller keeps it
  std::vector<std::string> seen;
  ASSERT_TRUE(buffer::ScanLog(&fs, "/dlq", [&](const buffer::Entry& e) {
                seen.push_back(e.payload);
              }).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find(R"("reason":"schema_mismatch")"), std::string::npos);
}

}  // namespace
}  // namespace sluice::pipeline
