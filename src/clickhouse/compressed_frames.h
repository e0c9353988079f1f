// ClickHouse's compressed frames (clickhouse-protocol.md §4): a CityHash128 v1.0.2 checksum,
// a method byte, the compressed and uncompressed sizes, and the payload (raw, an LZ4 block or
// a zstd frame). The native protocol's compressed blocks, and HTTP bodies sent with
// `decompress=1`. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice::clickhouse {

enum class Codec : uint8_t { kNone = 0x02, kLz4 = 0x82, kZstd = 0x90 };

// "none", "lz4", "zstd"; false for anything else.
bool ParseCodec(std::string_view name, Codec* out);
std::string_view CodecName(Codec c);

inline constexpr size_t kFrameHeader = 25;              // checksum 16, method 1, two sizes 4 + 4
inline constexpr size_t kDefaultFrameBytes = 1u << 20;  // uncompressed bytes per frame

// Appends `data` to `out` as frames of at most `frame_bytes` uncompressed bytes each (an
// empty `data` gives no frame).
void AppendFrames(Codec codec, std::string_view data, std::string* out,
                  size_t frame_bytes = kDefaultFrameBytes);

// Decodes a sequence of whole frames, checking every checksum and size; at most `max_out`
// bytes are produced. InvalidArgument names what is wrong; nothing is read past `in`.
StatusOr<std::string> DecodeFrames(std::string_view in, size_t max_out);

}  // namespace sluice::clickhouse
