#include "pipeline/pipeline.h"

#include <random>

#include "absl/strings/escaping.h"
#include "clickhouse/errors.h"
#include "clickhouse/http_client.h"
#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "pipeline/watchdog.h"

namespace sluice::pipeline {

using Clock = std::chrono::steady_clock;

namespace {
constexpr size_t kReadEntries = 64;
// Small reads: what the worker holds between reads stays small.
constexpr size_t kReadBytes = 1u << 20;
// A quarantined request is kept in the dead-letter queue (base64) up to this size.
constexpr size_t kQuarantineMaxBytes = 40u << 20;
}  // namespace

Pipeline::Pipeline(PipelineConfig config, Limits limits, Storage storage)
    : config_(std::move(config)),
      limits_(std::move(limits)),
      log_(std::move(storage.buffer)),
      dlq_(std::move(storage.dlq)),
      cuts_(std::move(storage.cuts)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start(bool consume) {
  consume_ = consume;
  worker_ = std::thread([this] {
    NameThisThread("sluice-worker");
    LowerThisThreadPriority(5);
    WorkerLoop();
    std::lock_guard<std::mutex> lock(mu_);
    worker_exited_ = true;
    stop_cv_.notify_all();
  });
  for (size_t i = 0; i < std::max<size_t>(1, limits_.inserts_in_flight); ++i)
    inserters_.emplace_back([this] {
      NameThisThread("sluice-insert");
      LowerThisThreadPriority(5);
      InserterLoop();
    });
}

void Pipeline::StartConsuming() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    consume_ = true;
  }
  work_cv_.notify_all();
}

void Pipeline::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      // Graceful work ends by then; the server exits at shutdown_timeout regardless.
      stop_deadline_ = Clock::now() + limits_.shutdown_timeout * 3 / 4;
    }
    work_cv_.notify_all();
    inflight_cv_.notify_all();
    stop_cv_.notify_all();
    {
      // An entry still being encoded at the deadline is abandoned: it stays in the log,
      // and its guard counts the attempt.
      std::unique_lock<std::mutex> lock(mu_);
      if (!stop_cv_.wait_until(lock, stop_deadline_, [&] { return worker_exited_; }))
        abort_.store(kAbortAny);
    }
    if (worker_.joinable()) worker_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      workers_done_ = true;
    }
    inflight_cv_.notify_all();
    for (auto& t : inserters_)
      if (t.joinable()) t.join();
    // The worker is gone: this thread is now the log's consumer and writes the final
    // checkpoint past everything ClickHouse confirmed.
    if (next_unread_ > 0) AckSettled();
    if (state_ != State::kFailed) state_ = State::kStopped;
  });
}

std::string Pipeline::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void Pipeline::Fail(const Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::string(s.message());
  }
  state_ = State::kFailed;
  SLOG(ERROR) << "pipeline " << config_.id << " failed: " << s.message();
}

