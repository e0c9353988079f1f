// The worst request shapes at the size limit, through every step a request takes: the
// receiver's validation (and canonicalization), the OTLP/JSON transcoder, the worker's
// encoding into rows for maps and Nested columns, and the flattening for the dead-letter
// queue. Each step must be linear in the request's size: these shapes took from seconds to
// hours when one of them was quadratic (a million attributes de-duplicated by a scan, a
// length inserted in place at every nesting level). The bounds are a hundred times what a
// linear pass takes, and far below what a quadratic one does.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

#include "core/cat.h"
#include "otlp/fields_testing.h"
#include "otlp/json.h"
#include "otlp/request.h"
#include "otlp/validate.h"
#include "otlp/wire.h"
#include "pipeline/batch_encoder.h"

namespace sluice::pipeline {
namespace {

using otlp::kLen;
using otlp::PutTag;
using otlp::PutVarint;

constexpr size_t kLimit = 16u << 20;  // the size of each request built here
#if defined(__SANITIZE_ADDRESS__)
constexpr double kBoundSeconds = 120;  // sanitizers make every step several times slower
#else
constexpr double kBoundSeconds = 20;
#endif

std::string Len(uint32_t field, std::string_view v) { return otlp::testing::LenField(field, v); }
std::string Str(std::string_view s) { return Len(1, s); }  // AnyValue.string_value
std::string KeyValue(std::string_view k, std::string_view v) { return Len(1, k) + Len(2, Str(v)); }

// ExportLogsServiceRequest{resource_logs{resource_fields..., scope_logs{log_records{rec}}}}
std::string LogsRequest(std::string_view resource_fields, std::string_view record) {
  return Len(1, std::string(resource_fields) + Len(2, Len(2, record)));
}

double Seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Routes LogRoutes(bool nested) {
  const std::string describe =
      nested
          ? "Body\tString\nLogAttributes.key\tArray(String)\nLogAttributes.value\tArray(String)\n"
            "ResourceAttributes.key\tArray(String)\nResourceAttributes.value\tArray(String)\n"
          : "Body\tString\nLogAttributes\tMap(String, String)\n"
            "ResourceAttributes\tMap(String, String)\n";
  auto cols = clickhouse::ParseDescribe(describe);
  auto plan = clickhouse::BuildPlan(Signal::kLogs,
                                    {{"body", "Body", ""},
                                     {"attributes", "LogAttributes", ""},
                                     {"resource_attributes", "ResourceAttributes", ""}},
                                    *cols, "db", "t");
  EXPECT_TRUE(plan.ok()) << plan.status();
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {*plan};
  return routes;
}

// Everything the server does with an accepted logs request, each step timed.
void AllSteps(const std::string& request, std::string_view what, uint64_t want_rows = 1) {
  SCOPED_TRACE(what);
  ASSERT_LE(request.size(), kLimit + 1024);
  StatusOr<otlp::DecodedRequest> d = absl::UnknownError("");
  const double validate = Seconds([&] { d = otlp::DecodeRequest(Signal::kLogs, request, false); });
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->result.records, want_rows);
  EXPECT_LT(validate, kBoundSeconds) << "validate";
  for (bool nested : {false, true}) {
    Routes routes = LogRoutes(nested);
    std::vector<Batch> batches(1);
    EncodeStats st;
    const double encode = Seconds([&] {
      st = EncodeRequest(Signal::kLogs, routes, d->proto, 1000000, batches, [](Batch*) {});
    });
    EXPECT_EQ(st.rows + st.rejected, want_rows);
    EXPECT_LT(encode, kBoundSeconds) << "encode, nested=" << nested;
  }
  std::string json;
  const double flatten = Seconds([&] { json = RecordJson(Signal::kLogs, d->proto, 0); });
  EXPECT_FALSE(json.empty());
  EXPECT_LT(flatten, kBoundSeconds) << "flatten for the dead-letter queue";
}

TEST(WorstShapes, OneRecordWithAMillionDistinctAttributes) {
  std::string attrs;
  for (int i = 0; attrs.size() < kLimit - 64; ++i) attrs += Len(6, KeyValue(Cat("k", i), "v"));
  AllSteps(LogsRequest("", Len(5, Str("body")) + attrs), "1M attributes");
}

TEST(WorstShapes, RepeatedResourceMessagesMergedIntoOne) {
  // 200,000+ occurrences of the singular `resource`, each with one more attribute: the
  // receiver merges them (protobuf semantics) into one resource with all the attributes.
  std::string resources;
  for (int i = 0; resources.size() < kLimit - 64; ++i)
    resources += Len(1, Len(1, KeyValue(Cat("r", i), "v")));
  AllSteps(LogsRequest(resources, Len(5, Str("body"))), "repeated resources");
}

TEST(WorstShapes, KvlistBodyWithHalfAMillionEntries) {
  std::string list;
  for (int i = 0; list.size() < kLimit - 64; ++i) list += Len(1, KeyValue(Cat("k", i), "v"));
  AllSteps(LogsRequest("", Len(5, Len(6, list))), "kvlist body");
}

// AnyValue{array_value{values: AnyValue{...}}} nested `levels` times around `leaf`.
std::string NestedArrays(int levels, const std::string& leaf) {
  // Built inside out with one buffer per level would be quadratic here too: build the
  // prefix of tags and lengths once, since every length is known from the inside out.
  std::vector<std::string> heads;
  size_t inner = leaf.size();
  for (int i = 0; i < levels; ++i) {
    // AnyValue.array_value (5) { ArrayValue.values (1) { inner } }
    std::string values_head, any_head;
    PutTag(1, kLen, &values_head);
    PutVarint(inner, &values_head);
    const size_t array_len = values_head.size() + inner;
    PutTag(5, kLen, &any_head);
    PutVarint(array_len, &any_head);
    heads.push_back(any_head + values_head);
    inner = any_head.size() + array_len;
  }
  std::string out;
  out.reserve(inner);
  for (size_t i = heads.size(); i-- > 0;) out += heads[i];
  out += leaf;
  return out;
}

TEST(WorstShapes, DeeplyNestedBodyWithALargeLeaf) {
  // 4,990 arrays are 9,980 nested messages under the body (the request adds 4 more):
  // within Go's 10,000, so accepted.
  const std::string body = NestedArrays(4990, Str(std::string(kLimit - 200000, 'x')));
  const std::string request = LogsRequest("", Len(5, body));
  AllSteps(request, "deep body");
  // The same, with the body given twice: the request is canonicalized (merged), which must
  // stay linear as well.
  AllSteps(LogsRequest("", Len(5, Str("first")) + Len(5, body)), "deep body, canonicalized");
}

TEST(WorstShapes, NestingPastTheLimitIsRefusedWithoutCrashing) {
  const std::string request = LogsRequest("", Len(5, NestedArrays(5100, Str("leaf"))));
  auto d = otlp::DecodeRequest(Signal::kLogs, request, false);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("nesting"), std::string::npos) << d.status();
}

