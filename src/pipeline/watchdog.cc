#include "pipeline/watchdog.h"

#include <malloc.h>
#include <time.h>

#include "core/thread_name.h"

namespace sluice::pipeline {
namespace {
int64_t ThreadCpuNanos(pthread_t t) {
  clockid_t clock;
  if (pthread_getcpuclockid(t, &clock) != 0) return -1;
  timespec ts;
  if (clock_gettime(clock, &ts) != 0) return -1;
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

Watchdog& Watchdog::Get() {
  static Watchdog* dog = new Watchdog();  // never destroyed: workers may outlive main's scope
  return *dog;
}

Watchdog::Watchdog() {
  thread_ = std::thread([this] {
    NameThisThread("sluice-watchdog");
    Loop();
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int Watchdog::Add(Watch w) {
  std::lock_guard<std::mutex> lock(mu_);
  const int id = next_id_++;
  watched_[id].w = std::move(w);
  cv_.notify_all();  // a shorter budget may need a shorter period
  return id;
}

void Watchdog::Remove(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  watched_.erase(id);
}

void Watchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto trimmed = std::chrono::steady_clock::now();
  while (!stop_) {
    // Memory freed after a burst stays with the allocator (RSS grew run after run and did
    // not come back when idle): handed back to the system every 10 s.
    if (std::chrono::steady_clock::now() - trimmed > std::chrono::seconds(10)) {
      trimmed = std::chrono::steady_clock::now();
      lock.unlock();
      malloc_trim(0);
      lock.lock();
    }
    // Sample often enough to notice an overrun within a quarter of the smallest budget.
    auto period = std::chrono::milliseconds(250);
    for (const auto& [id, x] : watched_)
      period = std::max(std::chrono::milliseconds(5), std::min(period, x.w.budget / 4));
    cv_.wait_for(lock, period, [&] { return stop_; });
    for (auto& [id, x] : watched_) {
      const uint64_t entry = x.w.entry();
      const int64_t cpu = entry != 0 ? ThreadCpuNanos(x.w.thread) : 0;
      // Not in an entry, or paused in one (waiting for room to hand a batch over): nothing
      // is counted meanwhile, but what the entry spent so far stays; an entry that pauses
      // between batches would otherwise never reach its budget.
      if (entry == 0 || cpu < 0) continue;
      if (entry == x.entry) {
        x.spent_ns += cpu - x.cpu_ns;
      } else {
        x.entry = entry;  // new entry: counted from this sample (at most one period late)
        x.spent_ns = 0;
      }
      x.cpu_ns = cpu;
      if (x.spent_ns > std::chrono::nanoseconds(x.w.budget).count()) x.w.overrun->store(entry);
    }
  }
}

}  // namespace sluice::pipeline
