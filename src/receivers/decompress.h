// Request body decompression with a cap on the decompressed size (gzip-bomb safe).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice::receivers {

// Decodes `body` per its Content-Encoding: identity (or empty), gzip, x-gzip, deflate
// (zlib or raw), zstd, snappy (block format), x-snappy-framed, lz4 (frame format).
// ResourceExhausted when the result would exceed `limit` bytes; InvalidArgument for
// corrupt data; Unimplemented for an unknown coding.
StatusOr<std::string> Decompress(std::string_view encoding, std::string_view body, size_t limit);

}  // namespace sluice::receivers
