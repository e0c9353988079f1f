#include "buffer/crc32c.h"

#include <cstring>

#include "core/bytes.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace sluice::buffer {
namespace {

struct Table {
  uint32_t t[256];
  Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
      t[i] = c;
    }
  }
};

}  // namespace

uint32_t Crc32cPortable(std::string_view data, uint32_t crc) {
  static const Table table;
  crc = ~crc;
  for (unsigned char b : data) crc = table.t[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

namespace {

#if defined(__x86_64__)
// One crc32 instruction has a latency of three cycles and a throughput of one per cycle, so
// long inputs run three independent streams over adjacent blocks and join their registers
// afterwards. Joining uses linearity: reg(init, A || B) = Shift(reg(init, A), |B|) ^
// reg(0, B), where Shift(x, n) is the register after n zero bytes, read from four tables
// (one per byte of x) built once for the block length.
constexpr size_t kBlock = 4096;

__attribute__((target("sse4.2"))) uint64_t Raw(uint64_t c, const char* p, size_t n) {
  for (; n >= 8; p += 8, n -= 8) c = _mm_crc32_u64(c, LoadFixed<uint64_t>(p));
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*p++));
  return c32;
}

struct ShiftTables {
  uint32_t t[4][256];
  ShiftTables() {
    static const char zeros[kBlock] = {};
    uint32_t basis[32];  // Shift(1 << i, kBlock)
    for (int i = 0; i < 32; ++i) basis[i] = static_cast<uint32_t>(Raw(1ull << i, zeros, kBlock));
    for (int k = 0; k < 4; ++k)
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int bit = 0; bit < 8; ++bit)
          if (b & (1u << bit)) v ^= basis[8 * k + bit];
        t[k][b] = v;
      }
  }
  uint32_t Shift(uint32_t x) const {
    return t[0][x & 0xff] ^ t[1][(x >> 8) & 0xff] ^ t[2][(x >> 16) & 0xff] ^ t[3][x >> 24];
  }
};

__attribute__((target("sse4.2"))) uint32_t Hardware(std::string_view data, uint32_t crc) {
  static const ShiftTables shift;
  uint64_t c = ~crc & 0xffffffffu;
  const char* p = data.data();
  size_t n = data.size();
  for (; n >= 3 * kBlock; p += 3 * kBlock, n -= 3 * kBlock) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      c = _mm_crc32_u64(c, LoadFixed<uint64_t>(p + i));
      c1 = _mm_crc32_u64(c1, LoadFixed<uint64_t>(p + kBlock + i));
      c2 = _mm_crc32_u64(c2, LoadFixed<uint64_t>(p + 2 * kBlock + i));
    }
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
  }
  return ~static_cast<uint32_t>(Raw(c, p, n));
}

bool HasSse42() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_SSE4_2) != 0;
}
#endif

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  static const bool hw = HasSse42();
  if (hw) return Hardware(data, crc);
#endif
  return Crc32cPortable(data, crc);
}

}  // namespace sluice::buffer
