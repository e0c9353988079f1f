// Remembers, across crashes, which log entry the pipeline's worker is processing, so that
// an entry that crashes or wedges the server is quarantined after a bounded number of
// attempts instead of being retried at every start, forever.
//
// The state is a small file mapped into memory: marking the entry in progress is a store,
// not a system call. The page outlives the process (kill -9, a crash, an exit at the
// shutdown deadline); a power cut may lose it, which only loses an attempt count.
// Thread-compatible: used by the worker thread; current() may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace sluice::pipeline {

class EntryGuard {
 public:
  // Opens (creating) the file and counts an attempt against the entry that was in progress
  // when the previous run ended, if any. Fails cleanly (no later SIGBUS) when its one
  // block cannot be allocated.
  static StatusOr<std::unique_ptr<EntryGuard>> Open(const std::string& path, uint32_t max_attempts);
  ~EntryGuard();
  EntryGuard(const EntryGuard&) = delete;
  EntryGuard& operator=(const EntryGuard&) = delete;

  // The entry to quarantine (its processing ended a run max_attempts times), or 0.
  uint64_t quarantined() const;
  // How many runs ended while processing suspect().
  uint32_t attempts() const;
  uint64_t suspect() const;

  // Processing of entry `seq` starts (or resumes after a wait for ClickHouse).
  void Begin(uint64_t seq);
  // Processing of the current entry finished, or it was quarantined.
  void End();
  // Processing waits (for room among the batches in flight): time spent waiting on
  // ClickHouse is not the entry's fault. Begin resumes it.
  void Pause();
  // The entry being processed, or 0 (any thread).
  uint64_t current() const;

 private:
  EntryGuard(int fd, void* map, uint32_t max_attempts);
  struct State;
  State* state_;
  int fd_;
  const uint32_t max_attempts_;
};

}  // namespace sluice::pipeline
