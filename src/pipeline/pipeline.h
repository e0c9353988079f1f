// One running pipeline: accepted OTLP requests are appended to the pipeline's durable log
// (the client is answered once the append is durable); one worker thread reads the log,
// turns requests into RowBinary batches (cut at max_batch_size rows or max_delay_time),
// journals each batch's cut and hands the batch to the ClickHouse endpoint's shared
// InsertScheduler, which retries retryable failures with backoff. The log's checkpoint
// advances only past entries whose rows ClickHouse confirmed, so a crash at any point
// re-delivers instead of losing; the journaled cuts make a restart rebuild unconfirmed
// batches with the same rows (same deduplication token).
//
// The worker never gives up: storage that cannot be opened (out of descriptors), a table
// that cannot be read or is dropped, a wrong password are retried with backoff (the
// pipeline answers 503 meanwhile) and the pipeline resumes from its checkpoint once they
// are fixed. An entry that crashes or wedges the worker is quarantined (EntryGuard).
// The worker side is in pipeline.cc, the sink side (plan, INSERTs) in pipeline_sink.cc.
// Thread-safe: SubmitAsync from any receiver thread; Start/StartConsuming/Stop from the control
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/local_log.h"
#include "clickhouse/insert_plan.h"
#include "core/log_throttle.h"
#include "core/status.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "pipeline/cut_journal.h"
#include "pipeline/dead_letters.h"
#include "pipeline/dedup_stage.h"
#include "pipeline/entry_guard.h"
#include "pipeline/insert_scheduler.h"
#include "pipeline/memory_budget.h"
#include "pipeline/pipeline_metrics.h"
#include "transform/transforms.h"

namespace sluice::pipeline {

struct Limits {
  size_t queue_bytes = 256u << 20;  // bytes of accepted requests waiting in the buffer
  size_t inserts_in_flight = 2;     // concurrent INSERTs per pipeline
  // Memory of batches cut but not yet confirmed, per pipeline (at least one batch goes
  // whatever its size): bounds RSS whatever max_batch_size and the backlog are.
  size_t inflight_bytes = 128u << 20;
  // The same, for all pipelines together (see MemoryBudget).
  size_t batch_memory = 256u << 20;
  // Inserter threads (and connections) per ClickHouse endpoint, shared by its pipelines.
  size_t endpoint_inserts = 4;
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(20)};
  // An entry whose processing ended this many runs (a crash, kill -9, the shutdown
  // deadline) is quarantined to the dead-letter queue instead of being tried again.
  uint32_t entry_attempts = 3;
  // CPU time the worker may spend on one entry before it is quarantined. Every step is
  // linear, so this is far above what the largest request takes.
  std::chrono::milliseconds entry_cpu_budget{std::chrono::seconds(30)};
  std::string data_dir = ".data";
  buffer::FsyncPolicy fsync = buffer::FsyncPolicy::kAlways;
  std::chrono::milliseconds sync_interval{100};  // for FsyncPolicy::kInterval
};

struct PipelineStats {
  std::atomic<uint64_t> requests{0}, records_accepted{0}, rows_inserted{0}, rows_rejected{0},
      rows_failed{0}, rows_unrouted{0}, rows_dead_lettered{0}, batches_inserted{0},
      insert_retries{0}, entries_quarantined{0}, sink_failures{0},
      // Dead letters of rows not written (not whole quarantined requests, nor rows a view
      // rejected after the table took them): the exporter's "send failed".
      rows_send_failed{0},
      // The transforms: records the filter dropped, duplicates within the window, records
      // whose filter or stateless transform failed (dead-lettered), and records without a
      // dedup key (kept).
      rows_filtered{0}, rows_deduplicated{0}, rows_transform_failed{0}, dedup_keys_missing{0},
      dedup_index_full{0},
      // Records each stage passed on (GlassFlow's processor_messages "success").
      rows_filter_kept{0}, rows_filter_failed{0}, rows_dedup_kept{0}, rows_transformed{0};
};

class Pipeline {
 public:
  enum class State { kStarting, kRunning, kFailed, kStopped };

