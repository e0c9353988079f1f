// Counters and histograms of one pipeline (and, for requests routed to no pipeline, of the
// server), updated on the hot path with relaxed atomics and read by the admin listener's
// /metrics and status endpoints. Thread-safe; dead letters by reason take a mutex (they are
// rare by nature).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/histogram.h"

namespace sluice::pipeline {

enum class Transport : uint8_t { kHttp = 0, kGrpc = 1 };
inline constexpr size_t kTransports = 2;
std::string_view TransportName(Transport t);

// Requests by transport and wire status (HTTP status code, or gRPC code name), with their
// durations (from the request read to the answer), and the records they carried.
class RequestMetrics {
 public:
  static constexpr size_t kSlots = 17;  // gRPC codes 0..16; HTTP statuses mapped below

  RequestMetrics();
  // `status`: the HTTP status, or the gRPC code. `accepted`/`refused`: records stored, and
  // records refused (the whole request's when it failed, partial_success rejections).
  void Record(Transport t, int status, double seconds, uint64_t accepted, uint64_t refused);

  // The slot of a wire status, and the label value a slot stands for.
  static size_t Slot(Transport t, int status);
  static std::string_view StatusLabel(Transport t, size_t slot);

  uint64_t accepted(Transport t) const { return accepted_[Index(t)].load(kRelaxed); }
  uint64_t refused(Transport t) const { return refused_[Index(t)].load(kRelaxed); }
  uint64_t requests(Transport t, size_t slot) const {
    return requests_[Index(t)][slot].load(kRelaxed);
  }
  const Histogram& durations(Transport t, size_t slot) const { return *durations_[Index(t)][slot]; }

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  static size_t Index(Transport t) { return static_cast<size_t>(t); }
  std::atomic<uint64_t> accepted_[kTransports] = {}, refused_[kTransports] = {};
  std::atomic<uint64_t> requests_[kTransports][kSlots] = {};
  std::unique_ptr<Histogram> durations_[kTransports][kSlots];
};

// Why an INSERT was retried.
enum class RetryClass : uint8_t { kConnection = 0, kPressure = 1, kServer = 2 };
inline constexpr size_t kRetryClasses = 3;
std::string_view RetryClassName(RetryClass c);

class PipelineMetrics {
 public:
  RequestMetrics requests;
  Histogram ack_latency{kLatencyBounds};      // request submitted -> durable in the buffer
  Histogram insert_duration{kLatencyBounds};  // one INSERT attempt that succeeded
  Histogram batch_records{kRecordCountBounds};
  Histogram batch_bytes{kByteBounds};
  std::atomic<int64_t> last_insert_ms{0};  // wall clock of the last successful INSERT
  std::atomic<uint64_t> sent_bytes{0};     // INSERT data sent to ClickHouse, every attempt

  void Retried(RetryClass c) { retries_[static_cast<size_t>(c)].fetch_add(1, kRelaxed); }
  uint64_t retries(RetryClass c) const { return retries_[static_cast<size_t>(c)].load(kRelaxed); }

  void DeadLettered(std::string_view reason);
  std::map<std::string, uint64_t, std::less<>> dead_letters() const;

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  std::atomic<uint64_t> retries_[kRetryClasses] = {};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> dead_letters_;  // guarded by mu_
};

}  // namespace sluice::pipeline
