// Server-wide bytes of batches cut and not yet confirmed by ClickHouse, shared by every
// pipeline, so that a slow ClickHouse with many pipelines costs what the data costs, not
// pipelines times per-pipeline limits. A batch that does not fit waits; when nothing else
// is held, any batch fits (one larger than the budget goes alone), so no pipeline starves.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>

namespace sluice::pipeline {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}

  // Takes `bytes` when they fit (or nothing is held); false: wait and try again.
  bool TryAcquire(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (used_ > 0 && used_ + bytes > limit_) return false;
    used_ += bytes;
    return true;
  }
  void Release(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= bytes < used_ ? bytes : used_;
  }
  uint64_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  mutable std::mutex mu_;
  uint64_t used_ = 0;  // guarded by mu_
};

}  // namespace sluice::pipeline
