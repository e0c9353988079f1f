// A Prometheus-style histogram with fixed bucket bounds: observations are counted in the
// first bucket whose upper bound holds them (the last one is +Inf) and summed.
// Thread-safe and lock-free: Observe is a few relaxed atomic additions, fit for the hot
// path; a reader may see a count and a sum a moment apart (as Prometheus clients do).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

namespace sluice {

class Histogram {
 public:
  // `bounds`: ascending upper bounds (static storage: it is referred to, not copied).
  explicit Histogram(std::span<const double> bounds)
      : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
    for (size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  void Observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size() is +Inf.
  uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Bucket bounds used across the server.
inline constexpr double kLatencyBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,   0.5,   1,      2.5,   5,    10,    30};
// Disk flushes: from a tenth of a millisecond (a fast disk's fdatasync) up.
inline constexpr double kSyncBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,    0.1,    0.25,  0.5,    1,     10};
inline constexpr double kRecordCountBounds[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
inline constexpr double kByteBounds[] = {1024, 16384, 262144, 1048576, 4194304, 16777216, 67108864};

}  // namespace sluice