  // A pipeline's durable state, shared with a replacement pipeline.
  struct Storage {
    std::shared_ptr<buffer::LocalLog> buffer;  // accepted requests
    std::shared_ptr<buffer::LocalLog> dlq;     // dead letters
    std::shared_ptr<buffer::LocalLog> cuts;    // the cut journal
  };
  // Opens the storage; called by the worker, again after a failure (out of descriptors).
  using StorageOpener = std::function<StatusOr<Storage>()>;

  Pipeline(PipelineConfig config, Limits limits, StorageOpener storage,
           std::shared_ptr<MemoryBudget> budget);
  ~Pipeline();  // stops

  // Starts the worker. It opens the storage, reads the table's columns and builds the
  // insert plan, retrying each until it works (kFailed meanwhile for permanent errors).
  // With consume=false the worker does not read the log until StartConsuming (used when
  // this pipeline replaces another that still drains the same log).
  void Start(bool consume = true);
  void StartConsuming();
  // kShutdown: work ends within 3/4 of the shutdown timeout. kDrain: no deadline until
  // Hurry (the API's graceful stop: everything in the buffer reaches ClickHouse).
  // kNow: at once (terminate); what is not confirmed stays in the buffer.
  enum class StopMode { kShutdown, kDrain, kNow };
  // Stops accepting, reads the log up to the entries appended before this call, flushes,
  // finishes in-flight inserts (within the mode's deadline) and moves the checkpoint past
  // what ClickHouse confirmed. Blocks until done. Idempotent.
  void Stop(StopMode mode = StopMode::kShutdown);
  // Brings a running Stop's deadline to now (terminate during a drain): what is not
  // confirmed by then stays in the buffer. Any thread.
  void Hurry();

  // Appends a validated request (protobuf bytes) with its record count to the log without
  // blocking: `done` gets the status, inline when refused at once, else on a commit thread
  // once the append is durable. Overloaded when the buffer or the disk is full (Unavailable
  // when the pipeline has failed: its table must be fixed first); Unavailable when the
  // storage is not open yet, the pipeline is stopped, or the write failed. A failed
  // pipeline keeps buffering. `precheck` runs
  // right before the write; its error is the answer and nothing is stored (the client gave
  // up). The caller keeps the pipeline alive until `done` (IngestAsync holds a reference).
  void SubmitAsync(std::string request, uint64_t records, std::function<Status()> precheck,
                   std::function<void(Status)> done);

  const PipelineConfig& config() const { return config_; }
  State state() const { return state_.load(); }
  const PipelineStats& stats() const { return stats_; }
  // Keys in the dedup index (expired ones not yet swept included); 0 without dedup.
  uint64_t dedup_entries() const;
  // Counters and histograms; the receivers record their requests here.
  PipelineMetrics& metrics() { return metrics_; }
  // Rate-limits the receivers' log lines about records rejected in partial_success.
  LogThrottle& partial_log() { return partial_log_; }
  const PipelineMetrics& metrics() const { return metrics_; }

  // What the status endpoints show, read at one moment.
  struct Snapshot {
    State state;
    std::string error;     // the last failure (kept after recovering), empty if none
    int64_t error_ms = 0;  // its wall-clock time
    bool storage_ready = false;
    buffer::LogStats buffer;                      // valid when storage_ready
    std::shared_ptr<const buffer::LocalLog> log;  // the buffer itself, set when storage_ready
    double oldest_age_seconds = 0;                // of the oldest record not yet written (0: none)
    size_t inserts_in_flight = 0;
    int64_t created_ms = 0;        // when this pipeline (configuration) was started
    int64_t state_changed_ms = 0;  // when its state last changed
    // Takes requests into its buffer without consuming them (stopped through the API, or
    // waiting for the pipeline it replaces): reported as Stopped.
    bool parked = false;
  };
  // Bytes the buffer may hold before clients are refused.
  uint64_t buffer_limit_bytes() const {
    return config_.buffer.max_bytes > 0 ? config_.buffer.max_bytes : limits_.queue_bytes;
  }
  Snapshot TakeSnapshot() const;
  // Cuts short the wait before the next attempt to start (read the table, open storage):
  // `sluice reload` and SIGHUP, after the operator fixed something outside the file.
  void RetryNow();

