#include "receivers/decompress.h"

#include <libdeflate.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/bytes.h"
#include "core/cat.h"

namespace sluice::receivers {
namespace {

Status TooLarge(size_t limit) {
  return absl::ResourceExhaustedError(
      Cat("request body exceeds the limit of ", limit, " bytes after decompression"));
}

// The three DEFLATE containers libdeflate inflates whole-buffer (about 4x zlib's streaming
// inflate on log-like text, measured: docs/performance.md).
enum class Deflate { kGzip, kZlib, kRaw };

libdeflate_result InflateOne(libdeflate_decompressor* d, Deflate kind, std::string_view in,
                             char* out, size_t avail, size_t* used, size_t* produced) {
  switch (kind) {
    case Deflate::kGzip:
      return libdeflate_gzip_decompress_ex(d, in.data(), in.size(), out, avail, used, produced);
    case Deflate::kZlib:
      return libdeflate_zlib_decompress_ex(d, in.data(), in.size(), out, avail, used, produced);
    case Deflate::kRaw:
      return libdeflate_deflate_decompress_ex(d, in.data(), in.size(), out, avail, used, produced);
  }
  return LIBDEFLATE_BAD_DATA;
}

// Inflates `in` (for gzip, one member after another, as concatenated members are one body)
// into at most `limit` bytes. libdeflate needs the whole output space up front: the first
// guess is the gzip trailer's size (the last member's; exact for the usual single member),
// else four times the input; a guess that proves short is doubled and the member inflated
// again, so the work stays linear in the output, which `limit` bounds.
StatusOr<std::string> Inflate(std::string_view in, size_t limit, Deflate kind) {
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> dec(libdeflate_alloc_decompressor());
  if (!dec) return absl::ResourceExhaustedError("cannot allocate an inflater");
  // A trailer can lie: believed only as far as DEFLATE can expand (at most 1032:1), so a
  // tiny body cannot make the server clear `limit` bytes.
  size_t trailer_size = 0;
  if (kind == Deflate::kGzip && in.size() >= 18)
    trailer_size =
        std::min<size_t>(LoadFixed<uint32_t>(in.data() + in.size() - 4), in.size() * 1032);
  std::string out;
  size_t produced_total = 0;
  do {
    const size_t room = limit - produced_total;
    size_t guess = std::max<size_t>({trailer_size, in.size() * 4, 4096});
    while (true) {
      guess = std::min(guess, room);
      out.resize(produced_total + guess);
      size_t used = 0, produced = 0;
      const auto rc =
          InflateOne(dec.get(), kind, in, out.data() + produced_total, guess, &used, &produced);
      if (rc == LIBDEFLATE_SUCCESS) {
        produced_total += produced;
        in.remove_prefix(used);
        break;
      }
      if (rc != LIBDEFLATE_INSUFFICIENT_SPACE)
        return absl::InvalidArgumentError("corrupt or truncated compressed body");
      if (guess == room) return TooLarge(limit);
      guess *= 2;
    }
    trailer_size = 0;  // the trailer named the last member, not the next
  } while (kind == Deflate::kGzip && !in.empty());
  if (!in.empty() && kind != Deflate::kGzip)
    return absl::InvalidArgumentError("trailing bytes after the compressed body");
  out.resize(produced_total);
  return out;
}

StatusOr<std::string> Zstd(std::string_view in, size_t limit) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  std::string out;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t rc = 1;
  while (ib.pos < ib.size || rc != 0) {
    size_t at = out.size();
    out.resize(at + ZSTD_DStreamOutSize());
    ZSTD_outBuffer ob{out.data() + at, out.size() - at, 0};
    rc = ZSTD_decompressStream(ctx, &ob, &ib);
    out.resize(at + ob.pos);
    if (ZSTD_isError(rc)) {
      ZSTD_freeDCtx(ctx);
      return absl::InvalidArgumentError(Cat("corrupt zstd body: ", ZSTD_getErrorName(rc)));
    }
    if (out.size() > limit) {
      ZSTD_freeDCtx(ctx);
      return TooLarge(limit);
    }
    if (ib.pos == ib.size && ob.pos == 0 && rc != 0) {
      ZSTD_freeDCtx(ctx);
      return absl::InvalidArgumentError("truncated zstd body");
    }
  }
  ZSTD_freeDCtx(ctx);
  return out;
}

StatusOr<std::string> Lz4Frame(std::string_view in, size_t limit) {
  LZ4F_dctx* ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return absl::InternalError("lz4 context");
  std::string out;
  size_t pos = 0;
  size_t hint = 1;
  while (pos < in.size() && hint != 0) {
    size_t at = out.size();
    out.resize(at + 64 * 1024);
    size_t dst = out.size() - at, src = in.size() - pos;
    hint = LZ4F_decompress(ctx, out.data() + at, &dst, in.data() + pos, &src, nullptr);
    out.resize(at + dst);
    pos += src;
    if (LZ4F_isError(hint)) {
      LZ4F_freeDecompressionContext(ctx);
      return absl::InvalidArgumentError(Cat("corrupt lz4 body: ", LZ4F_getErrorName(hint)));
    }
    if (out.size() > limit) {
      LZ4F_freeDecompressionContext(ctx);
      return TooLarge(limit);
    }
    if (src == 0 && dst == 0) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (hint != 0) return absl::InvalidArgumentError("truncated lz4 body");
  return out;
}

StatusOr<std::string> SnappyBlock(std::string_view in, size_t limit) {
  size_t n;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n))
    return absl::InvalidArgumentError("corrupt snappy body");
  if (n > limit) return TooLarge(limit);
  std::string out;
  if (!snappy::Uncompress(in.data(), in.size(), &out))
    return absl::InvalidArgumentError("corrupt snappy body");
  return out;
}

