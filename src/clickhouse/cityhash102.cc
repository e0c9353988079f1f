#include "clickhouse/cityhash102.h"

#include <cstring>
#include <utility>

namespace sluice::clickhouse {
namespace {

using Pair = std::pair<uint64_t, uint64_t>;

constexpr uint64_t k0 = 0xc3a5c85c97cb3127ULL;
constexpr uint64_t k1 = 0xb492b66fbe98f273ULL;
constexpr uint64_t k2 = 0x9ae16a3b2f90404fULL;
constexpr uint64_t k3 = 0xc949d7c7509e6557ULL;

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only (x86-64, aarch64), as the rest of the encoders
}
uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t Rot(uint64_t v, int s) { return s == 0 ? v : (v >> s) | (v << (64 - s)); }
uint64_t RotAtLeast1(uint64_t v, int s) { return (v >> s) | (v << (64 - s)); }
uint64_t ShiftMix(uint64_t v) { return v ^ (v >> 47); }

// 128 bits to 64, Murmur-inspired.
uint64_t Mix128(uint64_t low, uint64_t high) {
  constexpr uint64_t kMul = 0x9ddfea08eb382d69ULL;
  uint64_t a = (low ^ high) * kMul;
  a ^= a >> 47;
  uint64_t b = (high ^ a) * kMul;
  b ^= b >> 47;
  return b * kMul;
}
uint64_t HashLen16(uint64_t u, uint64_t v) { return Mix128(u, v); }

uint64_t HashLen0to16(const char* s, size_t len) {
  if (len > 8) {
    const uint64_t a = Load64(s), b = Load64(s + len - 8);
    return HashLen16(a, RotAtLeast1(b + len, static_cast<int>(len))) ^ b;
  }
  if (len >= 4) {
    const uint64_t a = Load32(s);
    return HashLen16(len + (a << 3), Load32(s + len - 4));
  }
  if (len > 0) {
    const uint8_t a = static_cast<uint8_t>(s[0]), b = static_cast<uint8_t>(s[len >> 1]),
                  c = static_cast<uint8_t>(s[len - 1]);
    const uint32_t y = static_cast<uint32_t>(a) + (static_cast<uint32_t>(b) << 8);
    const uint32_t z = static_cast<uint32_t>(len) + (static_cast<uint32_t>(c) << 2);
    return ShiftMix(y * k2 ^ z * k3) * k2;
  }
  return k2;
}

Pair WeakHash32(uint64_t w, uint64_t x, uint64_t y, uint64_t z, uint64_t a, uint64_t b) {
  a += w;
  b = Rot(b + a + z, 21);
  const uint64_t c = a;
  a += x;
  a += y;
  b += Rot(a, 44);
  return {a + z, b + c};
}
Pair WeakHash32(const char* s, uint64_t a, uint64_t b) {
  return WeakHash32(Load64(s), Load64(s + 8), Load64(s + 16), Load64(s + 24), a, b);
}

// Inputs under 128 bytes.
Hash128 Murmur(const char* s, size_t len, uint64_t a, uint64_t b) {
  uint64_t c = 0, d = 0;
  if (len <= 16) {
    a = ShiftMix(a * k1) * k1;
    c = b * k1 + HashLen0to16(s, len);
    d = ShiftMix(a + (len >= 8 ? Load64(s) : c));
  } else {
    c = HashLen16(Load64(s + len - 8) + k1, a);
    d = HashLen16(b + len, c + Load64(s + len - 16));
    a += d;
    size_t left = len - 16;
    do {
      a ^= ShiftMix(Load64(s) * k1) * k1;
      a *= k1;
      b ^= a;
      c ^= ShiftMix(Load64(s + 8) * k1) * k1;
      c *= k1;
      d ^= c;
      s += 16;
      left = left > 16 ? left - 16 : 0;
    } while (left > 0);
  }
  a = HashLen16(a, c);
  b = HashLen16(d, b);
  return {a ^ b, HashLen16(b, a)};
}

Hash128 WithSeed(const char* s, size_t len, uint64_t seed_low, uint64_t seed_high) {
  if (len < 128) return Murmur(s, len, seed_low, seed_high);
  uint64_t x = seed_low, y = seed_high, z = len * k1;
  Pair v, w;
  v.first = Rot(y ^ k1, 49) * k1 + Load64(s);
  v.second = Rot(v.first, 42) * k1 + Load64(s + 8);
  w.first = Rot(y + z, 35) * k1 + x;
  w.second = Rot(x + Load64(s + 88), 53) * k1;
  auto round64 = [&] {
    x = Rot(x + y + v.first + Load64(s + 16), 37) * k1;
    y = Rot(y + v.second + Load64(s + 48), 42) * k1;
    x ^= w.second;
    y ^= v.first;
    z = Rot(z ^ w.first, 33);
    v = WeakHash32(s, v.second * k1, x + w.first);
    w = WeakHash32(s + 32, z + w.second, y);
    std::swap(z, x);
    s += 64;
  };
  do {
    round64();
    round64();
    len -= 128;
  } while (len >= 128);
  y += Rot(w.first, 37) * k0 + z;
  x += Rot(v.first + z, 49) * k0;
  // Up to four 32-byte chunks from the end.
  for (size_t done = 0; done < len;) {
    done += 32;
    y = Rot(y - x, 42) * k0 + v.second;
    w.first += Load64(s + len - done + 16);
    x = Rot(x, 49) * k0 + w.first;
    w.first += v.first;
    v = WeakHash32(s + len - done, v.first, v.second);
  }
  x = HashLen16(x, v.first);
  y = HashLen16(y, w.first);
  return {HashLen16(x + v.second, w.second) + y, HashLen16(x + w.second, y + v.second)};
}

}  // namespace

Hash128 CityHash128V102(const char* s, size_t len) {
  if (len >= 16) return WithSeed(s + 16, len - 16, Load64(s) ^ k3, Load64(s + 8));
  if (len >= 8) return WithSeed(nullptr, 0, Load64(s) ^ (len * k0), Load64(s + len - 8) ^ k1);
  return WithSeed(s, len, k0, k1);
}

}  // namespace sluice::clickhouse
