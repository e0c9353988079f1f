// CityHash128 as of Google CityHash 1.0.2, the version ClickHouse froze for the checksums of
// its compressed frames (later CityHash versions give other values). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::clickhouse {

struct Hash128 {
  uint64_t low = 0, high = 0;  // written low then high, each little-endian, on the wire
};

Hash128 CityHash128V102(const char* data, size_t len);

}  // namespace sluice::clickhouse
