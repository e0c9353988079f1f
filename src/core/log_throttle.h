// Rate-limits a kind of log line: at most `burst` lines per `window`; lines over that are
// counted, and the next allowed line reports how many were suppressed.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace sluice {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(int burst = 10, Clock::duration window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // Whether to log now. When true, *suppressed gets the lines dropped since the last one.
  bool Allow(uint64_t* suppressed, Clock::time_point now = Clock::now()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (now - window_start_ >= window_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= burst_) {
      ++suppressed_;
      return false;
    }
    ++used_;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const int burst_;
  const Clock::duration window_;
  std::mutex mu_;
  Clock::time_point window_start_{};  // guarded by mu_
  int used_ = 0;                      // guarded by mu_
  uint64_t suppressed_ = 0;           // guarded by mu_
};

}  // namespace sluice
