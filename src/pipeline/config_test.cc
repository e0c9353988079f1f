#include "pipeline/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

using ::testing::HasSubstr;

const char* kGood = R"({"version": "v3", "pipeline_id": "otel-logs",
  "sources": [{"type": " OTLP.Logs ", "source_id": "logs"}],
  "sink": {"type": "clickhouse", "connection_params": {"host": "ch", "port": "9000",
           "database": "otel", "username": "u", "password": "p"},
           "table": "t", "max_batch_size": 500, "max_delay_time": "1d2h500ms",
           "mapping": [{"name": "body", "column_name": "Body", "column_type": "String"}]}})";

TEST(PipelineConfig, Parses) {
  auto p = ParsePipeline(kGood);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, "otel-logs");
  EXPECT_EQ(p->signal, Signal::kLogs);
  EXPECT_EQ(p->sink.endpoint.port, 8123);  // native 9000 -> HTTP 8123
  EXPECT_EQ(p->sink.endpoint.user, "u");
  EXPECT_EQ(p->sink.max_batch_size, 500u);
  EXPECT_EQ(p->sink.max_delay.count(), 93600500);
  ASSERT_EQ(p->sink.mapping.size(), 1u);
}

TEST(PipelineConfig, Rejects) {
  auto err = [](std::string doc, const std::string& from, const std::string& to) {
    doc.replace(doc.find(from), from.size(), to);
    auto p = ParsePipeline(doc);
    EXPECT_FALSE(p.ok()) << to;
    return std::string(p.status().message());
  };
  EXPECT_THAT(err(kGood, "otel-logs", "Bad--id"), HasSubstr("pipeline_id"));
  EXPECT_THAT(err(kGood, "otel-logs", "abc"), HasSubstr("pipeline_id"));
  EXPECT_THAT(err(kGood, " OTLP.Logs ", "kafka"),
              HasSubstr("otlp.logs, otlp.metrics or otlp.traces"));
  EXPECT_THAT(err(kGood, "\"max_batch_size\": 500", "\"max_batch_size\": 0"),
              HasSubstr("max_batch_size"));
  EXPECT_THAT(err(kGood, "1d2h500ms", "soon"), HasSubstr("max_delay_time"));
  EXPECT_THAT(err(kGood, "\"table\": \"t\",", ""), HasSubstr("sink.table"));
  EXPECT_THAT(err(kGood, "\"source_id\": \"logs\"", "\"source_id\": \"logs\", \"topic\": \"x\""),
              HasSubstr("not allowed for OTLP"));
  EXPECT_THAT(err(kGood, "\"version\": \"v3\"", "\"version\": \"v2\""), HasSubstr("version"));
  EXPECT_THAT(
      err(kGood, "{\"name\": \"body\", \"column_name\": \"Body\", \"column_type\": \"String\"}",
          ""),
      HasSubstr("mapping"));
  auto t = ParsePipeline(
      std::string(kGood).replace(std::string(kGood).find("\"sink\""), 6,
                                 "\"transforms\": [{\"type\": \"filter\"}], \"sink\""));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ParsePipeline("not json {").ok());
}

TEST(PipelineConfig, BufferLimitsFromNatsStreamResources) {
  std::string doc = kGood;
  doc.replace(
      doc.find("\"sink\""), 6,
      R"("resources": {"nats": {"stream": {"maxBytes": "10Gi", "maxAge": "24h", "maxMsgs": 500000}}}, "sink")");
  auto p = ParsePipeline(doc);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->buffer.max_bytes, 10ull << 30);
  EXPECT_EQ(p->buffer.max_age.count(), 86400000);
  EXPECT_EQ(p->buffer.max_records, 500000u);
  uint64_t b;
  ASSERT_TRUE(ParseByteSize("100GB", &b));
  EXPECT_EQ(b, 100000000000ull);
  ASSERT_TRUE(ParseByteSize("512Mi", &b));
  EXPECT_EQ(b, 512ull << 20);
  EXPECT_FALSE(ParseByteSize("lots", &b));
}

TEST(PipelineConfig, Durations) {
  std::chrono::milliseconds d;
  ASSERT_TRUE(ParseDuration("1.5s", &d));
  EXPECT_EQ(d.count(), 1500);
  ASSERT_TRUE(ParseDuration("1h30m", &d));
  EXPECT_EQ(d.count(), 5400000);
  EXPECT_FALSE(ParseDuration("10", &d));
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("5 years", &d));
}

}  // namespace
}  // namespace sluice::pipeline