 private:
  // Whether a request may be appended now (state, storage, shutdown).
  Status Admit() const;
  // The answer for an append's outcome; counts accepted requests.
  Status Appended(const StatusOr<uint64_t>& seq, uint64_t records);
  void WorkerLoop();
  // Opens the storage, retrying while it fails. False: stopping.
  bool OpenStorage();
  // Builds the insert plan, retrying (kFailed meanwhile) until it works. False: stopping.
  bool PlanRetrying();
  Status BuildPlan();
  // Reads the log from its checkpoint until stopping (OK) or until an insert meets a
  // table-level failure (returned).
  Status Consume();
  // After a table-level failure: lets the batches in flight settle, moves the checkpoint
  // to the oldest row not confirmed and drops the open batches (their rows are read again).
  // False: the pipeline stopped before the batches in flight settled.
  bool SettleAfterFailure();
  // Encodes one entry into the open batches. False: abandoned at shutdown (it stays in the
  // log, unacknowledged). A quarantined entry, or one that overruns its CPU budget, goes to
  // the dead-letter queue whole.
  bool ProcessEntry(buffer::Entry& e, const std::function<void(Batch*)>& flush);
  // Writes the whole request of entry `seq` to the dead-letter queue. False: stopping.
  bool Quarantine(uint64_t seq, std::string_view request, std::string_view why);
  // Writes a dead letter, retrying while the queue cannot be written (a full disk) until
  // shutdown. False: not written (stopping), the caller keeps the record in the buffer.
  // `request` (optional): the record as a one-record OTLP request, for reprocessing.
  bool WriteDeadLetter(std::string_view component, std::string_view reason, std::string_view error,
                       std::string_view message, std::string_view request = {});
  // Sleeps `d` unless the pipeline stops first; false when stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds d);
  // The same, also cut short by RetryNow.
  bool SleepUntilRetry(std::chrono::milliseconds d);
  // Journals the batch's cut (unless replayed), waits for room (per pipeline and server
  // wide) and hands the batch to the scheduler. False: stopping and no room came by the
  // stop deadline, the batch is left as it was (unsent). Worker thread.
  bool Flush(Batch* batch);
  void SetState(State s, const Status& why);
  // Moves the log's checkpoint past every settled entry: everything read whose rows are
  // neither in an open batch nor in an unconfirmed one. Worker thread (or Stop, after it).
  void AckSettled();
  // Runs on an inserter thread: delivers the batch and settles it.
  void RunInsert(clickhouse::Client& client, const std::shared_ptr<Batch>& batch);
  // Inserts rows [a, b) of the batch; a permanent rejection splits the range until the
  // rejected rows are found and written to the dead-letter queue. Clears *complete when
  // rows could not be settled (shutdown, a table-level failure, or the DLQ failed): they
  // stay in the buffer.
  void Deliver(clickhouse::Client& client, const Batch& batch, size_t a, size_t b, bool* complete);
  // One INSERT of `count` rows into the batch's table, retried while the failure is
  // retryable. Unavailable: gave up (shutdown).
  Status InsertRetrying(clickhouse::Client& client, const Batch& batch, std::string_view rows,
                        uint64_t count, const std::string& dedup_token);
  // Whether a permanent INSERT failure is the table's (dropped, changed, not allowed)
  // rather than the rows': the error code says so, or the table's columns changed.
  bool IsTableLevel(clickhouse::Client& client, const Batch& batch, const Status& s);
  size_t MaxBatchRows() const;
  std::chrono::milliseconds MaxDelay() const;

  const PipelineConfig config_;
  const Limits limits_;
  const StorageOpener open_storage_;
  const std::shared_ptr<MemoryBudget> budget_;
  const std::shared_ptr<InsertScheduler> scheduler_;
  const std::shared_ptr<InsertScheduler::Queue> queue_;

  // Set by the worker before storage_ready_ turns true, then unchanged.
  std::shared_ptr<buffer::LocalLog> log_;
  std::unique_ptr<DeadLetters> dlq_;
  std::unique_ptr<CutJournal> cuts_;  // worker thread
  std::atomic<bool> storage_ready_{false};

  std::unique_ptr<EntryGuard> guard_;  // worker thread; null when its file cannot be kept
  // The worker abandons the entry it encodes when this holds the entry's seq (the watchdog:
  // CPU budget spent) or kAbortAny (shutdown deadline passed).
  std::atomic<uint64_t> abort_{0};
  uint32_t flushed_routes_ = 0;  // worker: routes whose batch was flushed during this entry
  // Where each open batch stood before the entry being encoded, to take its rows back out.
  struct BatchMark {
    size_t rows_bytes, refs, sources;
    uint64_t row_count, source_bytes;
    Position first, last;
    bool replayed;
    size_t keys;
  };
  std::vector<BatchMark> marks_;  // worker; reused from entry to entry

