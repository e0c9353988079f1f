// A small fixed pool of threads running posted tasks in order of posting (with several
// threads, tasks may overlap). Used for the durable logs' group commits, so that receiver
// threads never block on fdatasync. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice {

class Executor {
 public:
  Executor(size_t threads, std::string name);
  ~Executor();  // runs what was posted, then joins
  void Post(std::function<void()> task);

  // The process's commit pool (four threads: they mostly wait on the disk).
  static Executor& Commits();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace sluice
