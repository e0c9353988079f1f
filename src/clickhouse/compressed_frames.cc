#include "clickhouse/compressed_frames.h"

#include <lz4.h>
#include <zstd.h>

#include <cstring>

#include "clickhouse/cityhash102.h"
#include "core/cat.h"

namespace sluice::clickhouse {
namespace {

void PutU32(uint32_t v, char* p) { std::memcpy(p, &v, 4); }  // little-endian hosts
uint32_t GetU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The server refuses frames over 1 GiB.
constexpr uint32_t kMaxCompressed = 0x40000000;

}  // namespace

bool ParseCodec(std::string_view name, Codec* out) {
  if (name == "none")
    *out = Codec::kNone;
  else if (name == "lz4")
    *out = Codec::kLz4;
  else if (name == "zstd")
    *out = Codec::kZstd;
  else
    return false;
  return true;
}

std::string_view CodecName(Codec c) {
  switch (c) {
    case Codec::kNone: return "none";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "none";
}

void AppendFrames(Codec codec, std::string_view data, std::string* out, size_t frame_bytes) {
  if (frame_bytes == 0) frame_bytes = kDefaultFrameBytes;
  for (size_t at = 0; at < data.size(); at += frame_bytes) {
    const std::string_view part = data.substr(at, frame_bytes);
    size_t bound = part.size();
    if (codec == Codec::kLz4)
      bound = static_cast<size_t>(LZ4_compressBound(static_cast<int>(part.size())));
    if (codec == Codec::kZstd) bound = ZSTD_compressBound(part.size());
    const size_t start = out->size();
    out->resize(start + kFrameHeader + bound);
    char* payload = out->data() + start + kFrameHeader;
    size_t n = part.size();
    switch (codec) {
      case Codec::kNone: std::memcpy(payload, part.data(), part.size()); break;
      case Codec::kLz4:
        n = static_cast<size_t>(LZ4_compress_default(
            part.data(), payload, static_cast<int>(part.size()), static_cast<int>(bound)));
        break;
      case Codec::kZstd: {
        const size_t r = ZSTD_compress(payload, bound, part.data(), part.size(), 1);
        n = ZSTD_isError(r) ? 0 : r;
        break;
      }
    }
    if (n == 0 && codec != Codec::kNone) {  // cannot happen within the bounds; stay correct
      out->resize(start);
      AppendFrames(Codec::kNone, part, out, frame_bytes);
      continue;
    }
    out->resize(start + kFrameHeader + n);
    char* head = out->data() + start;
    head[16] = static_cast<char>(codec);
    PutU32(static_cast<uint32_t>(n + 9), head + 17);
    PutU32(static_cast<uint32_t>(part.size()), head + 21);
    const Hash128 sum = CityHash128V102(head + 16, n + 9);
    std::memcpy(head, &sum.low, 8);
    std::memcpy(head + 8, &sum.high, 8);
  }
}

StatusOr<std::string> DecodeFrames(std::string_view in, size_t max_out) {
  std::string out;
  size_t at = 0;
  while (at < in.size()) {
    if (in.size() - at < kFrameHeader)
      return absl::InvalidArgumentError(Cat("compressed frame at ", at, " is cut short (",
                                            in.size() - at, " bytes of its 25-byte header)"));
    const char* head = in.data() + at;
    const uint32_t compressed = GetU32(head + 17), plain = GetU32(head + 21);
    if (compressed < 9 || compressed > kMaxCompressed)
      return absl::InvalidArgumentError(Cat("compressed frame at ", at, ": bad size ", compressed));
    if (in.size() - at - 16 < compressed)
      return absl::InvalidArgumentError(
          Cat("compressed frame at ", at, " is cut short (", compressed, " bytes announced)"));
    if (plain > max_out - std::min(max_out, out.size()))
      return absl::InvalidArgumentError(
          Cat("compressed frames hold more than the limit of ", max_out, " bytes"));
    const Hash128 want = CityHash128V102(head + 16, compressed);
    uint64_t low, high;
    std::memcpy(&low, head, 8);
    std::memcpy(&high, head + 8, 8);
    if (low != want.low || high != want.high)
      return absl::InvalidArgumentError(Cat("compressed frame at ", at, ": checksum mismatch"));
    const char* payload = head + kFrameHeader;
    const size_t n = compressed - 9;
    const size_t base = out.size();
    out.resize(base + plain);
    switch (static_cast<uint8_t>(head[16])) {
      case static_cast<uint8_t>(Codec::kNone):
        if (n != plain)
          return absl::InvalidArgumentError(Cat("uncompressed frame at ", at, ": sizes differ"));
        std::memcpy(out.data() + base, payload, n);
        break;
      case static_cast<uint8_t>(Codec::kLz4): {
        const int r = LZ4_decompress_safe(payload, out.data() + base, static_cast<int>(n),
                                          static_cast<int>(plain));
        if (r < 0 || static_cast<uint32_t>(r) != plain)
          return absl::InvalidArgumentError(Cat("LZ4 frame at ", at, " does not decompress"));
        break;
      }
      case static_cast<uint8_t>(Codec::kZstd): {
        const size_t r = ZSTD_decompress(out.data() + base, plain, payload, n);
        if (ZSTD_isError(r) || r != plain)
          return absl::InvalidArgumentError(Cat("zstd frame at ", at, " does not decompress"));
        break;
      }
      default:
        return absl::InvalidArgumentError(Cat("compressed frame at ", at, ": unknown method ",
                                              static_cast<int>(static_cast<uint8_t>(head[16]))));
    }
    at += 16 + compressed;
  }
  return out;
}

}  // namespace sluice::clickhouse
