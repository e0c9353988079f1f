// Byte builders for tests of the native protocol: what a server sends, written by hand.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"

namespace sluice::clickhouse::native {

// A String field: VarUInt length, then the bytes.
inline std::string Str(std::string_view s) {
  std::string out;
  ByteWriter(&out).String(s);
  return out;
}

// The server Hello of ClickHouse 18.16.1 (revision 54412), as observed, with the given time
// zone and display name.
inline std::string ServerHello1816(std::string_view tz, std::string_view display_name) {
  return std::string("\x00", 1) + Str("ClickHouse") + "\x12\x10" + std::string("\x8c\xa9\x03", 3) +
         Str(tz) + Str(display_name) + "\x01";
}

}  // namespace sluice::clickhouse::native
