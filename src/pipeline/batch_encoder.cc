#include "pipeline/batch_encoder.h"

#include "core/cat.h"

namespace sluice::pipeline {

namespace {

// Columns that depend only on the record's resource or scope (ResourceAttributes,
// ServiceName, ScopeName, ...) are the same for every record of an envelope: they are
// encoded once per envelope and their bytes copied into each row.
enum class Level : uint8_t { kRecord, kResource, kScope };

Level LevelOf(const clickhouse::ColumnBinding& b) {
  switch (b.path.field->id) {
    case otlp::FieldId::kResourceAttributes:
    case otlp::FieldId::kResourceSchemaUrl:
    case otlp::FieldId::kResourceDroppedAttributesCount: return Level::kResource;
    case otlp::FieldId::kScopeName:
    case otlp::FieldId::kScopeVersion:
    case otlp::FieldId::kScopeAttributes:
    case otlp::FieldId::kScopeSchemaUrl:
    case otlp::FieldId::kScopeDroppedAttributesCount: return Level::kScope;
    default: return Level::kRecord;
  }
}

// A stretch of adjacent columns written together: one record-level column, or a run of
// resource/scope-level columns whose bytes are encoded once per envelope and copied into
// each row with one append.
struct ColumnRun {
  size_t begin = 0, end = 0;  // columns [begin, end) of the plan
  bool envelope = false;
  uint64_t resource = 0, scope = 0;  // 1 + the ordinals `bytes` was encoded for (0: none)
  std::string bytes;
  Status status;
};

void BuildRuns(const clickhouse::InsertPlan& plan, std::vector<ColumnRun>* runs) {
  runs->clear();
  for (size_t k = 0; k < plan.columns.size(); ++k) {
    const bool envelope = LevelOf(plan.columns[k]) != Level::kRecord;
    if (envelope && !runs->empty() && runs->back().envelope && runs->back().end == k) {
      runs->back().end = k + 1;
      continue;
    }
    ColumnRun r;
    r.begin = k;
    r.end = k + 1;
    r.envelope = envelope;
    runs->push_back(std::move(r));
  }
}

}  // namespace

EncodeStats EncodeRequest(Signal signal, const Routes& routes, std::string_view request,
                          size_t max_rows, std::vector<Batch>& batches,
                          const std::function<void(Batch*)>& flush, uint64_t seq,
                          const std::shared_ptr<const std::string>& source, const RejectFn& reject,
                          ReplayPlan* replay, const std::atomic<uint64_t>* abort,
                          const RecordHooks* hooks) {
  EncodeStats stats;
  uint32_t index = 0;
  // Per route: the column runs, with their envelope-level encodings (buffers reused across
  // calls by the worker thread; the encodings are only valid within one request, whose bytes
  // the views point into).
  thread_local std::vector<std::vector<ColumnRun>> runs;
  runs.resize(std::max(runs.size(), routes.plans.size()));
  for (size_t r = 0; r < routes.plans.size(); ++r) BuildRuns(routes.plans[r], &runs[r]);
  thread_local clickhouse::RowScratch scratch;
  otlp::ForEachRecord(signal, request, [&](const otlp::RecordCtx& record_ctx) {
    if (stats.aborted) return;
    if (abort) {
      const uint64_t a = abort->load(std::memory_order_relaxed);
      if (a == seq || a == kAbortAny) {
        stats.aborted = true;
        return;
      }
    }
    const uint32_t record = index++;
    scratch.Reset();
    const int route = routes.RouteOf(record_ctx);
    if (route < 0) {
      ++stats.unrouted;
      return;
    }
    otlp::RecordCtx ctx = record_ctx;
    transform::KeyAt key{{}, seq, record};
    if (hooks) {
      const otlp::Value* outputs = nullptr;
      if (!hooks->admit(record_ctx, record, &outputs, &key)) {
        ++stats.transformed_out;
        return;
      }
      ctx.outputs = outputs;
    }
    const bool has_key = hooks && (key.key.lo | key.key.hi) != 0;
    Batch* batch = &batches[route];
    batch->route = static_cast<size_t>(route);
    const Position pos{seq, record};
    if (replay && !replay->empty()) {
      ReplayPlan::Step step = replay->Before(batch->route, pos, batch->row_count);
      if (step.skip) {
        ++stats.skipped;
        if (has_key) hooks->release(key, true);
        return;
      }
      if (step.cut_before) {
        batch->replayed = false;  // not the journaled batch (or cut short): journal it
        flush(batch);
        batch->route = static_cast<size_t>(route);
      }
      if (replay->Holds(batch->route)) batch->replayed = true;
    }
    const clickhouse::InsertPlan& plan = routes.plans[route];
    const size_t row_start = batch->rows.size();
    ByteWriter w(&batch->rows);
    for (ColumnRun& run : runs[route]) {
      Status s;
      if (!run.envelope) {
        s = clickhouse::EncodeBinding(plan.columns[run.begin], ctx, w, &scratch);
      } else {
        const uint64_t res = 1 + ctx.res->ordinal, scope = 1 + ctx.scope->ordinal;
        if (run.resource != res || run.scope != scope) {
          run.bytes.clear();
          ByteWriter cw(&run.bytes);
          run.status = absl::OkStatus();
          for (size_t k = run.begin; k < run.end && run.status.ok(); ++k)
            run.status = clickhouse::EncodeBinding(plan.columns[k], ctx, cw);
          run.resource = res;
          run.scope = scope;
        }
        s = run.status;
        if (s.ok()) w.Bytes(run.bytes);
      }
      if (!s.ok()) {
        batch->rows.resize(row_start);
        // Which record of the request (0-based, in request order), for the dead letter.
        const Status named(s.code(), Cat("record ", record, ": ", s.message()));
        if (stats.rejected++ == 0) stats.first_error = std::string(named.message());
        if (has_key) hooks->release(key, false);
        if (reject) reject(ctx, static_cast<uint32_t>(record), named);
        return;
      }
    }
    if (batch->row_count == 0) {
      batch->first = pos;
      // A replayed batch keeps its journaled identity when its first rows are gone (their
      // entry was quarantined meanwhile): the checkpoint must not pass the journaled first
      // row until the batch is confirmed, or a later restart would take the batch for a
      // confirmed one and skip its rows; and its token stays the one sent before.
      if (batch->replayed && replay)
        if (auto planned = replay->PlannedFirst(batch->route); planned && *planned < pos)
          batch->first = *planned;
    }
    batch->last = pos;
    if (source) {
      if (batch->sources.empty() || batch->sources.back() != source) {
        batch->sources.push_back(source);
        batch->source_bytes += source->size();
      }
      batch->refs.push_back({static_cast<uint32_t>(row_start),
                             static_cast<uint32_t>(batch->sources.size() - 1), record});
    }
    if (hooks && hooks->keys) batch->keys.push_back(key);
    ++batch->row_count;
    ++stats.rows;
    if (replay && replay->Holds(batch->route)) {
      if (replay->After(batch->route, pos)) flush(batch);
    } else if (batch->row_count >= max_rows) {
      flush(batch);
    }
  });
  // A request of one huge record overruns between checks: looked at once more at the end.
  if (abort && !stats.aborted) {
    const uint64_t a = abort->load(std::memory_order_relaxed);
    stats.aborted = a == seq || a == kAbortAny;
  }
  return stats;
}

std::string DedupToken(std::string_view pipeline, std::string_view table, const Batch& batch,
                       size_t a, size_t b) {
  std::string t = Cat(pipeline, ":", table, ":", batch.first.seq, ".", batch.first.rec, "-",
                      batch.last.seq, ".", batch.last.rec);
  if (a != 0 || b != batch.row_count) t += Cat(":", a, "-", b);
  return t;
}

std::string RecordJson(Signal signal, std::string_view request, uint32_t index) {
  std::string out;
  uint32_t i = 0;
  otlp::ForEachRecord(signal, request, [&](const otlp::RecordCtx& ctx) {
    if (i++ == index) otlp::AppendRecordJson(signal, ctx, &out);
  });
  return out;
}

}  // namespace sluice::pipeline