TEST(WorstShapes, DeeplyNestedJson) {
  // OTLP/JSON of the same shape: 4,990 arrays around a large string.
  std::string json = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)";
  for (int i = 0; i < 4990; ++i) json += R"({"arrayValue":{"values":[)";
  json += R"({"stringValue":")" + std::string(kLimit - 500000, 'y') + "\"}";
  for (int i = 0; i < 4990; ++i) json += "]}}";
  json += "}]}]}]}";
  std::string proto;
  const double t =
      Seconds([&] { ASSERT_TRUE(otlp::JsonToProto(Signal::kLogs, json, &proto).ok()); });
  EXPECT_LT(t, kBoundSeconds);
  // The protobuf is what the binary path builds for the same value.
  EXPECT_EQ(proto,
            LogsRequest("", Len(5, NestedArrays(4990, Str(std::string(kLimit - 500000, 'y'))))));
  AllSteps(proto, "deep JSON");
}

TEST(WorstShapes, ManyRecordsWithAttributes) {
  // The shape of a large ordinary request: 100,000 records of 16 attributes each.
  std::string records;
  std::string attrs;
  for (int a = 0; a < 16; ++a) attrs += Len(6, KeyValue("attribute." + std::to_string(a), "v"));
  const std::string record = Len(2, Len(5, Str("body")) + attrs);
  std::string scope;
  int n = 0;
  for (; scope.size() + record.size() < kLimit - 64; ++n) scope += record;
  AllSteps(Len(1, Len(2, scope)), "many records", static_cast<uint64_t>(n));
}

}  // namespace
}  // namespace sluice::pipeline