Status Pipeline::Submit(std::string_view request, uint64_t records) {
  State st = state_.load();
  // The reason (often ClickHouse's own error text) goes to the server log, not to clients.
  if (st == State::kFailed)
    return absl::UnavailableError(
        Cat("pipeline '", config_.id, "' has failed; its reason is in the server log"));
  if (st == State::kStopped)
    return absl::UnavailableError(Cat("pipeline '", config_.id, "' is stopped"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError(Cat("pipeline '", config_.id, "' is stopping"));
  }
  auto seq = log_->Append(config_.signal, static_cast<uint32_t>(records), request);
  if (!seq.ok()) {
    if (IsOverload(seq.status()))
      return Overloaded(Cat("pipeline '", config_.id, "' is overloaded: ", seq.status().message()));
    return seq.status();
  }
  stats_.requests++;
  stats_.records_accepted += records;
  work_cv_.notify_one();
  return absl::OkStatus();
}

Status Pipeline::BuildPlan() {
  clickhouse::HttpClient client(config_.sink.endpoint, std::chrono::seconds(30));
  const auto& db = config_.sink.endpoint.database;
  std::vector<std::pair<std::string, std::string>> tables = config_.sink.tables_by_metric_type;
  const bool routed = !tables.empty();
  if (!routed) tables.emplace_back("", config_.sink.table);
  // insert_deduplication_token exists from ClickHouse 22.2; older servers reject it.
  if (auto v = client.Query("SELECT version()"); v.ok()) {
    int major = 0, minor = 0;
    std::sscanf(v->c_str(), "%d.%d", &major, &minor);
    dedup_token_ = major > 22 || (major == 22 && minor >= 2);
  } else {
    return v.status();
  }
  Routes routes;
  std::vector<bool> bound(config_.sink.mapping.size(), false);
  for (auto& [kind, table] : tables) {
    auto desc = client.Query(Cat("DESCRIBE TABLE ", clickhouse::QuoteIdent(db), ".",
                                 clickhouse::QuoteIdent(table), " FORMAT TabSeparated"));
    if (!desc.ok()) return desc.status();
    auto cols = clickhouse::ParseDescribe(*desc);
    if (!cols.ok()) return cols.status();
    std::vector<bool> used;
    auto plan = clickhouse::BuildPlan(config_.signal, config_.sink.mapping, *cols, db, table,
                                      routed ? &used : nullptr);
    if (!plan.ok())
      return absl::Status(plan.status().code(), Cat(table, ": ", plan.status().message()));
    for (size_t i = 0; i < used.size(); ++i) bound[i] = bound[i] || used[i];
    routes.tables.push_back(table);
    routes.plans.push_back(std::move(*plan));
  }
  if (routed) {
    for (size_t i = 0; i < bound.size(); ++i)
      if (!bound[i])
        return absl::FailedPreconditionError(Cat("column '", config_.sink.mapping[i].column_name,
                                                 "' (mapped from '", config_.sink.mapping[i].name,
                                                 "') exists in none of the metric tables"));
    static constexpr std::string_view kKinds[] = {"",          "gauge",         "sum",
                                                  "histogram", "exp_histogram", "summary"};
    for (int k = 0; k < 6; ++k) {
      routes.by_kind[k] = -1;
      for (size_t r = 0; r < tables.size(); ++r)
        if (tables[r].first == kKinds[k]) routes.by_kind[k] = static_cast<int>(r);
    }
  }
  routes_ = std::move(routes);
  return absl::OkStatus();
}

void Pipeline::Flush(Batch* batch) {
  if (batch->row_count == 0) return;
  if (!batch->replayed) {
    // Durable before the INSERT is sent: a restart must rebuild this exact batch.
    Status s =
        cuts_.Record({routes_.tables[batch->route], batch->first, batch->last, batch->row_count});
    if (!s.ok())
      SLOG(WARN) << "pipeline " << config_.id << ": cannot journal a batch cut (a restart may "
                 << "re-cut it, so a replay might not be deduplicated): " << s.message();
  }
  std::unique_lock<std::mutex> lock(mu_);
  // Bounded in-flight batches: the worker waits, the buffer fills, clients are throttled.
  // Meanwhile confirmed batches move the checkpoint, so a crash replays only what is in
  // flight.
  auto full = [&] {
    const size_t n = batches_.size() + inserting_;
    return n >= limits_.inserts_in_flight * 2 ||
           (n > 0 && inflight_bytes_ + batch->bytes() > limits_.inflight_bytes);
  };
  // Waiting on ClickHouse is not the entry's doing: its guard pauses meanwhile.
  const uint64_t entry = guard_ ? guard_->current() : 0;
  if (entry != 0 && full()) guard_->Pause();
  while (full()) {
    inflight_cv_.wait(lock);
    lock.unlock();
    AckSettled();
    lock.lock();
  }
  if (entry != 0) guard_->Begin(entry);
  pending_min_.insert(batch->first.seq);
  inflight_bytes_ += batch->bytes();
  const size_t rows_bytes = batch->rows.size(), rows = batch->refs.size();
  batches_.push_back(std::move(*batch));
  inflight_cv_.notify_all();
  batch->Clear();
  if (!spare_rows_.empty()) {
    batch->rows = std::move(spare_rows_.back().rows);
    batch->refs = std::move(spare_rows_.back().refs);
    spare_rows_.pop_back();
  }
  lock.unlock();
  // The next batch is likely as big: allocate it once rather than grow it by doubling
  // (each doubling copies the rows encoded so far).
  batch->rows.reserve(rows_bytes);
  batch->refs.reserve(rows);
}

void Pipeline::AckSettled() {
  // Every entry below the first one still held by an open or unconfirmed batch is settled.
  uint64_t low = next_unread_;
  for (const Batch& b : open_)
    if (b.row_count > 0) low = std::min(low, b.first.seq);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_min_.empty()) low = std::min(low, *pending_min_.begin());
  }
  if (low <= acked_) return;
  Status s = log_->Ack(low);
  if (!s.ok()) {
    SLOG(ERROR) << "pipeline " << config_.id
                << ": cannot write the buffer checkpoint: " << s.message();
    return;  // retried at the next acknowledgement; at worst entries are delivered again
  }
  acked_ = low;
  cuts_.Trim(low);
}

