// The dedup stage of one pipeline: which keys are seen. A key is seen when the index has
// it (its row was committed to ClickHouse within the window) or when a row carrying it is
// on its way (admitted, not yet settled). Keys become durable only once their rows are
// confirmed (Commit), so a crash can never drop a row that was not inserted; a row that
// is not inserted after all (dead-lettered, read again after a failure) releases its key.
// Thread-safe: the worker admits, inserter threads commit and release.
#pragma once

#include <absl/container/flat_hash_set.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <span>

#include "transform/dedup_index.h"

namespace sluice::pipeline {

class DedupStage {
 public:
  DedupStage(std::shared_ptr<transform::DedupIndex> index, std::chrono::milliseconds window)
      : index_(std::move(index)), window_(window) {}

  // True when the row at `k`'s position is the key's first: no row on its way carries
  // the key, and the index has it from no earlier row. A row replayed after a restart
  // whose key its own confirmed row recorded is admitted again, so a replayed batch has
  // exactly its rows (and its insert_deduplication_token). An admitted key is pending
  // until Release. `reader` is a snapshot of the index taken for the entry.
  bool Admit(const transform::KeyAt& k, const transform::DedupIndex::Reader& reader,
             int64_t now_ms);
  // A snapshot of the index for the next entry's Admits. Keys committed after it was
  // taken are still seen (kept in memory until a later snapshot holds them).
  std::unique_ptr<transform::DedupIndex::Reader> Snapshot();
  // Records keys of confirmed rows as seen for the window (durably), and ends their
  // pending state. Zero keys (rows without one) are skipped. An error when the index
  // refused them (full): logged by the caller; duplicates of them may then pass, nothing
  // is lost.
  Status Commit(std::span<const transform::KeyAt> keys, int64_t now_ms);
  // Ends the pending state of keys (committed or not).
  void Release(std::span<const transform::KeyAt> keys);
  // Deletes expired keys, a bounded amount per call.
  void Sweep(int64_t now_ms);

  size_t pending() const;
  transform::DedupIndex& index() { return *index_; }

 private:
  std::shared_ptr<transform::DedupIndex> index_;
  const std::chrono::milliseconds window_;
  mutable std::mutex mu_;
  absl::flat_hash_set<transform::Key128, transform::Key128Hash> pending_;  // guarded by mu_
  // Committed since the oldest snapshot in use may have been taken: (generation, key).
  uint64_t generation_ = 0;                                                   // guarded by mu_
  std::deque<std::pair<uint64_t, transform::Key128>> recent_;                 // guarded by mu_
  absl::flat_hash_set<transform::Key128, transform::Key128Hash> recent_set_;  // guarded by mu_
};

inline bool IsZeroKey(const transform::Key128& k) { return k.lo == 0 && k.hi == 0; }

}  // namespace sluice::pipeline
