#include "pipeline/pipeline.h"

#include "absl/strings/escaping.h"
#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/wall_clock.h"
#include "otlp/extract.h"
#include "pipeline/spare_rows.h"
#include "pipeline/watchdog.h"

namespace sluice::pipeline {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {
constexpr size_t kReadEntries = 64;
// Small reads: what the worker holds between reads stays small.
constexpr size_t kReadBytes = 1u << 20;
// A quarantined request is kept in the dead-letter queue (base64) up to this size.
constexpr size_t kQuarantineMaxBytes = 40u << 20;
// ClickHouse forms blocks of at most max_insert_block_size (1,048,576) rows from an
// INSERT's data, and a block is written atomically: batches stay within one block, so a
// rejected INSERT wrote nothing (views aside) and a split re-sends nothing twice.
constexpr size_t kMaxBatchRows = 1u << 20;

}  // namespace

Pipeline::Pipeline(PipelineConfig config, Limits limits, StorageOpener storage,
                   std::shared_ptr<MemoryBudget> budget)
    : config_(std::move(config)),
      limits_(std::move(limits)),
      open_storage_(std::move(storage)),
      budget_(budget ? std::move(budget) : std::make_shared<MemoryBudget>(limits_.batch_memory)),
      scheduler_(InsertScheduler::ForEndpoint(config_.sink.endpoint, limits_.endpoint_inserts)),
      queue_(scheduler_->AddQueue(limits_.inserts_in_flight)),
      created_ms_(UnixMillis()),
      state_changed_ms_(created_ms_) {
  if (!config_.transforms.empty()) {
    // Checked when the document was parsed; a failure here is reported as the pipeline's.
    auto t = transform::Transforms::Compile(config_.signal, config_.transforms);
    if (t.ok()) {
      transforms_ = std::move(*t);
      scratch_ = std::make_unique<transform::Transforms::Scratch>(config_.signal);
    } else {
      SLOG(ERROR) << "pipeline " << config_.id << ": " << t.status().message();
    }
  }
}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start(bool consume) {
  consume_ = consume;
  auto run = [this] {
    NameThisThread("sluice-worker");
    LowerThisThreadPriority(5);
    WorkerLoop();
    std::lock_guard<std::mutex> lock(mu_);
    worker_exited_ = true;
    stop_cv_.notify_all();
  };
  try {
    worker_ = std::thread(run);
  } catch (const std::system_error& e) {  // out of threads: not a reason to abort
    SetState(State::kFailed, absl::UnavailableError(Cat("cannot start its worker: ", e.what())));
    std::lock_guard<std::mutex> lock(mu_);
    worker_exited_ = true;
  }
}

void Pipeline::StartConsuming() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    consume_ = true;
  }
  work_cv_.notify_all();
}