namespace {
// Where an open batch stood before an entry, to take the entry's rows back out.
struct BatchMark {
  size_t rows_bytes, refs, sources;
  uint64_t row_count, source_bytes;
  Position first, last;
  bool replayed;
};
}  // namespace

bool Pipeline::SleepUnlessStopping(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

bool Pipeline::WriteDeadLetter(std::string_view component, std::string_view reason,
                               std::string_view error, std::string_view message) {
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    Status d = dlq_.Write(component, reason, error, message);
    if (d.ok()) {
      stats_.rows_dead_lettered++;
      return true;
    }
    SLOG(ERROR) << "pipeline " << config_.id << ": cannot write the dead-letter queue ("
                << d.message() << "); retrying in " << backoff.count() << " ms";
    if (!SleepUnlessStopping(backoff)) return false;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

bool Pipeline::Quarantine(uint64_t seq, std::string_view request, std::string_view why) {
  SLOG(ERROR) << "pipeline " << config_.id << ": buffer entry " << seq << " (" << request.size()
              << " bytes) goes to the dead-letter queue whole: " << why;
  std::string error = Cat(why, "; original_message is the whole OTLP request (",
                          SourceTypeOf(config_.signal), ", protobuf, base64)");
  std::string message;
  if (request.size() <= kQuarantineMaxBytes) {
    message = absl::Base64Escape(absl::string_view(request.data(), request.size()));
  } else {
    error += Cat("; omitted: the request is ", request.size(), " bytes, over ", kQuarantineMaxBytes,
                 " kept");
  }
  if (!WriteDeadLetter("worker", "quarantined_entry", error, message)) return false;
  stats_.entries_quarantined++;
  return true;
}

bool Pipeline::ProcessEntry(buffer::Entry& e, std::vector<Batch>& batches,
                            const std::function<void(Batch*)>& flush) {
  if (guard_ && e.seq == guard_->quarantined()) {
    if (!Quarantine(e.seq, e.payload,
                    Cat("the server stopped ", guard_->attempts(),
                        " times while processing it (a crash, kill -9 or the shutdown "
                        "deadline)")))
      return false;
    guard_->End();
    next_unread_ = e.seq + 1;
    return true;
  }
  auto source = std::make_shared<const std::string>(std::move(e.payload));
  std::vector<BatchMark> marks;
  marks.reserve(batches.size());
  for (const Batch& b : batches)
    marks.push_back({b.rows.size(), b.refs.size(), b.sources.size(), b.row_count, b.source_bytes,
                     b.first, b.last, b.replayed});
  flushed_routes_ = 0;
  if (guard_) guard_->Begin(e.seq);
  EncodeStats es = EncodeRequest(
      config_.signal, routes_, *source, config_.sink.max_batch_size, batches, flush, e.seq, source,
      [&](const otlp::RecordCtx& ctx, const Status& why) {
        std::string json;
        otlp::AppendRecordJson(config_.signal, ctx, &json);
        if (!WriteDeadLetter("sink", "schema_mismatch", std::string(why.message()), json))
          abort_.store(kAbortAny);  // stopping: the entry stays in the log
      },
      &replay_, &abort_);
  if (es.aborted) {
    // Take the entry's rows back out of the open batches (rows in batches already flushed
    // during it go out: they are inserted, and also in the dead letter or the log).
    uint64_t sent = es.rows;
    for (size_t r = 0; r < batches.size(); ++r) {
      Batch& b = batches[r];
      if (flushed_routes_ & (1u << r)) {
        sent -= b.row_count;
        b.Clear();
        continue;
      }
      const BatchMark& m = marks[r];
      sent -= b.row_count - m.row_count;
      b.rows.resize(m.rows_bytes);
      b.refs.resize(m.refs);
      b.sources.resize(m.sources);
      b.row_count = m.row_count;
      b.source_bytes = m.source_bytes;
      b.first = m.first;
      b.last = m.last;
      b.replayed = m.replayed;
    }
    const uint64_t why = abort_.exchange(0);
    if (why != e.seq) return false;  // shutdown: abandoned, the guard keeps the attempt
    if (!Quarantine(e.seq, *source,
                    Cat("processing it overran the CPU budget of ",
                        limits_.entry_cpu_budget.count(), " ms; ", sent,
                        " record(s) of it had already gone to ClickHouse in batches cut "
                        "before it was stopped")))
      return false;
  }
  if (guard_) guard_->End();
  next_unread_ = e.seq + 1;
  if (es.rejected > 0) {
    stats_.rows_rejected += es.rejected;
    SLOG(WARN) << "pipeline " << config_.id << ": " << es.rejected
               << " record(s) could not be converted to the table's column types and went "
                  "to the dead-letter queue: "
               << es.first_error;
  }
  if (es.unrouted > 0) {
    stats_.rows_unrouted += es.unrouted;
    SLOG(WARN) << "pipeline " << config_.id << ": " << es.unrouted
               << " data point(s) of a metric type with no table were not written";
  }
  return true;
}

void Pipeline::WorkerLoop() {
  // Read the table schema; retry while ClickHouse is unreachable.
  auto backoff = std::chrono::milliseconds(200);
  while (true) {
    Status s = BuildPlan();
    if (s.ok()) break;
    if (!IsRetryable(s)) {
      Fail(s);
      return;
    }
    SLOG(WARN) << "pipeline " << config_.id << ": cannot read table schema yet: " << s.message();
    std::unique_lock<std::mutex> lock(mu_);
    if (work_cv_.wait_for(lock, backoff, [&] { return stopping_; })) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  state_ = State::kRunning;
  SLOG(INFO) << "pipeline " << config_.id << " running: " << SourceTypeOf(config_.signal) << " -> "
             << config_.sink.endpoint.database << "." << routes_.tables[0]
             << (routes_.tables.size() > 1 ? " and more" : "") << " ("
             << routes_.plans[0].columns.size() << " columns)";
  {
    std::unique_lock<std::mutex> lock(mu_);
    work_cv_.wait(lock, [&] { return consume_ || stopping_; });
    if (!consume_) return;
  }
  // Take over the log from its checkpoint: what a previous consumer read but did not
  // confirm is delivered again.
  log_->Rewind();
  acked_ = next_unread_ = log_->checkpoint();
  if (auto cuts = cuts_.Load(); cuts.ok()) {
    replay_ = ReplayPlan(*cuts, routes_.tables, acked_);
  } else {
    SLOG(WARN) << "pipeline " << config_.id << ": cannot read the cut journal (replayed batches "
               << "are re-cut): " << cuts.status().message();
  }

  // Which entry is being processed survives a crash: an entry that ended runs again and
  // again is quarantined, and one that overruns its CPU budget is stopped by the watchdog.
  if (auto g = EntryGuard::Open(Cat(limits_.data_dir, "/pipelines/", config_.id, "/worker.guard"),
                                std::max<uint32_t>(1, limits_.entry_attempts));
      g.ok()) {
    guard_ = std::move(*g);
    if (guard_->suspect() != 0)
      SLOG(WARN) << "pipeline " << config_.id << ": the server stopped " << guard_->attempts()
                 << " time(s) while processing buffer entry " << guard_->suspect()
                 << (guard_->quarantined() ? "; it goes to the dead-letter queue"
                                           : "; trying it again");
  } else {
    SLOG(WARN) << "pipeline " << config_.id << ": cannot keep the entry guard ("
               << g.status().message() << "); an entry that crashes the server is retried";
  }
  const int watch =
      Watchdog::Get().Add({pthread_self(), [g = guard_.get()] { return g ? g->current() : 0; },
                           &abort_, limits_.entry_cpu_budget});

  Clock::time_point deadline = Clock::time_point::max();
  std::vector<Batch>& batches = open_;
  batches.resize(routes_.tables.size());
  for (size_t r = 0; r < batches.size(); ++r) batches[r].route = r;
  auto pending = [&] {
    for (const Batch& b : batches)
      if (b.row_count > 0) return true;
    return false;
  };
  auto flush = [&](Batch* b) {
    size_t route = b->route;
    flushed_routes_ |= 1u << route;
    Flush(b);
    b->route = route;
    if (!pending()) deadline = Clock::time_point::max();
  };
  auto flush_all = [&] {  // a replayed batch is held until its last row
    for (Batch& b : batches)
      if (!replay_.Holds(b.route)) flush(&b);
  };
  bool abandoned = false;
  while (!abandoned) {
    auto entries = log_->Read(kReadEntries, kReadBytes);
    if (!entries.ok()) {
      SLOG(ERROR) << "pipeline " << config_.id
                  << ": cannot read the buffer: " << entries.status().message();
    }
    const bool got = entries.ok() && !entries->empty();
    if (got) {
      for (buffer::Entry& e : *entries) {
        if (!ProcessEntry(e, batches, flush)) {
          abandoned = true;
          break;
        }
        if (pending() && deadline == Clock::time_point::max())
          deadline = Clock::now() + config_.sink.max_delay;
      }
      if (!pending()) deadline = Clock::time_point::max();
    }
    if (abandoned) break;
    if (!got && !replay_.empty()) {
      // Caught up: planned rows that never came are gone (a corrupt entry was skipped), so
      // batches still open under the plan become ordinary ones, journaled when cut.
      replay_.Clear();
      for (Batch& b : batches) b.replayed = false;
    }
    if (pending() && Clock::now() >= deadline) flush_all();
    AckSettled();
    if (got) continue;  // more may be waiting
    // Nothing new: leave when stopping (everything durable has been read), else wait.
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    work_cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)));
  }
  Watchdog::Get().Remove(watch);
  for (Batch& b : batches) Flush(&b);  // shutdown: everything read goes out
}

