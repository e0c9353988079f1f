#include "pipeline/batch_encoder.h"

#include <gtest/gtest.h>

#include "otlp/json.h"

namespace sluice::pipeline {
namespace {

std::string Proto(Signal s, const std::string& json) {
  std::string out;
  EXPECT_TRUE(otlp::JsonToProto(s, json, &out).ok());
  return out;
}

clickhouse::InsertPlan Plan(Signal s, const std::string& describe,
                            std::vector<clickhouse::MappingEntry> mapping) {
  auto cols = clickhouse::ParseDescribe(describe);
  auto plan = clickhouse::BuildPlan(s, mapping, *cols, "db", "t");
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

TEST(BatchEncoder, CutsBatchesAtMaxRows) {
  std::string logs = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  for (int i = 0; i < 5; ++i)
    logs += std::string(i ? "," : "") + R"({"body":{"stringValue":"r)" + std::to_string(i) + "\"}}";
  logs += "]}]}]}";
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {Plan(Signal::kLogs, "Body\tString\n", {{"body", "Body", "String"}})};
  std::vector<Batch> batches(1);
  std::vector<std::string> flushed;
  auto stats =
      EncodeRequest(Signal::kLogs, routes, Proto(Signal::kLogs, logs), 2, batches, [&](Batch* b) {
        flushed.push_back(b->rows);
        EXPECT_EQ(b->row_count, 2u);
        b->rows.clear();
        b->row_count = 0;
      });
  EXPECT_EQ(stats.rows, 5u);
  ASSERT_EQ(flushed.size(), 2u);
  EXPECT_EQ(flushed[0], std::string("\x02r0\x02r1"));
  EXPECT_EQ(flushed[1], std::string("\x02r2\x02r3"));
  EXPECT_EQ(batches[0].rows, std::string("\x02r4"));
  EXPECT_EQ(batches[0].row_count, 1u);
}

TEST(BatchEncoder, RejectsOnlyTheRowThatCannotBeConverted) {
  const std::string logs = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"body":{"stringValue":"1"}},{"body":{"stringValue":"x"}},{"body":{"intValue":"3"}}]}]}]})";
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {Plan(Signal::kLogs, "N\tUInt8\nS\tString\n",
                       {{"severity_text", "S", ""}, {"body", "N", "UInt8"}})};
  std::vector<Batch> batches(1);
  auto stats =
      EncodeRequest(Signal::kLogs, routes, Proto(Signal::kLogs, logs), 100, batches, [](Batch*) {});
  EXPECT_EQ(stats.rows, 2u);
  EXPECT_EQ(stats.rejected, 1u);
  // The dead letter's reason names the record, the column, the field and the value.
  EXPECT_EQ(stats.first_error,
            "record 1: column 'N' from 'body': 'x' is not a number (column type UInt8)");
  EXPECT_EQ(batches[0].rows, std::string("\x00\x01\x00\x03", 4));  // the bad row rolled back
}

TEST(BatchEncoder, RoutesMetricsByType) {
  const std::string metrics = R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[
      {"name":"g","gauge":{"dataPoints":[{"asDouble":1},{"asDouble":2}]}},
      {"name":"s","sum":{"dataPoints":[{"asInt":"3"}]}},
      {"name":"q","summary":{"dataPoints":[{"count":"1"}]}}]}]}]})";
  Routes routes;
  routes.tables = {"gauge", "sum"};
  auto plan = Plan(Signal::kMetrics, "Name\tString\n", {{"metric_name", "Name", "String"}});
  routes.plans = {plan, plan};
  routes.by_kind[1] = 0;   // gauge
  routes.by_kind[2] = 1;   // sum
  routes.by_kind[5] = -1;  // summary: no table
  std::vector<Batch> batches(2);
  auto stats = EncodeRequest(Signal::kMetrics, routes, Proto(Signal::kMetrics, metrics), 100,
                             batches, [](Batch*) {});
  EXPECT_EQ(stats.rows, 3u);
  EXPECT_EQ(stats.unrouted, 1u);
  EXPECT_EQ(batches[0].rows, std::string("\x01g\x01g"));
  EXPECT_EQ(batches[1].rows, std::string("\x01s"));
}

}  // namespace
}  // namespace sluice::pipeline

