#include "server/metrics_page.h"

#include <gtest/gtest.h>

#include <thread>

#include "control/stats_json.h"
#include "server/status_api.h"

namespace sluice::server {
namespace {

// A pipeline whose ClickHouse cannot be reached (port 1): it fails and keeps trying.
pipeline::PipelineConfig Unreachable(const std::string& id) {
  auto p = pipeline::ParsePipeline(R"({"pipeline_id": ")" + id + R"(",
    "sources": [{"type": "otlp.logs", "source_id": "l"}],
    "sink": {"type": "clickhouse", "connection_params": {"host": "127.0.0.1", "http_port": "1"},
             "table": "t", "max_batch_size": 10,
             "mapping": [{"name": "body", "column_name": "Body", "column_type": "String"}]}})");
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(MetricsPage, SeriesForAPipelineAndTheUnroutedRequests) {
  pipeline::Limits limits;
  limits.data_dir = ::testing::TempDir() + "/metrics-page";
  pipeline::Registry registry(limits);
  ASSERT_TRUE(registry.Add(Unreachable("unit-logs")).ok());
  auto p = registry.Find("unit-logs");
  p->metrics().requests.Record(pipeline::Transport::kHttp, 200, 0.001, 3, 0);
  p->metrics().requests.Record(pipeline::Transport::kGrpc, 14, 0.001, 0, 2);
  registry.unrouted_requests().Record(pipeline::Transport::kHttp, 404, 0.001, 0, 0);
  for (int i = 0; i < 200 && p->state() != pipeline::Pipeline::State::kFailed; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::string page = RenderMetrics(registry, ReadProcessStats());
  for (const char* line : {
           "# TYPE otelcol_receiver_accepted_log_records_total counter\n",
           "otelcol_receiver_accepted_log_records_total{receiver=\"otlp\",transport=\"http\","
           "pipeline_id=\"unit-logs\"} 3\n",
           "otelcol_receiver_refused_log_records_total{receiver=\"otlp\",transport=\"grpc\","
           "pipeline_id=\"unit-logs\"} 2\n",
           "gfm_receiver_request_count_total{component=\"otlp.logs\",transport=\"http\",status="
           "\"ok\",code=\"200\",pipeline_id=\"unit-logs\"} 1\n",
           "gfm_receiver_request_count_total{component=\"otlp.logs\",transport=\"grpc\",status="
           "\"error\",code=\"UNAVAILABLE\",pipeline_id=\"unit-logs\"} 1\n",
           "gfm_receiver_request_count_total{component=\"\",transport=\"http\",status=\"error\","
           "code=\"404\",pipeline_id=\"\"} 1\n",
           "sluice_pipeline_state{pipeline_id=\"unit-logs\",state=\"Failed\"} 1\n",
           "sluice_pipeline_state{pipeline_id=\"unit-logs\",state=\"Running\"} 0\n",
           "sluice_build_info{version=\"0.1.0\"} 1\n",
       })
    EXPECT_NE(page.find(line), std::string::npos) << line;
  // Families without a sample of this signal still have their HELP and TYPE lines.
  EXPECT_NE(page.find("# TYPE otelcol_exporter_sent_spans_total counter\n"), std::string::npos);

  const std::string stats = control::PipelineStatsJson(*registry.Find("unit-logs")).dump();
  EXPECT_NE(stats.find("\"reason\":\"connect 127.0.0.1:1"), std::string::npos) << stats;
  std::string why;
  EXPECT_FALSE(Ready(registry, &why));
  EXPECT_NE(why.find("\"unit-logs\":\"Failed: connect 127.0.0.1:1"), std::string::npos) << why;
  registry.StopAll();
}

}  // namespace
}  // namespace sluice::server