Status Pipeline::InsertRetrying(clickhouse::HttpClient& client, const std::string& params,
                                std::string_view rows) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  auto backoff = std::chrono::milliseconds(100);
  Clock::time_point give_up = Clock::time_point::max();
  while (true) {
    auto r = client.Post(params, rows);
    Status s = r.ok() ? (r->status == 200 ? absl::OkStatus()
                                          : clickhouse::StatusFromResponse(r->status, r->body))
                      : r.status();
    if (s.ok() || !IsRetryable(s)) return s;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) give_up = stop_deadline_;
    }
    if (Clock::now() >= give_up)
      return absl::UnavailableError(Cat("gave up at shutdown: ", s.message()));
    stats_.insert_retries++;
    SLOG(WARN) << "pipeline " << config_.id << ": insert failed, retrying in " << backoff.count()
               << " ms: " << s.message();
    std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
    std::unique_lock<std::mutex> lock(mu_);
    inflight_cv_.wait_for(lock, backoff + std::chrono::milliseconds(jitter(rng)),
                          [&] { return stopping_ && give_up == Clock::time_point::max(); });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
}

void Pipeline::Deliver(clickhouse::HttpClient& client, const std::string& params,
                       const Batch& batch, size_t a, size_t b, bool* complete) {
  const bool whole = a == 0 && b == batch.row_count;
  std::string_view rows(batch.rows);
  if (!whole) {
    const size_t from = batch.refs[a].offset;
    const size_t to = b < batch.refs.size() ? batch.refs[b].offset : batch.rows.size();
    rows = rows.substr(from, to - from);
  }
  std::string with_token;
  if (dedup_token_) {
    // The same rows from the same log positions get the same token, so a retried or
    // replayed insert is dropped by servers that deduplicate (Replicated tables, or
    // non_replicated_deduplication_window > 0).
    with_token = Cat(
        params, "&insert_deduplication_token=",
        clickhouse::UrlEncode(DedupToken(config_.id, routes_.tables[batch.route], batch, a, b)));
  }
  Status s = InsertRetrying(client, dedup_token_ ? with_token : params, rows);
  if (s.ok()) {
    stats_.rows_inserted += b - a;
    stats_.batches_inserted++;
    return;
  }
  if (IsRetryable(s)) {  // gave up at shutdown: the rows stay in the buffer
    *complete = false;
    SLOG(WARN) << "pipeline " << config_.id << ": " << (b - a)
               << " rows not inserted at shutdown; they stay in the buffer";
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
    Deliver(client, params, batch, a, mid, complete);
    Deliver(client, params, batch, mid, b, complete);
    return;
  }
  const RowRef& ref = batch.refs[a];
  const std::string why(s.message());
  const int code = clickhouse::ParseErrorCode(why);
  if (!WriteDeadLetter("sink",
                       code >= 0 ? Cat("sink_rejection_", code) : std::string("sink_rejection"),
                       why, RecordJson(config_.signal, *batch.sources[ref.source], ref.record)))
    *complete = false;  // stopping: keep it in the buffer rather than lose it
}

