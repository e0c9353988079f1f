#include "receivers/decompress.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>

#include "core/cat.h"

namespace sluice::receivers {
namespace {

Status TooLarge(size_t limit) {
  return absl::ResourceExhaustedError(
      Cat("request body exceeds the limit of ", limit, " bytes after decompression"));
}

StatusOr<std::string> Zlib(std::string_view in, size_t limit, int window_bits) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  out.resize(std::min<size_t>(std::max<size_t>(in.size() * 4, 4096), limit + 1));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      if (out.size() > limit) {
        inflateEnd(&zs);
        return TooLarge(limit);
      }
      out.resize(std::min(out.size() * 2, limit + 1));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (produced > limit) {
      inflateEnd(&zs);
      return TooLarge(limit);
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members: continue with the next one.
      if (zs.avail_in > 0 && (window_bits & 16 || window_bits > 15)) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InvalidArgumentError("corrupt or truncated compressed body");
  out.resize(produced);
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
  if (enc == "gzip" || enc == "x-gzip") return Zlib(body, limit, 16 + MAX_WBITS);
  if (enc == "deflate") {
    auto r = Zlib(body, limit, MAX_WBITS);  // zlib-wrapped, as HTTP specifies
    if (r.ok() || absl::IsResourceExhausted(r.status())) return r;
    return Zlib(body, limit, -MAX_WBITS);  // raw deflate, as some clients send
  }
  if (enc == "zstd") return Zstd(body, limit);
  if (enc == "snappy") return SnappyBlock(body, limit);
  if (enc == "x-snappy-framed") return SnappyFramed(body, limit);
  if (enc == "lz4") return Lz4Frame(body, limit);
  return absl::UnimplementedError(Cat("unsupported Content-Encoding '", encoding,
                                      "' (supported: gzip, deflate, zstd, snappy, lz4, identity)"));
}

}  // namespace sluice::receivers
