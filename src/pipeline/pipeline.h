// One running pipeline: a bounded in-memory queue of accepted OTLP requests, one worker
// thread that turns them into RowBinary batches (cut at max_batch_size rows or
// max_delay_time), and a few inserter threads that send batches to ClickHouse, retrying
// retryable failures with backoff. Thread-safe: Submit may be called from any receiver
// thread; Start/Stop from the control thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/insert_plan.h"
#include "core/status.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"

namespace sluice::pipeline {

struct Limits {
  size_t queue_bytes = 256u << 20;  // accepted request bytes waiting for the worker
  size_t inserts_in_flight = 2;     // concurrent INSERTs per pipeline
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(20)};
};

struct PipelineStats {
  std::atomic<uint64_t> requests{0}, records_accepted{0}, rows_inserted{0}, rows_rejected{0},
      rows_failed{0}, rows_unrouted{0}, batches_inserted{0}, insert_retries{0};
};

class Pipeline {
 public:
  enum class State { kStarting, kRunning, kFailed, kStopped };

  Pipeline(PipelineConfig config, Limits limits);
  ~Pipeline();  // stops

  // Starts the threads. The worker first reads the table's columns and builds the insert
  // plan; a permanent error moves the pipeline to kFailed (see error()).
  void Start();
  // Stops accepting, drains the queue, flushes and finishes in-flight inserts within the
  // shutdown timeout. Idempotent.
  void Stop();

  // Accepts a validated request (protobuf bytes) with its record count. Returns
  // Overloaded when the queue is full and Unavailable when the pipeline failed or stopped.
  Status Submit(std::string request, uint64_t records);

  const PipelineConfig& config() const { return config_; }
  State state() const { return state_.load(); }
  std::string error() const;
  const PipelineStats& stats() const { return stats_; }
  // Blocks until everything submitted so far is inserted or the timeout passes (tests).
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  struct Item {
    std::string bytes;
    uint64_t records;
  };
  void WorkerLoop();
  void InserterLoop();
  Status BuildPlan();
  void Flush(Batch* batch);
  void Fail(const Status& s);

  const PipelineConfig config_;
  const Limits limits_;
  Routes routes_;  // written by the worker before kRunning, then read-only
  std::atomic<State> state_{State::kStarting};
  PipelineStats stats_;

  mutable std::mutex mu_;
  std::condition_variable queue_cv_;     // worker waits for items
  std::condition_variable inflight_cv_;  // inserters wait for batches; worker waits for room
  std::condition_variable idle_cv_;
  std::deque<Item> queue_;     // guarded by mu_
  size_t queue_bytes_ = 0;     // guarded by mu_
  std::deque<Batch> batches_;  // guarded by mu_
  size_t inserting_ = 0;       // guarded by mu_
  bool worker_busy_ = false;   // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  bool workers_done_ = false;  // guarded by mu_
  std::string error_;          // guarded by mu_

  std::thread worker_;
  std::vector<std::thread> inserters_;
};

}  // namespace sluice::pipeline