// The snappy framing format: stream identifier, then chunks of type + 24-bit length.
StatusOr<std::string> SnappyFramed(std::string_view in, size_t limit) {
  std::string out;
  size_t pos = 0;
  while (pos + 4 <= in.size()) {
    uint8_t type = static_cast<uint8_t>(in[pos]);
    size_t len = static_cast<uint8_t>(in[pos + 1]) | static_cast<uint8_t>(in[pos + 2]) << 8 |
                 static_cast<size_t>(static_cast<uint8_t>(in[pos + 3])) << 16;
    pos += 4;
    if (pos + len > in.size()) return absl::InvalidArgumentError("truncated snappy frame");
    std::string_view chunk = in.substr(pos, len);
    pos += len;
    if (type == 0x00 || type == 0x01) {  // compressed / uncompressed, after a 4-byte CRC
      if (chunk.size() < 4) return absl::InvalidArgumentError("corrupt snappy frame");
      chunk.remove_prefix(4);
      if (type == 0x00) {
        size_t n;
        if (!snappy::GetUncompressedLength(chunk.data(), chunk.size(), &n))
          return absl::InvalidArgumentError("corrupt snappy frame");
        if (out.size() + n > limit) return TooLarge(limit);
        std::string part;
        if (!snappy::Uncompress(chunk.data(), chunk.size(), &part))
          return absl::InvalidArgumentError("corrupt snappy frame");
        out += part;
      } else {
        out.append(chunk);
      }
      if (out.size() > limit) return TooLarge(limit);
    } else if (type >= 0x02 && type <= 0x7f) {
      return absl::InvalidArgumentError("unsupported snappy chunk type");
    }  // 0xff stream identifier, 0x80-0xfe skippable
  }
  if (pos != in.size()) return absl::InvalidArgumentError("truncated snappy frame");
  return out;
}

}  // namespace

StatusOr<std::string> Decompress(std::string_view encoding, std::string_view body, size_t limit) {
  std::string enc;
  for (char c : encoding)
    if (!std::isspace(static_cast<unsigned char>(c)))
      enc.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (enc.empty() || enc == "identity") {
    if (body.size() > limit) return TooLarge(limit);
    return std::string(body);
  }
  if (enc == "gzip" || enc == "x-gzip") return Inflate(body, limit, Deflate::kGzip);
  if (enc == "deflate") {
    auto r = Inflate(body, limit, Deflate::kZlib);  // zlib-wrapped, as HTTP specifies
    if (r.ok() || absl::IsResourceExhausted(r.status())) return r;
    return Inflate(body, limit, Deflate::kRaw);  // raw deflate, as some clients send
  }
  if (enc == "zstd") return Zstd(body, limit);
  if (enc == "snappy") return SnappyBlock(body, limit);
  if (enc == "x-snappy-framed") return SnappyFramed(body, limit);
  if (enc == "lz4") return Lz4Frame(body, limit);
  return absl::UnimplementedError(Cat("unsupported Content-Encoding '", encoding,
                                      "' (supported: gzip, deflate, zstd, snappy, lz4, identity)"));
}

}  // namespace sluice::receivers
