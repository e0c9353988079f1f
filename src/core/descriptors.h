// The process's file descriptors: how many are open and how many may be. Pipelines open
// their files only while a share of the limit stays free for connections, so running out
// shows as 503 for some pipelines rather than as a server that cannot accept at all.
// Thread-safe.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace sluice {

// Open descriptors (counted in /proc/self/fd; linear in their number, for rare checks).
uint64_t OpenDescriptors();
// The soft RLIMIT_NOFILE.
uint64_t DescriptorLimit();
// Unavailable when opening `needed` more files would leave less than the connections'
// share (an eighth of the limit, 32 to 1024) free.
Status CheckDescriptorBudget(uint64_t needed);

}  // namespace sluice
