#include "otlp/fields.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "otlp/validate.h"

namespace sluice::otlp {
namespace {

std::string Unhex(const std::string& hex) { return absl::HexStringToBytes(hex); }

std::vector<std::string> FlattenAll(Signal s, std::string_view req) {
  std::vector<std::string> out;
  ForEachRecord(s, req, [&](const RecordCtx& ctx) {
    std::string j;
    AppendRecordJson(s, ctx, &j);
    out.push_back(j);
  });
  return out;
}

// Test vectors from the OTLP wire reference (produced with protoc --encode).
TEST(Flatten, LogsVector) {
  std::string req = Unhex(
      "0a670a150a130a0c736572766963652e6e616d6512030a0161124e0a030a0173124709010000000000000010"
      "092a040a02686932100a016e120b18ffffffffffffffffff0145010000004a100af7651916cd43dd8448eb21"
      "1c80319c5208b7ad6b7169203331620165");
  auto v = Validate(Signal::kLogs, req);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 1u);
  EXPECT_EQ(v->rejected, 0u);
  auto recs = FlattenAll(Signal::kLogs, req);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(
      recs[0],
      R"({"timestamp":"1970-01-01T00:00:00.000000001Z","observed_timestamp":"1970-01-01T00:00:00Z",)"
      R"("severity_number":9,"severity_text":"","body":"hi",)"
      R"("trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","flags":1,)"
      R"("dropped_attributes_count":0,"resource_attributes":{"service.name":"a"},"scope_name":"s",)"
      R"("scope_attributes":{},"attributes":{"n":"-1"},"event_name":"e","resource_schema_url":"",)"
      R"("resource_dropped_attributes_count":0,"scope_schema_url":"","scope_dropped_attributes_count":0})");
}

TEST(Flatten, TraceVectorTwoByteTag) {
  std::string req = Unhex(
      "0a41123f123d0a100af7651916cd43dd8448eb211c80319c1208b7ad6b71692033312a01783002390100000000"
      "0000004102000000000000007a021802850101030000");
  auto v = Validate(Signal::kTraces, req);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 1u);
  auto recs = FlattenAll(Signal::kTraces, req);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(
      recs[0],
      R"({"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","flags":769,)"
      R"("name":"x","kind":"SERVER","start_timestamp":"1970-01-01T00:00:00.000000001Z",)"
      R"("end_timestamp":"1970-01-01T00:00:00.000000002Z","duration_ns":1,"status_code":"ERROR",)"
      R"("dropped_attributes_count":0,"dropped_events_count":0,"dropped_links_count":0,"events":[],)"
      R"("links":[],"resource_attributes":{},"scope_name":"","scope_attributes":{},"attributes":{},)"
      R"("resource_schema_url":"","resource_dropped_attributes_count":0,"scope_schema_url":"",)"
      R"("scope_dropped_attributes_count":0})");
}

TEST(Flatten, HistogramPackedAndUnpackedAgree) {
  std::string packed = Unhex(
      "0a44124212400a01684a3b0a3719020000000000000021030000000000000029000000000000f83f32100100"
      "00000000000002000000000000003a08000000000000e03f1002");
  auto recs = FlattenAll(Signal::kMetrics, packed);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_NE(recs[0].find(R"("bucket_counts":[1,2],"explicit_bounds":[0.5])"), std::string::npos)
      << recs[0];
  EXPECT_NE(recs[0].find(R"("metric_type":"histogram","aggregation_temporality":"CUMULATIVE")"),
            std::string::npos);
  EXPECT_NE(recs[0].find(R"("count":3,"sum":1.5,"min":null,"max":null)"), std::string::npos);
}

TEST(Validate, RejectsTruncated) {
  std::string req = Unhex("0a670a150a13");
  EXPECT_FALSE(Validate(Signal::kLogs, req).ok());
}

TEST(Validate, EmptyRequestIsValid) {
  auto v = Validate(Signal::kLogs, "");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->records, 0u);
}

}  // namespace
}  // namespace sluice::otlp
