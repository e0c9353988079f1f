// The last minutes of every pipeline's figures, sampled in the server itself so the console
// draws its rate graphs without a Prometheus: records in, rows written and dead letters
// (counters: the console takes differences), and the buffer's depth and age. A thread of
// its own samples every `interval`; each pipeline keeps its last `keep` samples, and a
// pipeline that is gone is dropped at the next sample. Bounded: keep x pipelines.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "pipeline/registry.h"

namespace sluice::control {

class MetricsHistory {
 public:
  struct Sample {
    int64_t unix_ms = 0;
    uint64_t records_in = 0;
    uint64_t rows_written = 0;
    uint64_t dead_letters = 0;
    uint64_t buffer_records = 0;
    uint64_t buffer_bytes = 0;
    double oldest_age_seconds = 0;
  };

  MetricsHistory(pipeline::Registry& registry, std::chrono::milliseconds interval, size_t keep);
  ~MetricsHistory();  // Stop

  void Start();  // takes a first sample at once
  void Stop();   // idempotent
  // One sample of every pipeline now (the thread's work; tests call it directly).
  void SampleNow(int64_t unix_ms);

  // {"interval_seconds": s, "pipelines": {id: {"t": [unix ms...], "records_in": [...],
  //  "rows_written", "dead_letters", "buffer_records", "buffer_bytes",
  //  "oldest_age_seconds"}}}, oldest first.
  nlohmann::json Json() const;

 private:
  void Run();

  pipeline::Registry& registry_;
  const std::chrono::milliseconds interval_;
  const size_t keep_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;                                 // guarded by mu_
  std::map<std::string, std::deque<Sample>> series_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::control
