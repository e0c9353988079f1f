// Pipeline, the sink side: reading the tables and building the insert plan (and again,
// until it fits, after a failure), and delivering batches on the endpoint's inserter
// threads: INSERT with retries, the classification of failures (retry, the table's fault,
// a view's rejection, bad rows), the split that finds rejected rows, and settling the batch.
// The worker side (storage, entries, batches, the checkpoint) is in pipeline.cc.
#include <random>

#include "clickhouse/client.h"
#include "clickhouse/errors.h"
#include "core/cat.h"
#include "core/log.h"
#include "core/wall_clock.h"
#include "otlp/extract.h"
#include "pipeline/pipeline.h"
#include "pipeline/spare_rows.h"
#include "pipeline/table_plan.h"

namespace sluice::pipeline {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Status Pipeline::BuildPlan() {
  clickhouse::Client client(config_.sink.endpoint, std::chrono::seconds(30));
  client.set_cancel(&cancel_plan_);  // set at the stop deadline
  auto plan = ReadTables(config_, client);
  if (!plan.ok()) return plan.status();
  routes_ = std::move(plan->routes);
  describes_ = std::move(plan->describes);
  null_engine_ = std::move(plan->null_engine);
  dedup_token_ = plan->dedup_token;
  return absl::OkStatus();
}

bool Pipeline::PlanRetrying() {
  auto backoff = milliseconds(200);
  std::string logged;  // the reason last logged: each reason is logged once, not per attempt
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
    }
    Status s = BuildPlan();
    if (s.ok()) {
      SetState(State::kRunning, absl::OkStatus());
      SLOG(INFO) << "pipeline " << config_.id << " running: " << SourceTypeOf(config_.signal)
                 << " -> " << config_.sink.endpoint.database << "." << routes_.tables[0]
                 << (routes_.tables.size() > 1 ? " and more" : "") << " ("
                 << routes_.plans[0].columns.size() << " columns) over "
                 << config_.sink.endpoint.Describe();
      return true;
    }
    // Whatever the cause (ClickHouse unreachable, no such database or table, a column that
    // does not fit, a wrong password), it can be fixed outside the pipeline's file: the
    // pipeline is Failed (its requests are still buffered) and checks again with backoff,
    // at once after SIGHUP or `sluice reload`.
    SetState(State::kFailed, s);
    if (logged != s.message()) {
      logged = std::string(s.message());
      SLOG(WARN) << "pipeline " << config_.id << ": cannot start (checking again with backoff, "
                 << "up to every 30 s, or at once on `sluice reload`): " << s.message();
    }
    if (!SleepUntilRetry(backoff)) return false;
    backoff = std::min(backoff * 2, milliseconds(IsRetryable(s) ? 5000 : 30000));
  }
}

void Pipeline::RunInsert(clickhouse::Client& client, const std::shared_ptr<Batch>& batch) {
  client.set_cancel(&cancel_inserts_);
  bool complete = true;  // every row inserted or dead-lettered: the checkpoint may pass it
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The table failed (read again later), or the stop deadline passed: not attempted.
    if (!sink_failure_.ok() || cancel_inserts_) complete = false;
  }
  if (complete) Deliver(client, *batch, 0, batch->row_count, &complete);
  client.set_cancel(nullptr);
  // Confirmed rows' keys were committed by Deliver; every key of the batch stops pending
  // (rows not inserted are read again from the log, or were dead-lettered).
  if (dedup_) dedup_->Release(batch->keys);
  const uint64_t bytes = batch->bytes();
  budget_->Release(bytes);
  SparePool::Get().Put(std::move(batch->rows), std::move(batch->refs));
  // The last use of this pipeline: once inflight_ drops to 0 and mu_ is released, Stop
  // may return and the pipeline be destroyed.
  std::lock_guard<std::mutex> lock(mu_);
  if (complete) pending_min_.erase(pending_min_.find(batch->first.seq));
  inflight_bytes_ -= bytes;
  --inflight_;
  inflight_cv_.notify_all();
  work_cv_.notify_all();
}

Status Pipeline::InsertRetrying(clickhouse::Client& client, const Batch& batch,
                                std::string_view rows, uint64_t count,
                                const std::string& dedup_token) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  auto backoff = milliseconds(100);
  Clock::time_point give_up = Clock::time_point::max();
  while (true) {
    const auto start = Clock::now();
    const clickhouse::Outcome r =
        client.Insert(routes_.plans[batch.route], rows, count, dedup_token);
    const Status& s = r.status;
    metrics_.sent_bytes.fetch_add(r.sent_bytes, std::memory_order_relaxed);
    if (s.ok()) {
      metrics_.insert_duration.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      metrics_.last_insert_ms = UnixMillis();
      return s;
    }
    if (!IsRetryable(s)) return s;
    RetryClass why = r.answered ? RetryClass::kServer : RetryClass::kConnection;
    if (clickhouse::IsPressureCode(clickhouse::ParseErrorCode(s))) {
      scheduler_->ReportPressure();
      why = RetryClass::kPressure;
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) give_up = stop_deadline_;  // no deadline (max) while draining
      // Another batch met a table-level failure: this one is read again after it is fixed.
      if (!sink_failure_.ok()) return absl::UnavailableError("the pipeline's table failed");
    }
    if (Clock::now() >= give_up || cancel_inserts_)
      return absl::UnavailableError(Cat("gave up at shutdown: ", s.message()));
    stats_.insert_retries++;
    metrics_.Retried(why);
    SLOG(WARN) << "pipeline " << config_.id << ": insert failed, retrying in " << backoff.count()
               << " ms: " << s.message();
    std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
    std::unique_lock<std::mutex> lock(mu_);
    // Wakes when the deadline changes (a stop begins, or Hurry), and by it at the latest.
    const auto wake = std::min(Clock::now() + backoff + milliseconds(jitter(rng)), give_up);
    stop_cv_.wait_until(lock, wake, [&] { return stopping_ && stop_deadline_ != give_up; });
    backoff = std::min(backoff * 2, milliseconds(30000));
  }
}

