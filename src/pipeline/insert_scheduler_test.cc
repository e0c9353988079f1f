#include "pipeline/insert_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pipeline/memory_budget.h"

namespace sluice::pipeline {
namespace {

using namespace std::chrono_literals;

clickhouse::Endpoint Ep(int port) {
  clickhouse::Endpoint ep;
  ep.port = port;  // nothing listens: the jobs here do not use the connection
  return ep;
}

TEST(InsertScheduler, OneSchedulerPerEndpointSharedByItsPipelines) {
  auto a = InsertScheduler::ForEndpoint(Ep(1), 2);
  auto b = InsertScheduler::ForEndpoint(Ep(1), 8);
  auto c = InsertScheduler::ForEndpoint(Ep(2), 2);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(a->threads(), 2u);
}

// A pipeline with a long queue does not hold back another: queues take turns, and each
// runs at most its own share at once.
TEST(InsertScheduler, QueuesTakeTurnsWithinTheirLimits) {
  InsertScheduler s(Ep(3), 2);
  auto busy = s.AddQueue(1), other = s.AddQueue(1);
  std::atomic<int> busy_running{0}, busy_max{0}, done{0};
  std::atomic<int> other_done_at{-1};
  for (int i = 0; i < 20; ++i)
    s.Submit(busy, [&](clickhouse::Client&) {
      int r = ++busy_running;
      busy_max = std::max(busy_max.load(), r);
      std::this_thread::sleep_for(5ms);
      --busy_running;
      ++done;
    });
  s.Submit(other, [&](clickhouse::Client&) { other_done_at = done.load(); });
  for (int i = 0; i < 500 && done < 20; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(done, 20);
  EXPECT_EQ(busy_max, 1) << "at most max_running of one queue at once";
  EXPECT_GE(other_done_at, 0);
  EXPECT_LT(other_done_at, 3) << "the other queue ran almost at once, not after all 20";
}

// A stopping pipeline's jobs that wait behind other pipelines' run at once on the caller.
TEST(InsertScheduler, QueuedJobsRunNowWhenAPipelineStops) {
  InsertScheduler s(Ep(5), 1);
  auto slow = s.AddQueue(1), stopping = s.AddQueue(1);
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  s.Submit(slow, [&](clickhouse::Client&) {
    while (!release) std::this_thread::sleep_for(1ms);  // holds the only inserter
  });
  std::this_thread::sleep_for(20ms);
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{true};
  for (int i = 0; i < 3; ++i)
    s.Submit(stopping, [&](clickhouse::Client&) {
      on_caller = on_caller && std::this_thread::get_id() == caller;
      ++ran;
    });
  s.RunQueuedNow(stopping);
  EXPECT_EQ(ran, 3);
  EXPECT_TRUE(on_caller);
  release = true;
}

TEST(InsertScheduler, PressureDoublesOnReportsAndHasACeiling) {
  InsertScheduler s(Ep(4), 1);
  EXPECT_EQ(s.pressure(), 1u);
  s.ReportPressure();
  EXPECT_EQ(s.pressure(), 2u);
  s.ReportPressure();  // within a second of the last: counted once
  EXPECT_EQ(s.pressure(), 2u);
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(1010ms);
    s.ReportPressure();
  }
  EXPECT_EQ(s.pressure(), 16u);
}

TEST(MemoryBudget, BatchesWaitForRoomButOneAlwaysFits) {
  MemoryBudget b(100);
  EXPECT_TRUE(b.TryAcquire(60));
  EXPECT_FALSE(b.TryAcquire(50));
  EXPECT_TRUE(b.TryAcquire(40));
  b.Release(60);
  b.Release(40);
  EXPECT_TRUE(b.TryAcquire(500)) << "alone, a batch larger than the budget still goes";
  EXPECT_FALSE(b.TryAcquire(1));
  b.Release(500);
  EXPECT_EQ(b.used(), 0u);
}

}  // namespace
}  // namespace sluice::pipeline