namespace sluice::pipeline {
namespace {

TEST(BatchEncoder, TracksRowSourcesAndReportsRejects) {
  const std::string logs = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"body":{"stringValue":"1"}},{"body":{"stringValue":"x"}},{"body":{"intValue":"3"}}]}]}]})";
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {Plan(Signal::kLogs, "N\tUInt8\n", {{"body", "N", "UInt8"}})};
  std::vector<Batch> batches(1);
  auto source = std::make_shared<const std::string>(Proto(Signal::kLogs, logs));
  std::vector<std::string> rejected;
  EncodeRequest(
      Signal::kLogs, routes, *source, 100, batches, [](Batch*) {}, 7, source,
      [&](const otlp::RecordCtx& ctx, uint32_t, const Status& why) {
        std::string j;
        otlp::AppendRecordJson(Signal::kLogs, ctx, &j);
        rejected.push_back(j);
      });
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find(R"("body":"x")"), std::string::npos);
  const Batch& b = batches[0];
  EXPECT_EQ(b.first, (Position{7, 0}));
  ASSERT_EQ(b.refs.size(), 2u);
  ASSERT_EQ(b.sources.size(), 1u);
  EXPECT_EQ(b.refs[0].offset, 0u);
  EXPECT_EQ(b.refs[1].offset, 1u);
  EXPECT_EQ(b.refs[1].record, 2u);  // the third record of the request
  EXPECT_NE(RecordJson(Signal::kLogs, *b.sources[0], b.refs[1].record).find(R"("body":"3")"),
            std::string::npos);
  // The batch's identity: entry 7, records 0..2 (record 1 was rejected).
  EXPECT_EQ(DedupToken("p", "t", b, 0, 2), "p:t:7.0-7.2");
  EXPECT_EQ(DedupToken("p", "t", b, 1, 2), "p:t:7.0-7.2:1-2");
}

}  // namespace
}  // namespace sluice::pipeline

