// The inserters of one ClickHouse endpoint, shared by every pipeline that writes to it: a
// fixed number of threads, each with its own connection, take batches from the pipelines'
// queues in turn. INSERTs then grow with the data, not with the number of pipelines
// (hundreds of pipelines with inserters of their own made ClickHouse answer "too many
// parts" and "too many simultaneous queries"). When ClickHouse does say so, the scheduler's
// pressure factor rises and pipelines cut larger, fewer batches until it falls again.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/client.h"

namespace sluice::pipeline {

class InsertScheduler {
 public:
  // A job runs on an inserter thread with that thread's connection.
  using Job = std::function<void(clickhouse::Client&)>;

  // One pipeline's jobs: run in order of submission, at most `max_running` at once.
  class Queue {
   public:
    explicit Queue(size_t max_running) : max_running_(max_running) {}

   private:
    friend class InsertScheduler;
    const size_t max_running_;
    std::deque<Job> jobs_;  // guarded by the scheduler's mu_
    size_t running_ = 0;    // guarded by the scheduler's mu_
    bool ready_ = false;    // in the scheduler's ready list; guarded by its mu_
  };

  // The scheduler of `ep` (same host, port and user), created with `threads` inserters on
  // first use and kept while any pipeline holds it.
  static std::shared_ptr<InsertScheduler> ForEndpoint(const clickhouse::Endpoint& ep,
                                                      size_t threads);
  InsertScheduler(clickhouse::Endpoint ep, size_t threads);
  ~InsertScheduler();  // runs what is queued, then stops the threads

  std::shared_ptr<Queue> AddQueue(size_t max_running);
  void Submit(const std::shared_ptr<Queue>& q, Job job);
  // Runs the queue's jobs that have not started, now, on the calling thread, with a client
  // that has no connection (a stopping pipeline's jobs give up at once rather than wait
  // for their turn behind other pipelines' INSERTs).
  void RunQueuedNow(const std::shared_ptr<Queue>& q);

  // 1, 2, 4, ... 16: how much larger pipelines should cut their batches. Doubles (at most
  // once a second) on each report of part or query pressure, halves after 10 s without one.
  uint32_t pressure() const;
  void ReportPressure();
  size_t threads() const { return threads_.size(); }

 private:
  void Loop();
  const clickhouse::Endpoint ep_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Queue>> ready_;  // queues with a job they may start; mu_
  bool stop_ = false;                         // guarded by mu_
  std::atomic<uint32_t> pressure_{1};         // changed under mu_, read by workers without it
  std::chrono::steady_clock::time_point last_pressure_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace sluice::pipeline
