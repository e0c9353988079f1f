// Turns OTLP requests into RowBinary row bytes for one pipeline's insert plan.
// Not thread-safe: owned by the pipeline's worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "clickhouse/insert_plan.h"
#include "core/signal.h"

namespace sluice::pipeline {

struct Batch {
  std::string rows;  // RowBinary
  uint64_t row_count = 0;
  size_t route = 0;      // which table / insert plan
  uint64_t min_seq = 0;  // log sequence number of the entry of the first row
};

// The tables a pipeline writes to: one, or one per metric type.
struct Routes {
  std::vector<std::string> tables;
  std::vector<clickhouse::InsertPlan> plans;  // parallel to tables
  int by_kind[6] = {0, 0, 0, 0, 0, 0};        // otlp::MetricKind -> route, -1: none
  // Route of a record, or -1 when no table takes it.
  int RouteOf(const otlp::RecordCtx& ctx) const {
    return ctx.metric ? by_kind[static_cast<int>(ctx.metric->kind)] : 0;
  }
};

struct EncodeStats {
  uint64_t rows = 0;
  uint64_t rejected = 0;  // rows that could not be converted to the column types
  uint64_t unrouted = 0;  // metric data points of a type no table takes
  std::string first_error;
};

// Appends one row per delivered record of `request` to the batch of its route
// (`batches` has one per route). Whenever a batch reaches `max_rows`, `flush(batch)` is
// called and must leave the batch empty.
// `seq` is the request's log sequence number, recorded as a batch's min_seq when the
// request gives the batch its first row.
EncodeStats EncodeRequest(Signal signal, const Routes& routes, std::string_view request,
                          size_t max_rows, std::vector<Batch>& batches,
                          const std::function<void(Batch*)>& flush, uint64_t seq = 0);

}  // namespace sluice::pipeline
