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
  // GlassFlow's port is the native one: the native protocol, LZ4 blocks.
  EXPECT_EQ(p->sink.endpoint.protocol, clickhouse::Protocol::kNative);
  EXPECT_EQ(p->sink.endpoint.port, 9000);
  EXPECT_EQ(p->sink.endpoint.compression, clickhouse::Codec::kLz4);
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
  EXPECT_FALSE(ParsePipeline("not json {").ok());
}

// kGood with `transforms` (and, optionally, a resources object) before the sink.
StatusOr<PipelineConfig> WithTransforms(const std::string& transforms,
                                        const std::string& mapping_name = "body",
                                        const std::string& resources = "") {
  std::string doc = kGood;
  doc.replace(doc.find("\"sink\""), 6,
              "\"transforms\": " + transforms + ", " + resources + "\"sink\"");
  doc.replace(doc.find("{\"name\": \"body\""), 15, "{\"name\": \"" + mapping_name + "\"");
  return ParsePipeline(doc);
}

TEST(PipelineConfig, Transforms) {
  auto p = WithTransforms(
      R"j([
    {"type": "stateless", "source_id": "logs", "config": {"transforms": [
      {"expression": "upper(body)", "output_name": "up", "output_type": "string"}]}},
    {"type": "dedup", "source_id": "logs", "config": {"key": "trace_id", "time_window": "1d"}},
    {"type": "filter", "source_id": "logs", "config": {"expression": "severity_number > 8"}}])j",
      "up",
      R"j("resources": {"transform": [{"source_id": "logs", "storage": {"size": "2Gi"}}]}, )j");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const auto& t = p->transforms;
  EXPECT_TRUE(t.filter && t.dedup && t.stateless);
  EXPECT_EQ(t.filter_index, 2);
  EXPECT_EQ(t.dedup_window, std::chrono::hours(24));
  EXPECT_EQ(p->dedup_bytes, 2ull << 30);
  ASSERT_EQ(p->outputs.size(), 1u);
  EXPECT_EQ(p->outputs[0].name, "up");
  // GlassFlow's internal key "transform" is taken too.
  EXPECT_TRUE(
      WithTransforms(R"j([{"type": "stateless", "source_id": "logs", "config": {"transform": [
      {"expression": "body", "output_name": "body", "output_type": "string"}]}}])j")
          .ok());

  auto err = [](const std::string& transforms, const std::string& name = "body",
                const std::string& resources = "") {
    auto p = WithTransforms(transforms, name, resources);
    return p.ok() ? std::string("ok") : std::string(p.status().message());
  };
  const std::string filter =
      R"j({"type": "filter", "source_id": "logs", "config": {"expression": "true"}})j";
  EXPECT_THAT(err("[" + filter + "," + filter + "]"), HasSubstr("at most one filter"));
  EXPECT_THAT(
      err(R"j([{"type": "filter", "source_id": "other", "config": {"expression": "true"}}])j"),
      HasSubstr("transforms[0].source_id"));
  EXPECT_THAT(err(R"j([{"type": "join", "source_id": "logs", "config": {}}])j"),
              HasSubstr("not one of filter, dedup, stateless"));
  EXPECT_THAT(err(R"j([{"type": "filter", "source_id": "logs", "config": {"expression": " "}}])j"),
              HasSubstr("transforms[0].config.expression: is required"));
  EXPECT_THAT(
      err(R"j([{"type": "filter", "source_id": "logs", "config": {"expression": "body == "}}])j"),
      HasSubstr("pipeline transforms[0].config.expression: unexpected token EOF (1:8)"));
  EXPECT_THAT(
      err(R"j([{"type": "dedup", "source_id": "logs", "config": {"key": "", "time_window": "1h"}}])j"),
      HasSubstr("transforms[0].config.key: is required"));
  EXPECT_THAT(
      err(R"j([{"type": "dedup", "source_id": "logs", "config": {"key": "trace_id", "time_window": "169h"}}])j"),
      HasSubstr("maximum of 7 days"));
  EXPECT_THAT(
      err(R"j([{"type": "dedup", "source_id": "logs", "config": {"key": "trace_id", "time_window": "0s"}}])j"),
      HasSubstr("positive duration"));
  EXPECT_THAT(
      err(R"j([{"type": "dedup", "source_id": "logs", "config": {"key": "nope", "time_window": "1h"}}])j"),
      HasSubstr("transforms[0].config.key"));
  EXPECT_THAT(
      err(R"j([{"type": "stateless", "source_id": "logs", "config": {"transforms": []}}])j"),
      HasSubstr("at least one"));
  EXPECT_THAT(err(R"j([{"type": "stateless", "source_id": "logs", "config": {"transforms": [
      {"expression": "body", "output_name": "", "output_type": "string"}]}}])j"),
              HasSubstr("output_name: is required"));
  EXPECT_THAT(err(R"j([{"type": "stateless", "source_id": "logs", "config": {"transforms": [
      {"expression": "body", "output_name": "b", "output_typ": "string"}]}}])j"),
              HasSubstr("did you mean 'output_type'"));
  EXPECT_THAT(
      err("[" + filter + "]", "body",
          R"j("resources": {"transform": [{"source_id": "logs", "storage": {"size": "1Gi"}}]}, )j"),
      HasSubstr("only allowed with a dedup"));
  EXPECT_EQ(err("[" + filter + "]"), "ok");
}