void Pipeline::Stop(StopMode mode) {
  std::call_once(stop_once_, [this, mode] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      // Graceful work ends by then; the server exits at shutdown_timeout regardless. A
      // drain has no deadline until Hurry gives it one.
      const auto graceful = Clock::now() + limits_.shutdown_timeout * 3 / 4;
      stop_deadline_ = mode == StopMode::kDrain ? Clock::time_point::max()
                       : mode == StopMode::kNow ? Clock::now()
                                                : graceful;
      // INSERTs already sent may finish (or the rows could be inserted twice on servers
      // that do not deduplicate): they get the graceful deadline even when the worker
      // stops at once.
      insert_grace_ = mode == StopMode::kDrain ? Clock::time_point::max() : graceful;
      if (hurried_) {
        stop_deadline_ = Clock::now();
        insert_grace_ = graceful;
      }
      // The operator's stop, not the entry's doing: an entry abandoned for it counts no
      // attempt against it.
      if (mode != StopMode::kShutdown || hurried_) operator_stop_ = true;
      // Entries appended from now on (a successor takes them) are not this one's to read.
      drain_until_ = storage_ready_ ? log_->next_seq() : 0;
    }
    work_cv_.notify_all();
    inflight_cv_.notify_all();
    stop_cv_.notify_all();
    // Waits on `cv` until `done` or the deadline (which Hurry may bring forward); false at
    // the deadline.
    auto wait = [this](std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                       const std::function<bool()>& done, bool inserts) {
      while (!done()) {
        if (Clock::now() >= (inserts ? std::max(stop_deadline_, insert_grace_) : stop_deadline_))
          return false;
        cv.wait_for(lock, milliseconds(200));
      }
      return true;
    };
    {
      // An entry still being encoded at the deadline is abandoned: it stays in the log,
      // and its guard counts the attempt.
      std::unique_lock<std::mutex> lock(mu_);
      if (!wait(
              lock, stop_cv_, [&] { return worker_exited_; }, false)) {
        abort_.store(kAbortAny);
        cancel_plan_ = true;  // a schema read still waiting on ClickHouse
      }
    }
    if (worker_.joinable()) worker_.join();
    {
      // INSERTs still running at the deadline give up; their rows stay in the buffer.
      std::unique_lock<std::mutex> lock(mu_);
      if (!wait(
              lock, inflight_cv_, [&] { return inflight_ == 0; }, true)) {
        cancel_inserts_ = true;
        lock.unlock();
        scheduler_->RunQueuedNow(queue_);  // those not started give up now
        lock.lock();
        inflight_cv_.wait(lock, [&] { return inflight_ == 0; });
      }
    }
    // The worker is gone: this thread is now the log's consumer and writes the final
    // checkpoint past everything ClickHouse confirmed.
    if (storage_ready_ && next_unread_ > 0) AckSettled();
    if (state_ != State::kFailed) {
      state_ = State::kStopped;
      state_changed_ms_ = UnixMillis();
    }
  });
}

void Pipeline::Hurry() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hurried_ = true;  // a Stop that has not begun yet starts with its deadline passed
    if (!stopping_) return;
    operator_stop_ = true;
    stop_deadline_ = std::min(stop_deadline_, Clock::now());
    insert_grace_ = std::min(insert_grace_, Clock::now() + limits_.shutdown_timeout * 3 / 4);
  }
  work_cv_.notify_all();
  inflight_cv_.notify_all();
  stop_cv_.notify_all();
}

void Pipeline::SetState(State s, const Status& why) {
  if (!why.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = std::string(why.message());
    last_error_ms_ = UnixMillis();
  }
  if (state_.exchange(s) != s) {
    state_changed_ms_ = UnixMillis();
    if (s == State::kFailed)
      SLOG(ERROR) << "pipeline " << config_.id << " failed: " << why.message();
  }
}

Pipeline::Snapshot Pipeline::TakeSnapshot() const {
  Snapshot snap;
  snap.state = state_.load();
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap.error = last_error_;
    snap.error_ms = last_error_ms_;
    snap.inserts_in_flight = inflight_;
    snap.parked = !consume_ && !stopping_;
  }
  snap.created_ms = created_ms_;
  snap.state_changed_ms = state_changed_ms_.load();
  snap.storage_ready = storage_ready_.load();
  if (snap.storage_ready) {
    snap.log = log_;
    snap.buffer = log_->stats();
  }
  if (snap.buffer.oldest_unacked_ms > 0)
    snap.oldest_age_seconds = std::max<double>(
        0, static_cast<double>(UnixMillis() - snap.buffer.oldest_unacked_ms) / 1e3);
  return snap;
}

void Pipeline::RetryNow() {
  std::lock_guard<std::mutex> lock(mu_);
  retry_now_ = true;
  stop_cv_.notify_all();
}

bool Pipeline::SleepUntilRetry(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_cv_.wait_for(lock, d, [&] { return stopping_ || retry_now_; });
  retry_now_ = false;
  return !stopping_;
}

Status Pipeline::Admit() const {
  // A failed pipeline (its table unreadable or rejecting INSERTs) still buffers: the data
  // lands once the table is fixed, and clients are refused only when the buffer is full.
  if (state_.load() == State::kStopped)
    return absl::UnavailableError(Cat("pipeline '", config_.id, "' is stopped"));
  if (!storage_ready_)
    return absl::UnavailableError(Cat("pipeline '", config_.id, "' is starting"));
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError(Cat("pipeline '", config_.id, "' is stopping"));
  return absl::OkStatus();
}

