#include "otlp/extract.h"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/fields.h"

namespace sluice::otlp {
namespace {

namespace pb = opentelemetry::proto;

// Two resources with two scopes each, three records per scope: every record comes back
// alone with its own resource and scope, in ForEachRecord's numbering.
TEST(ExtractRecord, LogsKeepTheirEnvelopes) {
  pb::collector::logs::v1::ExportLogsServiceRequest req;
  int n = 0;
  for (int r = 0; r < 2; ++r) {
    auto* rl = req.add_resource_logs();
    rl->set_schema_url("res-schema-" + std::to_string(r));
    auto* a = rl->mutable_resource()->add_attributes();
    a->set_key("service.name");
    a->mutable_value()->set_string_value("svc-" + std::to_string(r));
    for (int s = 0; s < 2; ++s) {
      auto* sl = rl->add_scope_logs();
      sl->mutable_scope()->set_name("scope-" + std::to_string(r) + std::to_string(s));
      sl->set_schema_url("scope-schema");
      for (int i = 0; i < 3; ++i)
        sl->add_log_records()->mutable_body()->set_string_value(std::to_string(n++));
    }
  }
  const std::string bytes = req.SerializeAsString();
  for (int i = 0; i < n; ++i) {
    pb::collector::logs::v1::ExportLogsServiceRequest one;
    ASSERT_TRUE(one.ParseFromString(ExtractRecord(Signal::kLogs, bytes, i))) << i;
    ASSERT_EQ(one.resource_logs_size(), 1);
    const auto& rl = one.resource_logs(0);
    ASSERT_EQ(rl.scope_logs_size(), 1);
    ASSERT_EQ(rl.scope_logs(0).log_records_size(), 1);
    EXPECT_EQ(rl.scope_logs(0).log_records(0).body().string_value(), std::to_string(i));
    EXPECT_EQ(rl.resource().attributes(0).value().string_value(), "svc-" + std::to_string(i / 6));
    EXPECT_EQ(rl.schema_url(), "res-schema-" + std::to_string(i / 6));
    EXPECT_EQ(rl.scope_logs(0).scope().name(),
              "scope-" + std::to_string(i / 6) + std::to_string(i / 3 % 2));
    EXPECT_EQ(rl.scope_logs(0).schema_url(), "scope-schema");
  }
  EXPECT_EQ(ExtractRecord(Signal::kLogs, bytes, n), "");
  EXPECT_EQ(ExtractRecord(Signal::kLogs, "", 0), "");
}

// Invalid spans are not delivered, so they are not counted either.
TEST(ExtractRecord, SpansCountOnlyDeliveredOnes) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  auto span = [&](const std::string& name, bool valid) {
    auto* s = ss->add_spans();
    s->set_name(name);
    if (valid) {
      s->set_trace_id(std::string(16, '\x01'));
      s->set_span_id(std::string(8, '\x02'));
    }
  };
  span("a", true);
  span("broken", false);
  span("b", true);
  const std::string bytes = req.SerializeAsString();
  pb::collector::trace::v1::ExportTraceServiceRequest one;
  ASSERT_TRUE(one.ParseFromString(ExtractRecord(Signal::kTraces, bytes, 1)));
  EXPECT_EQ(one.resource_spans(0).scope_spans(0).spans(0).name(), "b");
  EXPECT_EQ(ExtractRecord(Signal::kTraces, bytes, 2), "");
}

// A data point comes back inside its metric (name, unit, the Sum's temporality and
// monotonicity), alone.
TEST(ExtractRecord, PointsKeepTheirMetric) {
  pb::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* g = sm->add_metrics();
  g->set_name("g");
  g->mutable_gauge()->add_data_points()->set_as_double(1);
  g->mutable_gauge()->add_data_points()->set_as_double(2);
  auto* s = sm->add_metrics();
  s->set_name("s");
  s->set_unit("By");
  s->mutable_sum()->set_is_monotonic(true);
  s->mutable_sum()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  s->mutable_sum()->add_data_points()->set_as_int(7);
  s->mutable_sum()->add_data_points()->set_as_int(8);
  const std::string bytes = req.SerializeAsString();
  pb::collector::metrics::v1::ExportMetricsServiceRequest one;
  ASSERT_TRUE(one.ParseFromString(ExtractRecord(Signal::kMetrics, bytes, 3)));
  const auto& m = one.resource_metrics(0).scope_metrics(0).metrics(0);
  EXPECT_EQ(m.name(), "s");
  EXPECT_EQ(m.unit(), "By");
  ASSERT_TRUE(m.has_sum());
  EXPECT_TRUE(m.sum().is_monotonic());
  EXPECT_EQ(m.sum().aggregation_temporality(), pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(m.sum().data_points_size(), 1);
  EXPECT_EQ(m.sum().data_points(0).as_int(), 8);
  ASSERT_TRUE(one.ParseFromString(ExtractRecord(Signal::kMetrics, bytes, 1)));
  EXPECT_EQ(one.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0).as_double(),
            2);
  // The extracted request flattens to the same record as the original's.
  uint32_t i = 0;
  std::string want, got;
  ForEachRecord(Signal::kMetrics, bytes, [&](const RecordCtx& ctx) {
    if (i++ == 3) AppendRecordJson(Signal::kMetrics, ctx, &want);
  });
  ForEachRecord(Signal::kMetrics, ExtractRecord(Signal::kMetrics, bytes, 3),
                [&](const RecordCtx& ctx) { AppendRecordJson(Signal::kMetrics, ctx, &got); });
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace sluice::otlp
