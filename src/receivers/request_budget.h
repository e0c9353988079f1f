// Bytes of request bodies held in memory across all connections of both receivers: bodies
// being read, inflated, transcoded, and waiting for their durable append. A request that
// does not fit is answered 429 / UNAVAILABLE (retry later) before more of it is read, so
// memory has a global bound whatever clients do (40 slow 19 MiB uploads took 743 MB).
// Thread-safe; a Lease is owned by one request.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace sluice::receivers {

class RequestBudget {
 public:
  explicit RequestBudget(uint64_t limit) : limit_(limit) {}

  // Holds some of the budget until destroyed; movable.
  class Lease {
   public:
    Lease() = default;
    Lease(RequestBudget* b, uint64_t n) : b_(b), n_(n) {}
    Lease(Lease&& o) noexcept : b_(std::exchange(o.b_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    Lease& operator=(Lease&& o) noexcept {
      Release();
      b_ = std::exchange(o.b_, nullptr);
      n_ = std::exchange(o.n_, 0);
      return *this;
    }
    ~Lease() { Release(); }
    // Takes `more` bytes if they fit; false (nothing taken) otherwise.
    bool TryGrow(uint64_t more) {
      if (!b_ || !b_->TryTake(more)) return false;
      n_ += more;
      return true;
    }
    // Holds exactly `n` bytes from now on, fitting or not: data already in memory.
    void Resize(uint64_t n) {
      if (!b_) return;
      if (n > n_)
        b_->used_ += n - n_;
      else
        b_->used_ -= n_ - n;
      n_ = n;
    }
    uint64_t bytes() const { return n_; }
    void Release() {
      if (b_) b_->used_ -= n_;
      b_ = nullptr;
      n_ = 0;
    }

   private:
    RequestBudget* b_ = nullptr;
    uint64_t n_ = 0;
  };

  // A lease of `n` bytes, or an empty lease (holding nothing, `ok` false) when they do not
  // fit. Zero bytes always fit.
  Lease TryLease(uint64_t n, bool* ok) {
    *ok = TryTake(n);
    return *ok ? Lease(this, n) : Lease(this, 0);
  }
  // A lease of `n` bytes taken whether they fit or not: data already in memory (a gRPC
  // message, read by gRPC before it reaches us).
  Lease Hold(uint64_t n) {
    used_ += n;
    return Lease(this, n);
  }
  bool full() const { return used_.load() >= limit_; }
  uint64_t used() const { return used_.load(); }
  uint64_t limit() const { return limit_; }

 private:
  bool TryTake(uint64_t n) {
    uint64_t cur = used_.load();
    do {
      if (n > 0 && cur + n > limit_) return false;
    } while (!used_.compare_exchange_weak(cur, cur + n));
    return true;
  }
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace sluice::receivers
