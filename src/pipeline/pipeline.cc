#include "pipeline/pipeline.h"

#include <random>

#include "clickhouse/errors.h"
#include "clickhouse/http_client.h"
#include "core/cat.h"
#include "core/log.h"

namespace sluice::pipeline {

using Clock = std::chrono::steady_clock;

namespace {
constexpr size_t kReadEntries = 64;
constexpr size_t kReadBytes = 8u << 20;
}  // namespace

Pipeline::Pipeline(PipelineConfig config, Limits limits, std::shared_ptr<buffer::LocalLog> log)
    : config_(std::move(config)), limits_(std::move(limits)), log_(std::move(log)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start(bool consume) {
  consume_ = consume;
  worker_ = std::thread([this] { WorkerLoop(); });
  for (size_t i = 0; i < std::max<size_t>(1, limits_.inserts_in_flight); ++i)
    inserters_.emplace_back([this] { InserterLoop(); });
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
    }
    work_cv_.notify_all();
    inflight_cv_.notify_all();
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
    if (next_unread_ > 0) {
      uint64_t low = next_unread_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!pending_min_.empty()) low = std::min(low, *pending_min_.begin());
      }
      AckDone(low);
    }
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
  if (st == State::kFailed)
    return absl::UnavailableError(Cat("pipeline '", config_.id, "' has failed: ", error()));
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
  std::unique_lock<std::mutex> lock(mu_);
  // Bounded in-flight batches: the worker waits, the buffer fills, clients are throttled.
  inflight_cv_.wait(lock,
                    [&] { return batches_.size() + inserting_ < limits_.inserts_in_flight * 2; });
  pending_min_.insert(batch->min_seq);
  batches_.push_back(std::move(*batch));
  batch->rows.clear();
  batch->row_count = 0;
  inflight_cv_.notify_all();
}

void Pipeline::AckDone(uint64_t low) {
  if (low <= acked_) return;
  Status s = log_->Ack(low);
  if (!s.ok()) {
    SLOG(ERROR) << "pipeline " << config_.id
                << ": cannot write the buffer checkpoint: " << s.message();
    return;  // retried at the next acknowledgement; at worst entries are delivered again
  }
  acked_ = low;
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

  Clock::time_point deadline = Clock::time_point::max();
  std::vector<Batch> batches(routes_.tables.size());
  for (size_t r = 0; r < batches.size(); ++r) batches[r].route = r;
  auto pending = [&] {
    for (const Batch& b : batches)
      if (b.row_count > 0) return true;
    return false;
  };
  auto flush = [&](Batch* b) {
    size_t route = b->route;
    Flush(b);
    b->route = route;
    if (!pending()) deadline = Clock::time_point::max();
  };
  auto flush_all = [&] {
    for (Batch& b : batches) Flush(&b);
    deadline = Clock::time_point::max();
  };
  // The checkpoint may move up to the first entry still held by a batch.
  auto ack = [&] {
    uint64_t low = next_unread_;
    for (const Batch& b : batches)
      if (b.row_count > 0) low = std::min(low, b.min_seq);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_min_.empty()) low = std::min(low, *pending_min_.begin());
    }
    AckDone(low);
  };
  while (true) {
    auto entries = log_->Read(kReadEntries, kReadBytes);
    if (!entries.ok()) {
      SLOG(ERROR) << "pipeline " << config_.id
                  << ": cannot read the buffer: " << entries.status().message();
    }
    const bool got = entries.ok() && !entries->empty();
    if (got) {
      for (const buffer::Entry& e : *entries) {
        EncodeStats es = EncodeRequest(config_.signal, routes_, e.payload,
                                       config_.sink.max_batch_size, batches, flush, e.seq);
        next_unread_ = e.seq + 1;
        if (pending() && deadline == Clock::time_point::max())
          deadline = Clock::now() + config_.sink.max_delay;
        if (es.rejected > 0) {
          stats_.rows_rejected += es.rejected;
          SLOG(WARN) << "pipeline " << config_.id << ": " << es.rejected
                     << " record(s) could not be converted to the table's column types: "
                     << es.first_error;
        }
        if (es.unrouted > 0) {
          stats_.rows_unrouted += es.unrouted;
          SLOG(WARN) << "pipeline " << config_.id << ": " << es.unrouted
                     << " data point(s) of a metric type with no table were not written";
        }
      }
    }
    if (pending() && Clock::now() >= deadline) flush_all();
    ack();
    if (got) continue;  // more may be waiting
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    work_cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)));
    if (stopping_) {
      lock.unlock();
      // Drain what is already durable before leaving.
      continue;
    }
  }
  flush_all();  // shutdown: everything read goes out
}

void Pipeline::InserterLoop() {
  std::mt19937_64 rng(std::random_device{}());
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
    auto backoff = std::chrono::milliseconds(100);
    Clock::time_point give_up = Clock::time_point::max();
    bool done = true;  // confirmed or permanently rejected: the checkpoint may pass it
    while (true) {
      auto r = client->Post(params, batch.rows);
      Status s = r.ok() ? (r->status == 200 ? absl::OkStatus()
                                            : clickhouse::StatusFromResponse(r->status, r->body))
                        : r.status();
      if (s.ok()) {
        stats_.rows_inserted += batch.row_count;
        stats_.batches_inserted++;
        break;
      }
      if (!IsRetryable(s)) {
        stats_.rows_failed += batch.row_count;
        SLOG(ERROR) << "pipeline " << config_.id << ": ClickHouse rejected a batch of "
                    << batch.row_count << " rows: " << s.message();
        break;
      }
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (stopping_ && give_up == Clock::time_point::max())
          give_up = Clock::now() + limits_.shutdown_timeout;
      }
      if (Clock::now() >= give_up) {
        done = false;  // stays in the buffer: delivered again after the restart
        SLOG(WARN) << "pipeline " << config_.id << ": shutting down with a batch of "
                   << batch.row_count << " rows not inserted; it stays in the buffer";
        break;
      }
      stats_.insert_retries++;
      SLOG(WARN) << "pipeline " << config_.id << ": insert failed, retrying in " << backoff.count()
                 << " ms: " << s.message();
      std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
      std::unique_lock<std::mutex> lock(mu_);
      inflight_cv_.wait_for(lock, backoff + std::chrono::milliseconds(jitter(rng)),
                            [&] { return stopping_ && give_up == Clock::time_point::max(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      --inserting_;
      if (done) pending_min_.erase(pending_min_.find(batch.min_seq));
    }
    inflight_cv_.notify_all();
    work_cv_.notify_all();
  }
}

}  // namespace sluice::pipeline
