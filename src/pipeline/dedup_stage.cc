#include "pipeline/dedup_stage.h"

#include <vector>

namespace sluice::pipeline {

bool DedupStage::Admit(const transform::KeyAt& k, const transform::DedupIndex::Reader& reader,
                       int64_t now_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.contains(k.key) || recent_set_.contains(k.key)) return false;
  }
  transform::KeyAt by;
  if (reader.Seen(k.key, now_ms, &by) && (by.seq < k.seq || (by.seq == k.seq && by.rec < k.rec)))
    return false;  // recorded by an earlier row
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.insert(k.key).second;
}

std::unique_ptr<transform::DedupIndex::Reader> DedupStage::Snapshot() {
  {
    // Keys committed before this point are in the snapshot taken after it.
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t g = generation_;
    while (!recent_.empty() && recent_.front().first <= g) {
      recent_set_.erase(recent_.front().second);
      recent_.pop_front();
    }
  }
  return std::make_unique<transform::DedupIndex::Reader>(index_.get());
}

Status DedupStage::Commit(std::span<const transform::KeyAt> keys, int64_t now_ms) {
  thread_local std::vector<transform::KeyAt> real;
  real.clear();
  for (const auto& k : keys)
    if (!IsZeroKey(k.key)) real.push_back(k);
  Status s = index_->Commit(real, now_ms + window_.count());
  // Seen from now on: through recent_ until a snapshot holds them. (The generation moves
  // after the commit, so a snapshot taken after the pruning that drops them sees them.)
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  for (const auto& k : real) {
    pending_.erase(k.key);
    if (recent_set_.insert(k.key).second) recent_.emplace_back(generation_, k.key);
  }
  return s;
}

void DedupStage::Release(std::span<const transform::KeyAt> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& k : keys)
    if (!IsZeroKey(k.key)) pending_.erase(k.key);
}

void DedupStage::Sweep(int64_t now_ms) { index_->Sweep(now_ms, 10000); }

size_t DedupStage::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace sluice::pipeline
