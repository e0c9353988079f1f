// The wall clock as Unix milliseconds: times shown to operators (status documents, dead
// letters' last insert) and stored in the buffer's entries. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
