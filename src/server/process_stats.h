// The process's own figures for /metrics (CPU, memory, descriptors), read from /proc.
// Thread-safe (reads only).
#pragma once

#include <cstdint>

namespace sluice::server {

struct ProcessStats {
  double cpu_seconds = 0;       // user + system
  uint64_t resident_bytes = 0;  // RSS
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;  // the soft limit
  uint64_t threads = 0;
  double start_time_seconds = 0;  // Unix time the process started
};

ProcessStats ReadProcessStats();

}  // namespace sluice::server