bool Pipeline::IsTableLevel(clickhouse::Client& client, const Batch& batch, const Status& s) {
  if (clickhouse::IsTableLevelCode(clickhouse::ParseErrorCode(s))) return true;
  // Rows that cannot be parsed may also mean the table changed under us (a column retyped,
  // dropped or added): then the whole plan is stale, not the rows.
  auto desc = client.Query(
      Cat("DESCRIBE TABLE ", clickhouse::QuoteIdent(config_.sink.endpoint.database), ".",
          clickhouse::QuoteIdent(routes_.tables[batch.route]), " FORMAT TabSeparated"));
  if (!desc.ok()) return clickhouse::IsTableLevelCode(clickhouse::ParseErrorCode(desc.status()));
  return *desc != describes_[batch.route];
}

void Pipeline::Deliver(clickhouse::Client& client, const Batch& batch, size_t a, size_t b,
                       bool* complete) {
  const bool whole = a == 0 && b == batch.row_count;
  std::string_view rows(batch.rows);
  if (!whole) {
    const size_t from = batch.refs[a].offset;
    const size_t to = b < batch.refs.size() ? batch.refs[b].offset : batch.rows.size();
    rows = rows.substr(from, to - from);
  }
  // The same rows from the same log positions get the same token, so a retried or
  // replayed insert, split ranges included, is dropped by servers that deduplicate
  // (Replicated tables, or non_replicated_deduplication_window > 0).
  const std::string token =
      dedup_token_ ? DedupToken(config_.id, routes_.tables[batch.route], batch, a, b) : "";
  Status s = InsertRetrying(client, batch, rows, b - a, token);
  if (s.ok()) {
    SettleKeys(batch, a, b, /*confirmed=*/true);
    stats_.rows_inserted += b - a;
    stats_.batches_inserted++;
    SLOG(DEBUG) << "pipeline " << config_.id << ": inserted " << (b - a) << " rows into "
                << routes_.tables[batch.route];
    return;
  }
  if (IsRetryable(s)) {  // gave up (shutdown, or the table failed): the rows stay in the buffer
    *complete = false;
    SLOG(WARN) << "pipeline " << config_.id << ": " << (b - a) << " rows not inserted ("
               << s.message() << "); they stay in the buffer";
    return;
  }
  const std::string why(s.message());
  const int code = clickhouse::ParseErrorCode(why);
  if (clickhouse::IsViewRejection(why) && !null_engine_[batch.route]) {
    // A materialized view rejected the INSERT after the table had been written (ClickHouse
    // writes the table first): the rows are in the table. Inserting them again to find the
    // rows the view refuses would duplicate them there, so the range is dead-lettered as
    // it is, marked as stored. (Into a Null table nothing is stored: split as usual.)
    stats_.rows_inserted += b - a;
    for (size_t i = a; i < b; ++i) {
      const RowRef& ref = batch.refs[i];
      if (!WriteDeadLetter("sink", Cat("view_rejected_", code),
                           Cat(why, " (the row is in table ", routes_.tables[batch.route],
                               "; a view rejected the INSERT it was part of)"),
                           RecordJson(config_.signal, *batch.sources[ref.source], ref.record))) {
        *complete = false;
        return;
      }
    }
    SLOG(WARN) << "pipeline " << config_.id << ": a view rejected an INSERT of " << (b - a)
               << " rows into " << routes_.tables[batch.route]
               << " (the rows are in the table; dead-lettered as view_rejected): " << why;
    return;
  }
  if (whole ? IsTableLevel(client, batch, s)
            : clickhouse::IsTableLevelCode(clickhouse::ParseErrorCode(s))) {
    // Not the rows' fault: the pipeline fails (its rows stay in the buffer) until the table
    // is fixed.
    *complete = false;
    std::lock_guard<std::mutex> lock(mu_);
    if (sink_failure_.ok())
      sink_failure_ = absl::FailedPreconditionError(
          Cat("table ", config_.sink.endpoint.database, ".", routes_.tables[batch.route],
              " rejects the pipeline's INSERTs: ", s.message()));
    work_cv_.notify_all();
    return;
  }
  if (batch.refs.size() != batch.row_count) {  // untracked rows: cannot single them out
    stats_.rows_failed += b - a;
    SLOG(ERROR) << "pipeline " << config_.id << ": ClickHouse rejected " << (b - a)
                << " rows: " << s.message();
    return;
  }
  if (b - a > 1) {
    if (whole)
      SLOG(WARN) << "pipeline " << config_.id << ": ClickHouse rejected a batch of " << (b - a)
                 << " rows; splitting it to find the rejected rows: " << s.message();
    const size_t mid = a + (b - a) / 2;
    Deliver(client, batch, a, mid, complete);
    Deliver(client, batch, mid, b, complete);
    return;
  }
  const RowRef& ref = batch.refs[a];
  if (!WriteDeadLetter("sink",
                       code >= 0 ? Cat("sink_rejection_", code) : std::string("sink_rejection"),
                       why, RecordJson(config_.signal, *batch.sources[ref.source], ref.record),
                       otlp::ExtractRecord(config_.signal, *batch.sources[ref.source], ref.record)))
    *complete = false;  // stopping: keep it in the buffer rather than lose it
}

}  // namespace sluice::pipeline
