#include "loadgen/requests.h"

#include <gtest/gtest.h>

#include <set>

#include "otlp/fields.h"
#include "otlp/request.h"

namespace sluice::loadgen {
namespace {

// The flattened records of a request body, as Sluice sees them.
std::vector<std::string> Flatten(Signal s, const std::string& body, bool json) {
  auto d = otlp::DecodeRequest(s, body, json);
  EXPECT_TRUE(d.ok()) << d.status();
  std::vector<std::string> out;
  if (!d.ok()) return out;
  EXPECT_EQ(d->result.rejected, 0u);
  otlp::ForEachRecord(s, d->proto, [&](const otlp::RecordCtx& ctx) {
    std::string j;
    otlp::AppendRecordJson(s, ctx, &j);
    out.push_back(j);
  });
  return out;
}

class Requests : public ::testing::TestWithParam<Signal> {};

TEST_P(Requests, ValidWithUniqueIdsAndTheSameRecordsInJsonAndProtobuf) {
  const Signal s = GetParam();
  auto proto = RequestTemplate::Build(s, Encoding::kProtobuf, 95, 3);
  auto json = RequestTemplate::Build(s, Encoding::kJson, 95, 3);
  ASSERT_EQ(proto.records(), 95u);
  ASSERT_EQ(json.records(), 95u);
  auto a = Flatten(s, proto.Stamp(0xbeef, 7, 1000), false);
  auto b = Flatten(s, json.Stamp(0xbeef, 7, 1000), true);
  ASSERT_EQ(a.size(), 95u);
  EXPECT_EQ(a, b);  // OTLP/JSON (hex ids, integer enums) carries exactly the same data
  std::set<std::string> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string id = RecordId(0xbeef, 7, 1000 + i);
    EXPECT_NE(a[i].find("\"loadgen.id\":\"" + id + "\""), std::string::npos) << a[i];
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 95u);
  // Stamping again moves every id on, in place.
  auto c = Flatten(s, proto.Stamp(0xbeef, 7, 1095), false);
  EXPECT_NE(c[0].find(RecordId(0xbeef, 7, 1095)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AllSignals, Requests,
                         ::testing::Values(Signal::kLogs, Signal::kTraces, Signal::kMetrics));

TEST(Requests, LogsLookLikeRealLogs) {
  auto t = RequestTemplate::Build(Signal::kLogs, Encoding::kProtobuf, 1000, 0);
  const double per_record = static_cast<double>(t.body().size()) / 1000.0;
  EXPECT_GT(per_record, 450);  // 100-400 byte bodies, 8 attributes, ids, times
  EXPECT_LT(per_record, 650);
  // The benchmark's "about 300 B" log records: 20-80 byte bodies.
  auto small = RequestTemplate::Build(Signal::kLogs, Encoding::kProtobuf, 1000, 0, {20, 80});
  const double small_record = static_cast<double>(small.body().size()) / 1000.0;
  EXPECT_GT(small_record, 280);
  EXPECT_LT(small_record, 360);
  EXPECT_EQ(RecordId(1, 2, 3), "0001-0002-000000000003");
}

}  // namespace
}  // namespace sluice::loadgen