TEST(PipelineConfig, UnknownKeysAreErrorsWithSuggestions) {
  std::string doc = kGood;
  auto sub = [&](const std::string& from, const std::string& to) {
    doc.replace(doc.find(from), from.size(), to);
  };
  sub("\"max_batch_size\"", "\"max_batch_sise\"");
  sub("\"column_name\"", "\"colum_name\"");
  sub("\"sink\"", "\"sinkk\": {}, \"sink\"");
  sub("\"host\"", "\"hots\"");
  sub("\"version\"", "\"extra_thing_entirely\": 1, \"version\"");
  auto p = ParsePipeline(doc);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "unknown key 'extra_thing_entirely' at the top level\n"
            "unknown key 'sinkk' at the top level; did you mean 'sink'?\n"
            "unknown key 'hots' in sink.connection_params; did you mean 'host'?\n"
            "unknown key 'max_batch_sise' in sink; did you mean 'max_batch_size'?\n"
            "unknown key 'colum_name' in sink.mapping[0]; did you mean 'column_name'?");
  // GlassFlow's own keys (resources, metadata, Kafka-only source keys) are known.
  std::string full = kGood;
  full.replace(full.find("\"sink\""), 6,
               "\"metadata\": {\"tags\": [\"a\"]}, \"resources\": {\"sink\": {\"replicas\": 1}, "
               "\"nats\": {\"stream\": {\"maxAge\": \"24h\"}}}, \"sink\"");
  EXPECT_TRUE(ParsePipeline(full).ok()) << ParsePipeline(full).status();
}

TEST(PipelineConfig, SyntaxErrorsSayWhere) {
  auto p = ParsePipeline("{\n  \"pipeline_id\": \"a-b-c-d\",\n  \"sources\": [],\n}\n");
  EXPECT_EQ(p.status().message(),
            "not valid JSON: line 4, column 1: expected a quoted key after ','");
  p = ParsePipeline("pipeline_id: [a\nsources: x\n");
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("not valid YAML: line "));
  EXPECT_THAT(std::string(p.status().message()), ::testing::Not(HasSubstr("yaml-cpp")));
}

TEST(PipelineConfig, YamlDocumentsLoadLikeJson) {
  auto p = ParsePipeline(R"(version: v3
pipeline_id: otel-logs
sources:
  - type: otlp.logs
    source_id: logs
sink:
  type: clickhouse
  connection_params: {host: ch, port: "9000", database: otel, username: u, password: p}
  table: t
  max_batch_size: 500
  max_delay_time: 1d2h500ms
  mapping:
    - {name: body, column_name: Body, column_type: String}
)");
  ASSERT_TRUE(p.ok()) << p.status();
  // YAML flow style is YAML, not broken JSON.
  auto flow = ParsePipeline(
      "{pipeline_id: otel-logs, sources: [{type: otlp.logs, source_id: l}], sink: {type: "
      "clickhouse, connection_params: {host: ch}, table: t, max_batch_size: 5, mapping: "
      "[{name: body, column_name: Body}]}}",
      DocFormat::kYaml);
  EXPECT_TRUE(flow.ok()) << flow.status();
  auto j = ParsePipeline(kGood);
  EXPECT_EQ(p->id, j->id);
  EXPECT_EQ(p->sink.max_delay, j->sink.max_delay);
  EXPECT_EQ(p->sink.mapping[0].column_name, "Body");
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
