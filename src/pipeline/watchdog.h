// Stops the processing of a log entry that overruns its CPU budget. One server-wide thread
// samples, a few times a second, the CPU time of each pipeline worker that is processing
// an entry (EntryGuard::current); a worker that has spent more than its budget on the same
// entry has that entry named in its overrun cell, which it checks between records, and
// abandons the entry.
// Costs the hot path nothing but that flag's load. The same thread hands freed heap memory
// back to the system every 10 s (malloc_trim). Thread-safe.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace sluice::pipeline {

class Watchdog {
 public:
  struct Watch {
    pthread_t thread;                 // the worker
    std::function<uint64_t()> entry;  // the entry it is processing, 0: none
    std::atomic<uint64_t>* overrun;   // set to the entry when its budget is spent
    std::chrono::milliseconds budget;
  };

  // The server's watchdog, started on first use.
  static Watchdog& Get();
  ~Watchdog();

  int Add(Watch w);
  void Remove(int id);

 private:
  Watchdog();
  void Loop();
  struct Watched {
    Watch w;
    uint64_t entry = 0;    // what it was processing at the last sample
    int64_t cpu_ns = 0;    // the worker's CPU clock then
    int64_t spent_ns = 0;  // CPU spent on `entry` since it was first seen
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Watched> watched_;  // guarded by mu_
  int next_id_ = 1;                 // guarded by mu_
  bool stop_ = false;               // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::pipeline
