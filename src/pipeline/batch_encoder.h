// Turns OTLP requests into RowBinary row bytes for one pipeline's insert plan.
// Not thread-safe: owned by the pipeline's worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/insert_plan.h"
#include "core/signal.h"
#include "pipeline/replay_plan.h"
#include "transform/dedup_index.h"

namespace sluice::pipeline {

// Where a row came from: enough to re-create its flattened record for the dead-letter
// queue when ClickHouse rejects it.
struct RowRef {
  uint32_t offset;  // start of the row in Batch::rows
  uint32_t source;  // index into Batch::sources
  uint32_t record;  // index of the record in its request
};

struct Batch {
  std::string rows;  // RowBinary
  uint64_t row_count = 0;
  size_t route = 0;  // which table / insert plan
  // Log positions of the first and last rows: the batch's identity (its cut, and its
  // insert_deduplication_token).
  Position first, last;
  bool replayed = false;     // rebuilt from a journaled cut after a restart (not journaled again)
  std::vector<RowRef> refs;  // one per row (when tracked)
  // One per row when the pipeline dedups: the row's dedup key (zero: none). Committed to
  // the seen-keys index once the row is confirmed.
  std::vector<transform::KeyAt> keys;
  std::vector<std::shared_ptr<const std::string>> sources;  // the requests of the rows
  uint64_t source_bytes = 0;                                // their size

  // Memory the batch holds (its rows and the requests they came from).
  uint64_t bytes() const {
    return rows.size() + source_bytes + refs.size() * sizeof(RowRef) +
           keys.size() * sizeof(transform::KeyAt);
  }

  void Clear() {
    rows.clear();
    row_count = 0;
    replayed = false;
    refs.clear();
    keys.clear();
    sources.clear();
    source_bytes = 0;
  }
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
  uint64_t rejected = 0;         // rows that could not be converted to the column types
  uint64_t unrouted = 0;         // metric data points of a type no table takes
  uint64_t skipped = 0;          // rows of batches ClickHouse confirmed before a restart
  uint64_t transformed_out = 0;  // records the transforms took out (see RecordHooks)
  bool aborted = false;          // stopped early: records after `rows` were not encoded
  std::string first_error;
};

// EncodeRequest stops early when its abort cell holds the request's seq, or kAbortAny.
inline constexpr uint64_t kAbortAny = UINT64_MAX;

// Appends one row per delivered record of `request` to the batch of its route
// (`batches` has one per route). Whenever a batch reaches `max_rows`, `flush(batch)` is
// called and must leave the batch empty.
// Called for a record that cannot be converted to the table's types: the record and why.
// `record` is its index in the request (as RecordJson and otlp::ExtractRecord count).
using RejectFn = std::function<void(const otlp::RecordCtx&, uint32_t record, const Status&)>;

// The pipeline's transforms, run on each record before its row (filter, dedup, stateless).
struct RecordHooks {
  // False: no row for this record (filtered out, a duplicate, or dead-lettered by the
  // hook). Otherwise *outputs are the stateless outputs (or null) and *key the dedup key
  // (zero: none) that the row carries.
  std::function<bool(const otlp::RecordCtx&, uint32_t record, const otlp::Value** outputs,
                     transform::KeyAt* key)>
      admit;
  // An admitted key whose row is not written by this call: `confirmed` when the row was
  // confirmed before a restart (replay skips it), else the row could not be encoded.
  std::function<void(const transform::KeyAt&, bool confirmed)> release;
  bool keys = false;  // rows carry keys (Batch::keys)
};

// `seq` is the request's log sequence number (rows' positions are (seq, record index)).
// With `source` (the request, owned), every row records where it came from (Batch::refs).
// `reject` sees records that cannot be converted. With `replay`, rows of confirmed batches
// are skipped and replayed batches are cut exactly where the plan says (instead of at
// max_rows). With `abort`, checked before each record, encoding stops (stats.aborted) once
// the cell holds `seq` or kAbortAny; the rows already encoded stay in the batches.
EncodeStats EncodeRequest(Signal signal, const Routes& routes, std::string_view request,
                          size_t max_rows, std::vector<Batch>& batches,
                          const std::function<void(Batch*)>& flush, uint64_t seq = 0,
                          const std::shared_ptr<const std::string>& source = nullptr,
                          const RejectFn& reject = nullptr, ReplayPlan* replay = nullptr,
                          const std::atomic<uint64_t>* abort = nullptr,
                          const RecordHooks* hooks = nullptr);

// insert_deduplication_token for rows [a, b) of a batch: derived from log positions only,
// so the same rows from the same positions always get the same token.
std::string DedupToken(std::string_view pipeline, std::string_view table, const Batch& batch,
                       size_t a, size_t b);

// The flattened JSON of record `index` of a request (for the dead-letter queue).
std::string RecordJson(Signal signal, std::string_view request, uint32_t index);

}  // namespace sluice::pipeline