Status Pipeline::Appended(const StatusOr<uint64_t>& seq, uint64_t records) {
  if (!seq.ok()) {
    if (IsOverload(seq.status())) {
      // A failed pipeline's buffer fills until its table is fixed: not a load spike, so the
      // client is told to come back later (503), not to slow down.
      if (state_.load() == State::kFailed)
        return absl::UnavailableError(Cat("pipeline '", config_.id,
                                          "' has failed and its buffer is full; the reason is in "
                                          "the server log and its status"));
      return Overloaded(Cat("pipeline '", config_.id, "' is overloaded: ", seq.status().message()));
    }
    return seq.status();
  }
  stats_.requests++;
  stats_.records_accepted += records;
  work_cv_.notify_one();
  return absl::OkStatus();
}

void Pipeline::SubmitAsync(std::string request, uint64_t records, std::function<Status()> precheck,
                           std::function<void(Status)> done) {
  if (Status s = Admit(); !s.ok()) {
    done(s);
    return;
  }
  log_->AppendAsync(
      config_.signal, static_cast<uint32_t>(records), std::move(request), std::move(precheck),
      [this, records, start = Clock::now(), done = std::move(done)](StatusOr<uint64_t> seq) {
        if (seq.ok())
          metrics_.ack_latency.Observe(std::chrono::duration<double>(Clock::now() - start).count());
        done(Appended(seq, records));
      });
}

bool Pipeline::OpenStorage() {
  auto backoff = milliseconds(200);
  while (true) {
    auto st = open_storage_();
    if (st.ok()) {
      Status t = SetUpTransforms();
      if (t.ok()) {
        log_ = std::move(st->buffer);
        dlq_ = std::make_unique<DeadLetters>(std::move(st->dlq));
        cuts_ = std::make_unique<CutJournal>(std::move(st->cuts));
        storage_ready_ = true;
        return true;
      }
      st = t;
    }
    SLOG(ERROR) << "pipeline " << config_.id << ": cannot open its buffer (retrying in "
                << backoff.count() << " ms): " << st.status().message();
    if (!SleepUntilRetry(backoff)) return false;
    backoff = std::min(backoff * 2, milliseconds(10000));
  }
}

size_t Pipeline::MaxBatchRows() const {
  return std::min<size_t>(config_.sink.max_batch_size * scheduler_->pressure(), kMaxBatchRows);
}

