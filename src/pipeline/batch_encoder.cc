#include "pipeline/batch_encoder.h"

namespace sluice::pipeline {

EncodeStats EncodeRequest(Signal signal, const Routes& routes, std::string_view request,
                          size_t max_rows, std::vector<Batch>& batches,
                          const std::function<void(Batch*)>& flush, uint64_t seq) {
  EncodeStats stats;
  otlp::ForEachRecord(signal, request, [&](const otlp::RecordCtx& ctx) {
    const int route = routes.RouteOf(ctx);
    if (route < 0) {
      ++stats.unrouted;
      return;
    }
    Batch* batch = &batches[route];
    batch->route = static_cast<size_t>(route);
    const clickhouse::InsertPlan& plan = routes.plans[route];
    const size_t row_start = batch->rows.size();
    ByteWriter w(&batch->rows);
    for (const clickhouse::ColumnBinding& b : plan.columns) {
      Status s = clickhouse::EncodeBinding(b, ctx, w);
      if (!s.ok()) {
        batch->rows.resize(row_start);
        if (stats.rejected++ == 0) stats.first_error = std::string(s.message());
        return;
      }
    }
    if (batch->row_count == 0) batch->min_seq = seq;
    ++batch->row_count;
    ++stats.rows;
    if (batch->row_count >= max_rows) flush(batch);
  });
  return stats;
}

}  // namespace sluice::pipeline
