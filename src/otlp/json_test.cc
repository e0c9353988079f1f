#include "otlp/json.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "otlp/fields.h"
#include "otlp/validate.h"

namespace sluice::otlp {
namespace {

std::string FlatOf(Signal s, const std::string& json) {
  std::string proto;
  Status st = JsonToProto(s, json, &proto);
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_TRUE(Validate(s, proto).ok());
  std::string out;
  ForEachRecord(s, proto, [&](const RecordCtx& c) { AppendRecordJson(s, c, &out); });
  return out;
}

TEST(OtlpJson, SameBytesAsTheWireVector) {
  // The otlp-wire.md logs vector, written as OTLP/JSON, must transcode to the same bytes.
  const std::string json =
      R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
    "scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"1","severityNumber":9,"body":{"stringValue":"hi"},
    "attributes":[{"key":"n","value":{"intValue":"-1"}}],"flags":1,"traceId":"0af7651916cd43dd8448eb211c80319c",
    "spanId":"b7ad6b7169203331","eventName":"e"}]}]}]})";
  std::string proto;
  ASSERT_TRUE(JsonToProto(Signal::kLogs, json, &proto).ok());
  EXPECT_EQ(
      absl::BytesToHexString(proto),
      "0a670a150a130a0c736572766963652e6e616d6512030a0161124e0a030a0173124709010000000000000010"
      "092a040a02686932100a016e120b18ffffffffffffffffff0145010000004a100af7651916cd43dd8448eb21"
      "1c80319c5208b7ad6b7169203331620165");
}

TEST(OtlpJson, Leniency) {
  // snake_case keys, numbers for 64-bit ints, enum names, upper-case hex, unknown keys,
  // nulls, NaN as a string.
  const std::string a = FlatOf(Signal::kLogs, R"({"resource_logs":[{"scope_logs":[{"log_records":[
      {"time_unix_nano":1717171717000000000,"severityNumber":"SEVERITY_NUMBER_ERROR","traceId":"0AF7651916CD43DD8448EB211C80319C",
       "futureField":{"x":[1,2]},"body":null,"attributes":[{"key":"d","value":{"doubleValue":"NaN"}}]}]}]}]})");
  EXPECT_NE(a.find(R"("timestamp":"2024-05-31T16:08:37Z")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("severity_number":17)"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("trace_id":"0af7651916cd43dd8448eb211c80319c")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("attributes":{"d":"NaN"})"), std::string::npos) << a;
}

TEST(OtlpJson, IdsInHexOrBase64) {
  // Go's protojson writes ids as base64 (24 or 12 characters, 22 or 11 unpadded); the
  // spec's hex stays the documented form. Both give the same bytes.
  auto proto = [](const std::string& trace, const std::string& span) {
    std::string out;
    Status s =
        JsonToProto(Signal::kTraces,
                    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":")" + trace +
                        R"(","spanId":")" + span + R"(","parentSpanId":")" + span + R"("}]}]}]})",
                    &out);
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  const std::string hex = proto("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
  EXPECT_EQ(proto("CvdlGRbNQ92ESOshHIAxnA==", "t61rcWkgMzE="), hex);
  EXPECT_EQ(proto("CvdlGRbNQ92ESOshHIAxnA", "t61rcWkgMzE"), hex);
  std::string out;
  Status s = JsonToProto(
      Signal::kTraces,
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"CvdlGRbNQ92ESOshHIAx!A=="}]}]}]})",
      &out);
  EXPECT_NE(s.message().find("neither 32 hex digits nor valid base64"), absl::string_view::npos)
      << s;
}

TEST(OtlpJson, RejectedRecordsNameTheirReasons) {
  // A span without a span_id is reported for its span_id, and every reason is counted.
  std::string proto;
  ASSERT_TRUE(JsonToProto(Signal::kTraces, R"({"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"0af7651916cd43dd8448eb211c80319c"},
      {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000000000"},
      {"spanId":"b7ad6b7169203331"},
      {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}]}]}]})",
                          &proto)
                  .ok());
  auto v = Validate(Signal::kTraces, proto);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->records, 1u);
  EXPECT_EQ(v->RejectionMessage(),
            "3 record(s) rejected: span with an invalid span_id (must be 8 bytes, not all zero) "
            "(2); span with an invalid trace_id (must be 16 bytes, not all zero) (1)");
}

TEST(OtlpJson, MetricsShapes) {
  const std::string a =
      FlatOf(Signal::kMetrics, R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[
      {"name":"h","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","dataPoints":[
        {"timeUnixNano":"5","count":"3","bucketCounts":["1",2],"explicitBounds":[0.5],"min":1}]}},
      {"name":"e","exponentialHistogram":{"dataPoints":[{"scale":-2,"positive":{"offset":-1,"bucketCounts":["4"]}}]}}]}]}]})");
  EXPECT_NE(a.find(R"("bucket_counts":[1,2],"explicit_bounds":[0.5])"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("aggregation_temporality":"DELTA")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("min":1,"max":null)"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("scale":-2)"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("positive_offset":-1,"positive_bucket_counts":[4])"), std::string::npos) << a;
}

TEST(OtlpJson, LoneSurrogatesReadAsReplacementCharacters) {
  // What Go's decoder (the Collector's) does; simdjson alone refuses the text.
  const std::string json = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":
      {"stringValue":"a\ud800b\udc00c\ud83d\ude00\\ud800"}}]}]}]})";
  std::string out;
  ASSERT_TRUE(JsonToProto(Signal::kLogs, json, &out).ok());
  EXPECT_NE(out.find("a\xef\xbf\xbd"
                     "b\xef\xbf\xbd"
                     "c\xf0\x9f\x98\x80\\ud800"),
            std::string::npos);
  std::string text = R"(["\\\ud800", "\ud800\u0041", "\udbff\udfff"])";
  EXPECT_TRUE(ReplaceLoneSurrogates(&text));
  EXPECT_EQ(text, R"(["\\\ufffd", "\ufffd\u0041", "\udbff\udfff"])");
  std::string fine = R"({"a":"\\ud800 is not an escape here"})";
  EXPECT_FALSE(ReplaceLoneSurrogates(&fine));
}

TEST(OtlpJson, Errors) {
  std::string out;
  auto bad = [&](const std::string& json) {
    out.clear();
    Status s = JsonToProto(Signal::kTraces, json, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(s.message());
  };
  EXPECT_NE(bad("{").find("invalid JSON"), std::string::npos);
  EXPECT_NE(bad(R"({"resourceSpans":{}})").find("expected an array"), std::string::npos);
  EXPECT_NE(
      bad(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]})").find("traceId"),
      std::string::npos);
  EXPECT_NE(bad(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz00000000000000"}]}]}]})")
                .find("hex"),
            std::string::npos);
  EXPECT_NE(bad(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1.5"}]}]}]})")
                .find("startTimeUnixNano"),
            std::string::npos);
  EXPECT_NE(bad(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]})")
                .find("kind"),
            std::string::npos);
  EXPECT_NE(bad(R"({"resourceSpans":[null]})").find("null inside an array"), std::string::npos);
}

}  // namespace
}  // namespace sluice::otlp
