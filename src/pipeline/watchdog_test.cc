#include "pipeline/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sluice::pipeline {
namespace {

using std::chrono::milliseconds;

TEST(Watchdog, FlagsAnEntryThatSpendsItsCpuBudget) {
  std::atomic<uint64_t> entry{0}, overrun{0};
  std::atomic<bool> done{false};
  std::thread worker([&] {
    entry = 5;
    while (overrun.load() != 5 && !done.load()) {
    }  // spins: spends CPU on entry 5
    entry = 0;
  });
  const int id = Watchdog::Get().Add(
      {worker.native_handle(), [&] { return entry.load(); }, &overrun, milliseconds(100)});
  auto t0 = std::chrono::steady_clock::now();
  while (overrun.load() != 5 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(milliseconds(5));
  done = true;
  worker.join();
  Watchdog::Get().Remove(id);
  EXPECT_EQ(overrun.load(), 5u);
}

TEST(Watchdog, PausesInAnEntryDoNotResetWhatItSpent) {
  // The worker spends CPU on entry 6 in slices of about 20 ms, pausing (entry 0) between
  // them as it does while it waits to hand a batch over: the slices add up to the budget.
  std::atomic<uint64_t> entry{0}, overrun{0};
  std::atomic<bool> done{false};
  std::thread worker([&] {
    while (overrun.load() != 6 && !done.load()) {
      entry = 6;
      const auto until = std::chrono::steady_clock::now() + milliseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }
      entry = 0;
      std::this_thread::sleep_for(milliseconds(30));
    }
  });
  const int id = Watchdog::Get().Add(
      {worker.native_handle(), [&] { return entry.load(); }, &overrun, milliseconds(60)});
  auto t0 = std::chrono::steady_clock::now();
  while (overrun.load() != 6 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(milliseconds(5));
  done = true;
  worker.join();
  Watchdog::Get().Remove(id);
  EXPECT_EQ(overrun.load(), 6u);
}

TEST(Watchdog, WaitingIsNotSpending) {
  // A worker that sleeps while marked as processing uses no CPU: never flagged.
  std::atomic<uint64_t> entry{8}, overrun{0};
  std::atomic<bool> done{false};
  std::thread worker([&] {
    while (!done) std::this_thread::sleep_for(milliseconds(10));
  });
  const int id = Watchdog::Get().Add(
      {worker.native_handle(), [&] { return entry.load(); }, &overrun, milliseconds(40)});
  std::this_thread::sleep_for(milliseconds(400));
  done = true;
  worker.join();
  Watchdog::Get().Remove(id);
  EXPECT_EQ(overrun.load(), 0u);
}

}  // namespace
}  // namespace sluice::pipeline
