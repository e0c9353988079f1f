// Random lowercase hex ids (request ids, test-record markers): not secrets, only unlikely to
// repeat. Thread-safe (a generator per thread).
#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace sluice {

inline std::string RandomHex(size_t digits) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(digits);
  for (size_t i = 0; i < digits; ++i) id.push_back(kHex[rng() & 15]);
  return id;
}

}  // namespace sluice
