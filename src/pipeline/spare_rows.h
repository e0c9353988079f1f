// Row buffers of inserted batches, kept for the next batches of any pipeline (a fresh
// multi-megabyte buffer is page-faulted in, and zeroed by the kernel, page by page).
// Server-wide and bounded, so that hundreds of pipelines do not each keep their own.
// Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "pipeline/batch_encoder.h"

namespace sluice::pipeline {

class SparePool {
 public:
  static SparePool& Get() {
    static SparePool* pool = new SparePool();
    return *pool;
  }
  void Put(std::string&& rows, std::vector<RowRef>&& refs) {
    if (rows.capacity() > kMaxBytes) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.size() >= kCount) return;
    rows.clear();
    refs.clear();
    spares_.push_back({std::move(rows), std::move(refs)});
  }
  bool Take(std::string* rows, std::vector<RowRef>* refs) {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.empty()) return false;
    *rows = std::move(spares_.back().rows);
    *refs = std::move(spares_.back().refs);
    spares_.pop_back();
    return true;
  }

 private:
  static constexpr size_t kCount = 4;
  static constexpr size_t kMaxBytes = 32u << 20;
  struct Spare {
    std::string rows;
    std::vector<RowRef> refs;
  };
  std::mutex mu_;
  std::vector<Spare> spares_;
};

}  // namespace sluice::pipeline
