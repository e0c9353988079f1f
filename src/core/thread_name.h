// Names the calling thread (as seen in top -H, perf and /proc/<pid>/task/*/comm), so
// profiles and the end-to-end benchmark can attribute CPU to receivers, workers and
// inserters. Linux truncates names to 15 bytes.
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sluice {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

// Lowers the calling thread's CPU priority (Linux: nice applies per thread). The sink's
// threads call it so that, when the cores are busy, receivers (whose latency clients
// wait on) run first; the sink catches up from the durable buffer.
inline void LowerThisThreadPriority(int nice) {
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
}

}  // namespace sluice
