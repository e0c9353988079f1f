// One running pipeline: accepted OTLP requests are appended to the pipeline's durable log
// (the client is answered once the append is durable); one worker thread reads the log,
// turns requests into RowBinary batches (cut at max_batch_size rows or max_delay_time),
// journals each batch's cut, and a few inserter threads send batches to ClickHouse, retrying
// retryable failures with backoff. The log's checkpoint advances only past entries whose rows
// ClickHouse confirmed, so a crash at any point re-delivers instead of losing; the journaled cuts
// make a restart rebuild unconfirmed batches with the same rows (same deduplication token).
// Thread-safe: Submit from any receiver thread; Start/StartConsuming/Stop from the control
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
#include "core/status.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "pipeline/cut_journal.h"
#include "pipeline/dead_letters.h"
#include "pipeline/entry_guard.h"

namespace sluice::pipeline {

struct Limits {
  size_t queue_bytes = 256u << 20;  // bytes of accepted requests waiting in the buffer
  size_t inserts_in_flight = 2;     // concurrent INSERTs per pipeline
  // Memory of batches cut but not yet confirmed, per pipeline (at least one batch goes
  // whatever its size): bounds RSS whatever max_batch_size and the backlog are.
  size_t inflight_bytes = 128u << 20;
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
      insert_retries{0}, entries_quarantined{0};
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
  Pipeline(PipelineConfig config, Limits limits, Storage storage);
  ~Pipeline();  // stops

  // Starts the threads. The worker first reads the table's columns and builds the insert
  // plan; a permanent error moves the pipeline to kFailed (see error()). With
  // consume=false the worker does not read the log until StartConsuming (used when this
  // pipeline replaces another that still drains the same log).
  void Start(bool consume = true);
  void StartConsuming();
  // Stops accepting, flushes what was read, finishes in-flight inserts within the shutdown
  // timeout and moves the checkpoint past what ClickHouse confirmed. Idempotent.
  void Stop();

  // Appends a validated request (protobuf bytes) with its record count to the log and
  // returns once it is durable. Overloaded when the buffer is full; Unavailable when the
  // pipeline failed or stopped or the write failed.
  Status Submit(std::string_view request, uint64_t records);

  const PipelineConfig& config() const { return config_; }
  State state() const { return state_.load(); }
  std::string error() const;
  const PipelineStats& stats() const { return stats_; }

 private:
  void WorkerLoop();
  void InserterLoop();
  // Encodes one entry into the open batches. False: abandoned at shutdown (it stays in the
  // log, unacknowledged). A quarantined entry, or one that overruns its CPU budget, goes to
  // the dead-letter queue whole.
  bool ProcessEntry(buffer::Entry& e, std::vector<Batch>& batches,
                    const std::function<void(Batch*)>& flush);
  // Writes the whole request of entry `seq` to the dead-letter queue. False: stopping.
  bool Quarantine(uint64_t seq, std::string_view request, std::string_view why);
  // Writes a dead letter, retrying while the queue cannot be written (a full disk) until
  // shutdown. False: not written (stopping), the caller keeps the record in the buffer.
  bool WriteDeadLetter(std::string_view component, std::string_view reason, std::string_view error,
                       std::string_view message);
  // Sleeps `d` unless the pipeline stops first; false when stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds d);
  Status BuildPlan();
  // Journals the batch's cut (unless replayed) and queues it for an inserter.
  void Flush(Batch* batch);
  void Fail(const Status& s);
  // Moves the log's checkpoint past every settled entry: everything read whose rows are
  // neither in an open batch nor in an unconfirmed one. Consumer thread only.
  void AckSettled();
  // Inserts rows [a, b) of the batch; a permanent rejection splits the range until the
  // rejected rows are found and written to the dead-letter queue. Clears *complete when
  // rows could not be settled (shutdown, or the DLQ failed): they stay in the buffer.
  void Deliver(clickhouse::HttpClient& client, const std::string& params, const Batch& batch,
               size_t a, size_t b, bool* complete);
  // One INSERT, retried while the failure is retryable. Unavailable: gave up (shutdown).
  Status InsertRetrying(clickhouse::HttpClient& client, const std::string& params,
                        std::string_view rows);

  const PipelineConfig config_;
  const Limits limits_;
  const std::shared_ptr<buffer::LocalLog> log_;
  DeadLetters dlq_;
  std::unique_ptr<EntryGuard> guard_;  // worker thread; null when its file cannot be kept
  // The worker abandons the entry it encodes when this holds the entry's seq (the watchdog:
  // CPU budget spent) or kAbortAny (shutdown deadline passed).
  std::atomic<uint64_t> abort_{0};
  uint32_t flushed_routes_ = 0;  // worker: routes whose batch was flushed during this entry
  CutJournal cuts_;              // consumer thread only
  ReplayPlan replay_;            // worker thread only
  Routes routes_;                // written by the worker before kRunning, then read-only
  bool dedup_token_ = false;     // the server takes insert_deduplication_token (22.2+)
  std::atomic<State> state_{State::kStarting};
  PipelineStats stats_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;      // worker: new entries, finished inserts, stop
  std::condition_variable inflight_cv_;  // inserters wait for batches; worker waits for room
  std::condition_variable stop_cv_;      // sleepers, and Stop waiting for the worker
  std::deque<Batch> batches_;            // guarded by mu_; flushed, waiting for an inserter
  size_t inserting_ = 0;                 // guarded by mu_
  uint64_t inflight_bytes_ = 0;          // guarded by mu_; bytes() of queued + inserting
  // Row buffers of inserted batches, kept for the next batches (capacity reused).
  struct SpareRows {
    std::string rows;
    std::vector<RowRef> refs;
  };
  static constexpr size_t kSpareRows = 2;
  static constexpr size_t kSpareRowsMaxBytes = 32u << 20;
  std::vector<SpareRows> spare_rows_;    // guarded by mu_
  std::multiset<uint64_t> pending_min_;  // guarded by mu_; first seq of each unconfirmed batch
  bool consume_ = false;                 // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  bool workers_done_ = false;            // guarded by mu_
  bool worker_exited_ = false;           // guarded by mu_
  std::chrono::steady_clock::time_point stop_deadline_;  // guarded by mu_; set by Stop
  std::string error_;                                    // guarded by mu_

  std::vector<Batch> open_;   // consumer: the batches being filled, one per route
  uint64_t next_unread_ = 0;  // consumer: the seq after the last entry encoded
  uint64_t acked_ = 0;        // consumer: the last checkpoint written

  std::thread worker_;
  std::vector<std::thread> inserters_;
  std::once_flag stop_once_;
};

}  // namespace sluice::pipeline
