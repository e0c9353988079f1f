#include "control/metrics_history.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/cat.h"
#include "pipeline/config.h"

namespace sluice::control {
namespace {

// A logs pipeline whose ClickHouse never answers (port 1): it buffers, which is all the
// history needs.
pipeline::PipelineConfig Config(const std::string& id) {
  auto c = pipeline::ParsePipeline(
      Cat(R"({"version":"v3","pipeline_id":")", id,
          R"(","sources":[{"type":"otlp.logs","source_id":"logs"}],"sink":{"type":"clickhouse",
          "connection_params":{"host":"127.0.0.1","port":"1","database":"d","username":"u",
          "password":""},"table":"t","max_batch_size":10,
          "mapping":[{"name":"body","column_name":"Body","column_type":"String"}]}})"),
      pipeline::DocFormat::kJson);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(MetricsHistory, KeepsTheLastSamplesOfEachLivePipeline) {
  const std::string dir = Cat(::testing::TempDir(), "/metrics_history_", getpid());
  std::filesystem::remove_all(dir);
  pipeline::Limits limits;
  limits.data_dir = dir;
  limits.shutdown_timeout = std::chrono::milliseconds(1000);
  pipeline::Registry registry(limits);
  ASSERT_TRUE(registry.Add(Config("hist-a")).ok());
  ASSERT_TRUE(registry.Add(Config("hist-b")).ok());
  MetricsHistory h(registry, std::chrono::seconds(3600), 3);
  for (int64_t t = 1; t <= 5; ++t) h.SampleNow(t * 1000);
  nlohmann::json j = h.Json();
  EXPECT_EQ(j["interval_seconds"], 3600.0);
  ASSERT_EQ(j["pipelines"].size(), 2u) << j.dump();
  EXPECT_EQ(j["pipelines"]["hist-a"]["t"], nlohmann::json({3000, 4000, 5000}));
  EXPECT_EQ(j["pipelines"]["hist-a"]["records_in"].size(), 3u);
  EXPECT_EQ(j["pipelines"]["hist-a"]["oldest_age_seconds"].size(), 3u);
  // A pipeline that is gone leaves the history at the next sample.
  ASSERT_TRUE(registry.Remove("hist-b").ok());
  h.SampleNow(6000);
  j = h.Json();
  ASSERT_EQ(j["pipelines"].size(), 1u) << j.dump();
  EXPECT_EQ(j["pipelines"]["hist-a"]["t"], nlohmann::json({4000, 5000, 6000}));
  // The thread samples at once when started, and stops promptly.
  MetricsHistory live(registry, std::chrono::seconds(3600), 10);
  live.Start();
  for (int i = 0; i < 200 && live.Json()["pipelines"].empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(live.Json()["pipelines"]["hist-a"]["t"].size(), 1u);
  live.Stop();
  registry.StopAll();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::control