milliseconds Pipeline::MaxDelay() const { return config_.sink.max_delay * scheduler_->pressure(); }
bool Pipeline::SleepUnlessStopping(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

bool Pipeline::WriteDeadLetter(std::string_view component, std::string_view reason,
                               std::string_view error, std::string_view message,
                               std::string_view request) {
  auto backoff = std::chrono::milliseconds(100);
  std::string shortened;
  while (true) {
    // A record too large for an entry loses its re-sendable copy first, then its tail.
    Status d = dlq_->Write(component, reason, error, shortened.empty() ? message : shortened,
                           shortened.empty() ? request : std::string_view());
    if (d.ok()) {
      stats_.rows_dead_lettered++;
      if (reason != "quarantined_entry" && !reason.starts_with("view_rejected_"))
        stats_.rows_send_failed++;
      metrics_.DeadLettered(reason);
      uint64_t suppressed = 0;
      if (dead_letter_log_.Allow(&suppressed))
        SLOG(WARN) << "pipeline " << config_.id << ": dead letter (" << reason << "): " << error
                   << (suppressed ? Cat(" [", suppressed, " more not logged]") : std::string());
      return true;
    }
    if (!IsRetryable(d) && shortened.empty()) {
      // Too large for an entry: keep the start of the record rather than wedge on it.
      shortened = Cat(message.substr(0, 1u << 20), "... [cut: ", message.size(), " bytes]");
      continue;
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

bool Pipeline::ProcessEntry(buffer::Entry& e, const std::function<void(Batch*)>& flush) {
  std::vector<Batch>& batches = open_;
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
  std::vector<BatchMark>& marks = marks_;  // reused: no allocation per entry
  marks.clear();
  for (const Batch& b : batches)
    marks.push_back({b.rows.size(), b.refs.size(), b.sources.size(), b.row_count, b.source_bytes,
                     b.first, b.last, b.replayed, b.keys.size()});
  flushed_routes_ = 0;
  uint64_t stale = e.seq;  // left by the watchdog from an earlier try at this entry
  abort_.compare_exchange_strong(stale, 0);
  if (guard_) guard_->Begin(e.seq);
  if (dedup_) dedup_reader_ = dedup_->Snapshot();
  if (scratch_) scratch_->record.NewRequest();
  replayed_keys_.clear();
  entry_request_ = *source;
  EncodeStats es = EncodeRequest(
      config_.signal, routes_, *source, MaxBatchRows(), batches, flush, e.seq, source,
      [&](const otlp::RecordCtx& ctx, uint32_t record, const Status& why) {
        std::string json;
        otlp::AppendRecordJson(config_.signal, ctx, &json);
        if (!WriteDeadLetter("sink", "schema_mismatch", std::string(why.message()), json,
                             otlp::ExtractRecord(config_.signal, *source, record)))
          abort_.store(kAbortAny);  // stopping: the entry stays in the log
      },
      &replay_, &abort_, transforms_ ? &hooks_ : nullptr);
  dedup_reader_.reset();
  if (dedup_ && UnixMillis() >= next_sweep_ms_) {  // expired keys go, a bounded amount at a time
    dedup_->Sweep(UnixMillis());
    next_sweep_ms_ = UnixMillis() + 10000;
  }
  if (dedup_ && !replayed_keys_.empty()) {
    // Rows confirmed before a restart: their keys are recorded again (a crash may have
    // come between the confirmation and the commit).
    if (Status c = dedup_->Commit(replayed_keys_, UnixMillis()); !c.ok())
      SLOG(WARN) << "pipeline " << config_.id << ": " << c.message();
    dedup_->Release(replayed_keys_);
  }
  if (es.aborted) {
    // Take the entry's rows back out of the open batches (rows in batches already flushed
    // during it go out: they are inserted, and also in the dead letter or the log).
    uint64_t sent = es.rows;
    for (size_t r = 0; r < batches.size(); ++r) {
      Batch& b = batches[r];
      if (flushed_routes_ & (1u << r)) {
        sent -= b.row_count;
        if (dedup_) dedup_->Release(b.keys);
        b.Clear();
        continue;
      }
      const BatchMark& m = marks[r];
      sent -= b.row_count - m.row_count;
      if (dedup_ && b.keys.size() > m.keys) dedup_->Release(std::span(b.keys).subspan(m.keys));
      b.keys.resize(std::min(b.keys.size(), m.keys));
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
    if (why != e.seq) {
      // Abandoned at shutdown: the guard keeps the attempt (an entry that wedges the worker
      // makes every shutdown end here), unless an operator's stop cut it short.
      if (guard_ && operator_stop_.load()) guard_->Pause();
      return false;
    }
    if (!Quarantine(e.seq, *source,
                    Cat("processing it overran the CPU budget of ",
                        limits_.entry_cpu_budget.count(), " ms; ", sent,
                        " record(s) of it had already gone to ClickHouse in batches cut "
                        "before it was stopped")))
      return false;
  }
  if (guard_) guard_->End();
  uint64_t late = e.seq;  // the watchdog may have flagged it just after the last check
  abort_.compare_exchange_strong(late, 0);
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

bool Pipeline::Flush(Batch* batch) {
  if (batch->row_count == 0) return true;
  if (!batch->replayed) {
    // Durable before the INSERT is sent: a restart must rebuild this exact batch.
    Status s =
        cuts_->Record({routes_.tables[batch->route], batch->first, batch->last, batch->row_count});
    if (!s.ok())
      SLOG(WARN) << "pipeline " << config_.id << ": cannot journal a batch cut (a restart may "
                 << "re-cut it, so a replay might not be deduplicated): " << s.message();
  }
  // Room: at most 2 x inserts_in_flight batches and inflight_bytes per pipeline, and the
  // server-wide batch memory. Meanwhile the worker waits, the buffer fills and clients
  // are throttled, and confirmed batches move the checkpoint, so a crash replays only what
  // is in flight. Waiting on ClickHouse is not the entry's doing: its guard pauses.
  const uint64_t bytes = batch->bytes();
  const uint64_t entry = guard_ ? guard_->current() : 0;
  bool paused = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const bool room = inflight_ < limits_.inserts_in_flight * 2 &&
                      (inflight_ == 0 || inflight_bytes_ + bytes <= limits_.inflight_bytes);
    if (room && budget_->TryAcquire(bytes)) break;
    if (stopping_ && Clock::now() >= stop_deadline_) {
      // No room by the stop deadline: the batch stays open (unsent, so the checkpoint stays
      // below it) and is read again after the restart. The entry is not to blame: its
      // guard stays paused, so this exit counts no attempt against it.
      if (entry != 0 && !paused) guard_->Pause();
      return false;
    }
    if (entry != 0 && !paused) {
      guard_->Pause();
      paused = true;
    }
    // The server-wide budget frees when other pipelines' inserts end: looked at again soon.
    inflight_cv_.wait_for(lock, milliseconds(room ? 10 : 200));
    lock.unlock();
    AckSettled();
    lock.lock();
  }
  if (paused) guard_->Begin(entry);
  ++inflight_;
  inflight_bytes_ += bytes;
  pending_min_.insert(batch->first.seq);
  lock.unlock();
  metrics_.batch_records.Observe(static_cast<double>(batch->row_count));
  metrics_.batch_bytes.Observe(static_cast<double>(batch->rows.size()));
  auto sent = std::make_shared<Batch>(std::move(*batch));
  scheduler_->Submit(queue_, [this, sent](clickhouse::Client& c) { RunInsert(c, sent); });
  const size_t rows_bytes = sent->rows.size(), rows = sent->refs.size();
  batch->Clear();
  SparePool::Get().Take(&batch->rows, &batch->refs);
  // The next batch is likely as big: allocate it once rather than grow it by doubling
  // (each doubling copies the rows encoded so far).
  batch->rows.reserve(rows_bytes);
  batch->refs.reserve(rows);
  return true;
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
  cuts_->Trim(low);
}

void Pipeline::WorkerLoop() {
  if (!OpenStorage()) return;
  {
    // A parked pipeline (stopped through the API, or waiting for its predecessor) takes
    // requests into its buffer and leaves the table alone until it consumes.
    std::unique_lock<std::mutex> lock(mu_);
    work_cv_.wait(lock, [&] { return consume_ || stopping_; });
    if (!consume_ || stopping_) return;
  }
  if (!PlanRetrying()) return;
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
  auto failure_backoff = milliseconds(500);  // doubled before its first use
  while (true) {
    const uint64_t inserted_before = stats_.batches_inserted.load();
    Status failure = Consume();
    if (failure.ok()) break;  // stopping
    // A table-level failure (dropped, changed, not writable): wait for the table to be
    // fixed, then take over the log again from the oldest row ClickHouse did not confirm.
    stats_.sink_failures++;
    SetState(State::kFailed, failure);
    if (!SettleAfterFailure()) break;  // stopping meanwhile
    // The table may read as fine while INSERTs still fail (a read-only user, INSERT rights
    // revoked): the next try waits, longer each time until an INSERT succeeds again.
    failure_backoff = stats_.batches_inserted.load() != inserted_before
                          ? milliseconds(1000)
                          : std::min(failure_backoff * 2, milliseconds(30000));
    if (!SleepUntilRetry(failure_backoff)) break;
    if (!PlanRetrying()) break;
  }
  Watchdog::Get().Remove(watch);
}

Status Pipeline::Consume() {
  // Take over the log from its checkpoint: what a previous consumer read but did not
  // confirm is delivered again.
  log_->Rewind();
  acked_ = next_unread_ = log_->checkpoint();
  if (auto cuts = cuts_->Load(); cuts.ok()) {
    replay_ = ReplayPlan(*cuts, routes_.tables, acked_);
  } else {
    SLOG(WARN) << "pipeline " << config_.id << ": cannot read the cut journal (replayed batches "
               << "are re-cut): " << cuts.status().message();
  }
  Clock::time_point deadline = Clock::time_point::max();
  std::vector<Batch>& batches = open_;
  batches.assign(routes_.tables.size(), Batch());
  for (size_t r = 0; r < batches.size(); ++r) batches[r].route = r;
  auto pending = [&] {
    for (const Batch& b : batches)
      if (b.row_count > 0) return true;
    return false;
  };
  bool gave_up = false;  // a flush found no room by the stop deadline: stop reading
  auto flush = [&](Batch* b) {
    if (gave_up) return;  // the rest of the entry is abandoned, nothing else is sent
    size_t route = b->route;
    if (Flush(b)) {
      flushed_routes_ |= 1u << route;
    } else {
      gave_up = true;
      abort_.store(kAbortAny);  // the entry being encoded (if any) is abandoned
    }
    b->route = route;
    if (!pending()) deadline = Clock::time_point::max();
  };
  auto flush_all = [&] {  // a replayed batch is held until its last row
    for (Batch& b : batches)
      if (!replay_.Holds(b.route)) flush(&b);
  };
  auto sink_failure = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return sink_failure_;
  };
  Clock::time_point idle_since = Clock::now();
  while (true) {
    if (Status f = sink_failure(); !f.ok()) return f;
    auto entries = log_->Read(kReadEntries, kReadBytes);
    if (!entries.ok()) {
      SLOG(ERROR) << "pipeline " << config_.id
                  << ": cannot read the buffer: " << entries.status().message();
    }
    const bool got = entries.ok() && !entries->empty();
    if (got) {
      idle_since = Clock::now();
      for (buffer::Entry& e : *entries) {
        if (!ProcessEntry(e, flush)) return absl::OkStatus();  // abandoned at shutdown
        if (pending() && deadline == Clock::time_point::max()) deadline = Clock::now() + MaxDelay();
      }
      if (!pending()) deadline = Clock::time_point::max();
    }
    if (!got && !replay_.empty()) {
      // Caught up: planned rows that never came are gone (a corrupt entry was skipped), so
      // batches still open under the plan become ordinary ones, journaled when cut.
      replay_.Clear();
      for (Batch& b : batches) b.replayed = false;
    }
    if (pending() && Clock::now() >= deadline) flush_all();
    if (gave_up) return absl::OkStatus();  // stopping: what is open stays in the log
    AckSettled();
    if (got) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && next_unread_ >= drain_until_) break;  // the rest is a successor's
      continue;                                              // more may be waiting
    }
    if (!pending() && Clock::now() - idle_since > std::chrono::seconds(5)) {
      // Idle: the open batches' buffers go (a pipeline that was busy once keeps nothing).
      for (Batch& b : batches) {
        std::string().swap(b.rows);
        std::vector<RowRef>().swap(b.refs);
      }
      idle_since = Clock::time_point::max() - std::chrono::hours(1);
    }
    // Nothing new: leave when stopping (everything durable has been read), else wait.
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    work_cv_.wait_until(lock, std::min(deadline, Clock::now() + milliseconds(200)));
  }
  for (Batch& b : batches) Flush(&b);  // shutdown: everything read goes out
  return absl::OkStatus();
}

bool Pipeline::SettleAfterFailure() {
  // The rows of the open batches were never sent: their entries are read again.
  for (const Batch& b : open_) {
    if (b.row_count > 0) next_unread_ = std::min(next_unread_, b.first.seq);
    if (dedup_) dedup_->Release(b.keys);
  }
  open_.clear();
  bool settled;
  {
    // Batches in flight end quickly (an INSERT after the failure is not attempted), unless
    // the pipeline stops meanwhile.
    std::unique_lock<std::mutex> lock(mu_);
    while (inflight_ > 0 && !stopping_) inflight_cv_.wait_for(lock, milliseconds(200));
    settled = inflight_ == 0;
  }
  AckSettled();  // up to the oldest row not confirmed: the failed batches stay pending
  if (!settled) return false;  // stopping: what is pending keeps the checkpoint where it is
  // Everything from the checkpoint on is read again: nothing read is settled beyond it.
  next_unread_ = acked_;
  std::lock_guard<std::mutex> lock(mu_);
  pending_min_.clear();
  sink_failure_ = absl::OkStatus();
  return true;
}

Status Pipeline::SetUpTransforms() {
  if (!transforms_)
    return config_.transforms.empty()
               ? absl::OkStatus()
               : absl::FailedPreconditionError("the transforms do not compile");
  if (transforms_->dedups() && !dedup_) {
    auto index = transform::DedupIndex::Open(
        Cat(limits_.data_dir, "/pipelines/", config_.id, "/dedup"), config_.dedup_bytes);
    if (!index.ok()) return index.status();
    dedup_ = std::make_unique<DedupStage>(std::move(*index), config_.transforms.dedup_window);
  }
  hooks_.keys = dedup_ != nullptr;
  hooks_.admit = [this](const otlp::RecordCtx& ctx, uint32_t record, const otlp::Value** outputs,
                        transform::KeyAt* key) {
    return Admit(ctx, record, entry_request_, outputs, key);
  };
  hooks_.release = [this](const transform::KeyAt& k, bool confirmed) {
    if (confirmed) {
      replayed_keys_.push_back(k);
    } else if (dedup_) {
      dedup_->Release(std::span(&k, 1));
    }
  };
  return absl::OkStatus();
}

bool Pipeline::Admit(const otlp::RecordCtx& ctx, uint32_t record, std::string_view request,
                     const otlp::Value** outputs, transform::KeyAt* key) {
  transform::Transforms::Scratch& s = *scratch_;
  auto dead_letter = [&](std::string_view reason) {
    if (reason == "transform_error") stats_.rows_transform_failed++;
    std::string json;
    otlp::AppendRecordJson(config_.signal, ctx, &json);
    if (!WriteDeadLetter("transform", reason, s.why, json,
                         otlp::ExtractRecord(config_.signal, request, record)))
      abort_.store(kAbortAny);  // stopping: the entry stays in the log
    return false;
  };
  if (transforms_->filters()) {
    switch (transforms_->Filter(ctx, s)) {
      case transform::Transforms::Verdict::kKeep: stats_.rows_filter_kept++; break;
      case transform::Transforms::Verdict::kDrop: stats_.rows_filtered++; return false;
      case transform::Transforms::Verdict::kDeadLetter:
        stats_.rows_filter_failed++;
        return dead_letter("filter_error");
    }
  }
  if (dedup_) {
    if (transforms_->Key(ctx, s, &key->key)) {
      const int64_t now = UnixMillis();
      if (!dedup_->Admit(*key, *dedup_reader_, now)) {
        stats_.rows_deduplicated++;
        key->key = {};
        return false;
      }
    } else {
      stats_.dedup_keys_missing++;  // no key: the record is kept
    }
    stats_.rows_dedup_kept++;
  }
  if (transforms_->stateless()) {
    if (!transforms_->Stateless(ctx, s)) {
      if (dedup_ && !IsZeroKey(key->key)) dedup_->Release(std::span(key, 1));
      key->key = {};
      return dead_letter("transform_error");
    }
    *outputs = s.outputs.data();
    stats_.rows_transformed++;
  }
  return true;
}

uint64_t Pipeline::dedup_entries() const {
  if (!storage_ready_.load() || !dedup_) return 0;
  return dedup_->index().entries();
}

void Pipeline::SettleKeys(const Batch& batch, size_t a, size_t b, bool confirmed) {
  if (!dedup_ || batch.keys.size() < b) return;
  const auto keys = std::span(batch.keys).subspan(a, b - a);
  if (confirmed) {
    if (Status s = dedup_->Commit(keys, UnixMillis()); !s.ok()) {
      stats_.dedup_index_full++;
      SLOG(WARN) << "pipeline " << config_.id << ": " << s.message();
    }
  }
}

}  // namespace sluice::pipeline
