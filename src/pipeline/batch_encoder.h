// Turns OTLP requests into RowBinary row bytes for one pipeline's insert plan.
// Not thread-safe: owned by the pipeline's worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "clickhouse/insert_plan.h"
#include "core/signal.h"

namespace sluice::pipeline {

struct Batch {
  std::string rows;  // RowBinary
  uint64_t row_count = 0;
};

struct EncodeStats {
  uint64_t rows = 0;
  uint64_t rejected = 0;  // rows that could not be converted to the column types
  std::string first_error;
};

// Appends one row per delivered record of `request` to `batch`. Whenever the batch
// reaches `max_rows`, `flush(batch)` is called and must leave the batch empty.
EncodeStats EncodeRequest(Signal signal, const clickhouse::InsertPlan& plan,
                          std::string_view request, size_t max_rows, Batch* batch,
                          const std::function<void(Batch*)>& flush);

}  // namespace sluice::pipeline
