// Names the calling thread (as seen in top -H, perf and /proc/<pid>/task/*/comm), so
// profiles and the end-to-end benchmark can attribute CPU to receivers, workers and
// inserters. Linux truncates names to 15 bytes.
#pragma once

#include <pthread.h>

namespace sluice {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace sluice