  ReplayPlan replay_;  // worker thread only

  // The transforms (null without any), compiled once; their per-record state (worker).
  std::shared_ptr<const transform::Transforms> transforms_;
  std::unique_ptr<transform::Transforms::Scratch> scratch_;
  RecordHooks hooks_;                  // worker; built once the storage is open
  std::string_view entry_request_;     // worker: the request of the entry being encoded
  std::unique_ptr<DedupStage> dedup_;  // set by the worker before consuming, then unchanged
  std::unique_ptr<transform::DedupIndex::Reader> dedup_reader_;  // worker: the entry's snapshot
  std::vector<transform::KeyAt> replayed_keys_;  // worker: keys of confirmed rows replayed
  int64_t next_sweep_ms_ = 0;                    // worker
  // Builds hooks_ (worker, after the storage opened). False: the dedup index cannot open.
  Status SetUpTransforms();
  // Runs filter, dedup and stateless on one record (RecordHooks::admit).
  bool Admit(const otlp::RecordCtx& ctx, uint32_t record, std::string_view request,
             const otlp::Value** outputs, transform::KeyAt* key);
  // Confirmed rows' keys to the index; every key of the rows out of pending.
  void SettleKeys(const Batch& batch, size_t a, size_t b, bool confirmed);
  // Written by the worker while no insert runs (before consuming, or after settling a
  // failure), read by inserts.
  Routes routes_;
  std::vector<std::string> describes_;  // per route: DESCRIBE output the plan was built on
  std::vector<bool> null_engine_;       // per route: the table's engine is Null
  bool dedup_token_ = false;            // the server takes insert_deduplication_token (22.2+)
  std::atomic<State> state_{State::kStarting};
  PipelineStats stats_;
  PipelineMetrics metrics_;
  LogThrottle dead_letter_log_;
  LogThrottle partial_log_;
  std::atomic<bool> cancel_inserts_{false};  // INSERTs in progress give up (stop deadline)
  std::atomic<bool> cancel_plan_{false};     // the worker's table read gives up (the same)

  mutable std::mutex mu_;
  std::condition_variable work_cv_;      // worker: new entries, stop
  std::condition_variable inflight_cv_;  // worker waits for room; Stop waits for inserts
  std::condition_variable stop_cv_;      // sleepers, and Stop waiting for the worker
  size_t inflight_ = 0;                  // guarded by mu_; batches handed to the scheduler
  uint64_t inflight_bytes_ = 0;          // guarded by mu_; their bytes()
  Status sink_failure_;                  // guarded by mu_; a table-level INSERT failure
  std::multiset<uint64_t> pending_min_;  // guarded by mu_; first seq of each unconfirmed batch
  bool consume_ = false;                 // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  bool worker_exited_ = false;           // guarded by mu_
  std::chrono::steady_clock::time_point stop_deadline_;  // guarded by mu_; set by Stop
  uint64_t drain_until_ = 0;  // guarded by mu_; set by Stop: the log's end then
  bool hurried_ = false;      // guarded by mu_; see Hurry
  // Guarded by mu_: until when INSERTs already sent may finish after the stop deadline.
  std::chrono::steady_clock::time_point insert_grace_;
  std::atomic<bool> operator_stop_{false};  // Stop(kNow | kDrain) or Hurry: see ProcessEntry
  std::string last_error_;                  // guarded by mu_; kept after recovery
  int64_t last_error_ms_ = 0;               // guarded by mu_
  bool retry_now_ = false;                  // guarded by mu_; see RetryNow
  const int64_t created_ms_;
  std::atomic<int64_t> state_changed_ms_;

  std::vector<Batch> open_;   // worker: the batches being filled, one per route
  uint64_t next_unread_ = 0;  // worker: the seq after the last entry encoded
  uint64_t acked_ = 0;        // worker: the last checkpoint written

  std::thread worker_;
  std::once_flag stop_once_;
};

}  // namespace sluice::pipeline
