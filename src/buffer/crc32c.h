// CRC32C (Castagnoli), as used by the log's entry and checkpoint checksums. Uses the SSE4.2
// instruction (three interleaved streams on long inputs) when the CPU has it, a table
// otherwise. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::buffer {

uint32_t Crc32c(std::string_view data, uint32_t crc = 0);
// The same by table, whatever the CPU (the reference the fast path is tested against).
uint32_t Crc32cPortable(std::string_view data, uint32_t crc = 0);

// Stored CRCs are masked so that a CRC over data that contains CRCs stays strong.
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace sluice::buffer
