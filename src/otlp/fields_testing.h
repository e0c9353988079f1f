// Protobuf fields written by hand, for tests that build requests byte by byte (shapes that
// libprotobuf's classes would not produce, or would take too long to build).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/wire.h"

namespace sluice::otlp::testing {

inline std::string LenField(uint32_t field, std::string_view v) {
  std::string out;
  PutTag(field, kLen, &out);
  PutVarint(v.size(), &out);
  out.append(v);
  return out;
}

inline std::string VarintField(uint32_t field, uint64_t v) {
  std::string out;
  PutTag(field, kVarint, &out);
  PutVarint(v, &out);
  return out;
}

}  // namespace sluice::otlp::testing