void Pipeline::InserterLoop() {
  std::unique_ptr<clickhouse::HttpClient> client;
  while (true) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      inflight_cv_.wait(lock, [&] { return !batches_.empty() || workers_done_; });
      if (batches_.empty()) return;
      batch = std::move(batches_.front());
      batches_.pop_front();
      ++inserting_;
      inflight_cv_.notify_all();
    }
    if (!client) client = std::make_unique<clickhouse::HttpClient>(config_.sink.endpoint);
    const std::string params =
        Cat("database=", clickhouse::UrlEncode(config_.sink.endpoint.database),
            "&query=", clickhouse::UrlEncode(routes_.plans[batch.route].insert_query));
    bool complete = true;  // every row inserted or dead-lettered: the checkpoint may pass it
    Deliver(*client, params, batch, 0, batch.row_count, &complete);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --inserting_;
      inflight_bytes_ -= batch.bytes();
      if (complete) pending_min_.erase(pending_min_.find(batch.first.seq));
      // The rows' memory goes back to the worker: a fresh multi-megabyte buffer would be
      // page-faulted in (and zeroed by the kernel) page by page for every batch.
      if (spare_rows_.size() < kSpareRows && batch.rows.capacity() <= kSpareRowsMaxBytes) {
        batch.rows.clear();
        batch.refs.clear();
        spare_rows_.push_back({std::move(batch.rows), std::move(batch.refs)});
      }
    }
    inflight_cv_.notify_all();
    work_cv_.notify_all();
  }
}

}  // namespace sluice::pipeline
