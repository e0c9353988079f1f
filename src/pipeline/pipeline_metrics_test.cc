#include "pipeline/pipeline_metrics.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

TEST(RequestMetrics, SlotsAndLabels) {
  using R = RequestMetrics;
  EXPECT_EQ(R::StatusLabel(Transport::kHttp, R::Slot(Transport::kHttp, 200)), "200");
  EXPECT_EQ(R::StatusLabel(Transport::kHttp, R::Slot(Transport::kHttp, 429)), "429");
  EXPECT_EQ(R::StatusLabel(Transport::kHttp, R::Slot(Transport::kHttp, 503)), "503");
  EXPECT_EQ(R::StatusLabel(Transport::kHttp, R::Slot(Transport::kHttp, 418)), "other");
  EXPECT_EQ(R::StatusLabel(Transport::kGrpc, R::Slot(Transport::kGrpc, 0)), "OK");
  EXPECT_EQ(R::StatusLabel(Transport::kGrpc, R::Slot(Transport::kGrpc, 14)), "UNAVAILABLE");
  EXPECT_EQ(R::StatusLabel(Transport::kGrpc, R::Slot(Transport::kGrpc, 16)), "UNAUTHENTICATED");
  EXPECT_EQ(R::StatusLabel(Transport::kGrpc, R::Slot(Transport::kGrpc, 99)), "UNKNOWN");
  EXPECT_EQ(R::StatusLabel(Transport::kGrpc, R::Slot(Transport::kGrpc, -1)), "UNKNOWN");
}

TEST(RequestMetrics, RecordCountsRequestsRecordsAndDurations) {
  RequestMetrics m;
  m.Record(Transport::kHttp, 200, 0.002, 10, 1);
  m.Record(Transport::kHttp, 200, 0.5, 5, 0);
  m.Record(Transport::kGrpc, 14, 0.001, 0, 7);
  const size_t ok = RequestMetrics::Slot(Transport::kHttp, 200);
  EXPECT_EQ(m.requests(Transport::kHttp, ok), 2u);
  EXPECT_EQ(m.accepted(Transport::kHttp), 15u);
  EXPECT_EQ(m.refused(Transport::kHttp), 1u);
  EXPECT_EQ(m.refused(Transport::kGrpc), 7u);
  EXPECT_EQ(m.requests(Transport::kGrpc, 14), 1u);
  EXPECT_DOUBLE_EQ(m.durations(Transport::kHttp, ok).sum(), 0.502);
  EXPECT_EQ(m.durations(Transport::kHttp, ok).bucket(2), 1u);  // 0.002 <= 0.0025
  EXPECT_EQ(m.durations(Transport::kHttp, ok).bucket(9), 1u);  // 0.5 <= 0.5
}

TEST(PipelineMetrics, DeadLettersByReason) {
  PipelineMetrics m;
  m.DeadLettered("schema_mismatch");
  m.DeadLettered("sink_rejection_53");
  m.DeadLettered("schema_mismatch");
  auto d = m.dead_letters();
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d["schema_mismatch"], 2u);
  EXPECT_EQ(d["sink_rejection_53"], 1u);
  m.Retried(RetryClass::kPressure);
  EXPECT_EQ(m.retries(RetryClass::kPressure), 1u);
  EXPECT_EQ(m.retries(RetryClass::kConnection), 0u);
}

}  // namespace
}  // namespace sluice::pipeline
