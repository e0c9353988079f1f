#include "pipeline/insert_scheduler.h"

#include <algorithm>
#include <map>

#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace sluice::pipeline {

using Clock = std::chrono::steady_clock;

std::shared_ptr<InsertScheduler> InsertScheduler::ForEndpoint(const clickhouse::Endpoint& ep,
                                                              size_t threads) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<InsertScheduler>> all;
  // The password is part of the identity (a connection authenticates as someone), the
  // database is not (INSERTs name theirs).
  const std::string key = ep.Key();
  std::lock_guard<std::mutex> lock(mu);
  if (auto s = all[key].lock()) return s;
  auto s = std::make_shared<InsertScheduler>(ep, threads);
  all[key] = s;
  return s;
}

InsertScheduler::InsertScheduler(clickhouse::Endpoint ep, size_t threads) : ep_(std::move(ep)) {
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) {
    try {
      threads_.emplace_back([this] {
        NameThisThread("sluice-insert");
        LowerThisThreadPriority(5);
        Loop();
      });
    } catch (const std::system_error& e) {  // out of threads: fewer inserters, not an abort
      SLOG(ERROR) << "cannot start an inserter for " << ep_.Describe() << ": " << e.what();
      break;
    }
  }
}

InsertScheduler::~InsertScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::shared_ptr<InsertScheduler::Queue> InsertScheduler::AddQueue(size_t max_running) {
  return std::make_shared<Queue>(std::max<size_t>(1, max_running));
}

void InsertScheduler::Submit(const std::shared_ptr<Queue>& q, Job job) {
  if (threads_.empty()) {  // no inserter could start: the caller runs the job itself
    clickhouse::Client client(ep_);
    job(client);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    q->jobs_.push_back(std::move(job));
    if (!q->ready_ && q->running_ < q->max_running_) {
      q->ready_ = true;
      ready_.push_back(q);
    }
  }
  cv_.notify_one();
}

void InsertScheduler::RunQueuedNow(const std::shared_ptr<Queue>& q) {
  std::deque<Job> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs.swap(q->jobs_);
    if (q->ready_) {
      ready_.erase(std::remove(ready_.begin(), ready_.end(), q), ready_.end());
      q->ready_ = false;
    }
  }
  if (jobs.empty()) return;
  clickhouse::Client idle(ep_);
  for (Job& job : jobs) job(idle);
}

uint32_t InsertScheduler::pressure() const { return pressure_.load(std::memory_order_relaxed); }

void InsertScheduler::ReportPressure() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  if (now - last_pressure_ < std::chrono::seconds(1)) return;
  last_pressure_ = now;
  if (pressure_ < 16) {
    pressure_ = pressure_ * 2;
    SLOG(WARN) << "ClickHouse " << ep_.Describe()
               << " reports part or query pressure: batches grow " << pressure_ << "-fold";
  }
}

void InsertScheduler::Loop() {
  clickhouse::Client client(ep_);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !ready_.empty(); });
    if (pressure_ > 1 && Clock::now() - last_pressure_ > std::chrono::seconds(10)) {
      pressure_ = pressure_ / 2;  // ClickHouse has kept up for a while: back towards normal batches
      last_pressure_ = Clock::now();
    }
    if (ready_.empty()) {
      if (stop_) return;
      continue;
    }
    // Round robin: the first ready queue runs its next job and, if it may run another,
    // goes to the back.
    std::shared_ptr<Queue> q = std::move(ready_.front());
    ready_.pop_front();
    Job job = std::move(q->jobs_.front());
    q->jobs_.pop_front();
    ++q->running_;
    q->ready_ = !q->jobs_.empty() && q->running_ < q->max_running_;
    if (q->ready_) ready_.push_back(q);
    lock.unlock();
    job(client);
    job = nullptr;
    lock.lock();
    --q->running_;
    if (!q->ready_ && !q->jobs_.empty()) {
      q->ready_ = true;
      ready_.push_back(q);
      cv_.notify_one();
    }
  }
}

}  // namespace sluice::pipeline