namespace sluice::pipeline {
namespace {

// A restart rebuilds the batches that may be unconfirmed with exactly the rows they had,
// even when the original cuts came from the clock, and skips rows of confirmed batches.
TEST(BatchEncoder, ReplaysJournaledCutsAfterARestart) {
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {Plan(Signal::kLogs, "Body\tString\n", {{"body", "Body", "String"}})};
  std::vector<std::string> requests;  // entry seq i+1
  for (int r = 0; r < 6; ++r) {
    std::string logs = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
    for (int i = 0; i < 4; ++i)
      logs += std::string(i ? "," : "") + R"({"body":{"stringValue":"e)" + std::to_string(r) + "r" +
              std::to_string(i) + "\"}}";
    requests.push_back(Proto(Signal::kLogs, logs + "]}]}]}"));
  }
  struct Sent {
    std::string rows;
    Position first, last;
    bool replayed;
  };
  std::vector<Sent> sent;
  std::vector<Cut> journal;
  auto flush = [&](Batch* b) {
    sent.push_back({b->rows, b->first, b->last, b->replayed});
    if (!b->replayed) journal.push_back({"t", b->first, b->last, b->row_count});
    b->Clear();
  };
  // First run: size cuts at 3 rows, plus a "time" cut after entry 2.
  std::vector<Batch> batches(1);
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    EncodeRequest(Signal::kLogs, routes, requests[seq - 1], 3, batches, flush, seq);
    if (seq == 2) flush(&batches[0]);
  }
  ASSERT_EQ(sent.size(), 8u);  // 1.0-1.2 1.3-2.1 2.2-2.3 | 3.0-3.2 3.3-4.1 4.2-5.0 5.1-5.3 6.0-6.2
  EXPECT_EQ(sent[2].first, (Position{2, 2}));
  EXPECT_EQ(sent[2].last, (Position{2, 3}));
  EXPECT_EQ(sent[4].first, (Position{3, 3}));
  EXPECT_EQ(sent[4].last, (Position{4, 1}));
  EXPECT_EQ(batches[0].row_count, 1u);  // 6.3, open at the "crash": never journaled
  // Say batches up to 3.3-4.1 were confirmed and 4.2-5.0 on were not: the checkpoint is 4,
  // and 3.3-4.1 straddles it.
  const std::vector<Sent> original = sent;
  sent.clear();
  ReplayPlan plan(journal, routes.tables, 4);
  std::vector<Batch> again(1);
  uint64_t skipped = 0;
  for (uint64_t seq = 4; seq <= 6; ++seq) {  // a different size limit: the plan decides
    auto st = EncodeRequest(Signal::kLogs, routes, requests[seq - 1], 1000, again, flush, seq,
                            nullptr, nullptr, &plan);
    skipped += st.skipped;
  }
  EXPECT_EQ(skipped, 2u);  // 4.0 and 4.1 went out in a confirmed batch
  ASSERT_EQ(sent.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sent[i].rows, original[5 + i].rows) << i;
    EXPECT_EQ(sent[i].first, original[5 + i].first) << i;
    EXPECT_EQ(sent[i].last, original[5 + i].last) << i;
    EXPECT_TRUE(sent[i].replayed) << i;
  }
  EXPECT_EQ(again[0].row_count, 1u);  // 6.3 again, now an ordinary batch
  EXPECT_FALSE(again[0].replayed);
  EXPECT_FALSE(plan.Holds(0));

  // The same replay with the entry that starts a planned batch quarantined (not encoded):
  // the rebuilt batch keeps the journaled first row as its identity, so the checkpoint
  // stays below it until the batch is confirmed.
  sent.clear();
  ReplayPlan plan2(journal, routes.tables, 4);
  std::vector<Batch> third(1);
  for (uint64_t seq = 5; seq <= 6; ++seq)  // entry 4 went to the dead-letter queue
    EncodeRequest(Signal::kLogs, routes, requests[seq - 1], 1000, third, flush, seq, nullptr,
                  nullptr, &plan2);
  ASSERT_GE(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, (Position{4, 2}));  // as journaled, though its first row is 5.0
  EXPECT_EQ(sent[0].last, (Position{5, 0}));
  EXPECT_TRUE(sent[0].replayed);
}

}  // namespace
}  // namespace sluice::pipeline

namespace sluice::pipeline {
namespace {

// Resource- and scope-level columns are encoded once per envelope: each record still gets
// its own envelope's values.
TEST(BatchEncoder, EnvelopeColumnsFollowTheirEnvelope) {
  const std::string logs = R"({"resourceLogs":[
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
     "scopeLogs":[{"scope":{"name":"s1"},"logRecords":[{"body":{"stringValue":"1"}},{"body":{"stringValue":"2"}}]},
                  {"scope":{"name":"s2"},"logRecords":[{"body":{"stringValue":"3"}}]}]},
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bb"}}]},
     "scopeLogs":[{"scope":{"name":"s1"},"logRecords":[{"body":{"stringValue":"4"}}]}]},
    {"scopeLogs":[{"logRecords":[{"body":{"stringValue":"5"}}]}]}]})";
  Routes routes;
  routes.tables = {"t"};
  routes.plans = {Plan(Signal::kLogs, "Svc\tString\nScope\tString\nBody\tString\n",
                       {{"resource_attributes.service.name", "Svc", ""},
                        {"scope_name", "Scope", ""},
                        {"body", "Body", ""}})};
  std::vector<Batch> batches(1);
  for (int round = 0; round < 2; ++round) {  // the second request reuses the cache
    batches[0].Clear();
    EncodeRequest(Signal::kLogs, routes, Proto(Signal::kLogs, logs), 100, batches, [](Batch*) {});
    EXPECT_EQ(batches[0].rows, std::string("\x01"
                                           "a\x02s1\x01"
                                           "1"
                                           "\x01"
                                           "a\x02s1\x01"
                                           "2"
                                           "\x01"
                                           "a\x02s2\x01"
                                           "3"
                                           "\x02"
                                           "bb\x02s1\x01"
                                           "4"
                                           "\x00\x00\x01"
                                           "5",
                                           33))
        << round;
  }
}

}  // namespace
}  // namespace sluice::pipeline
