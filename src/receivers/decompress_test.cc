#include "receivers/decompress.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

namespace sluice::receivers {
namespace {

std::string Deflate(const std::string& in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

const std::string kText = std::string(5000, 'a') + "payload" + std::string(3000, 'b');

TEST(Decompress, EveryCoding) {
  EXPECT_EQ(*Decompress("", kText, 1 << 20), kText);
  EXPECT_EQ(*Decompress("identity", kText, 1 << 20), kText);
  EXPECT_EQ(*Decompress("gzip", Deflate(kText, 31), 1 << 20), kText);
  EXPECT_EQ(*Decompress("GZIP ", Deflate(kText, 31), 1 << 20), kText);
  EXPECT_EQ(*Decompress("gzip", Deflate("ab", 31) + Deflate("cd", 31), 1 << 20), "abcd");
  EXPECT_EQ(*Decompress("deflate", Deflate(kText, 15), 1 << 20), kText);
  EXPECT_EQ(*Decompress("deflate", Deflate(kText, -15), 1 << 20), kText);
  std::string z(ZSTD_compressBound(kText.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), kText.data(), kText.size(), 3));
  EXPECT_EQ(*Decompress("zstd", z, 1 << 20), kText);
  std::string s;
  snappy::Compress(kText.data(), kText.size(), &s);
  EXPECT_EQ(*Decompress("snappy", s, 1 << 20), kText);
  std::string l(LZ4F_compressFrameBound(kText.size(), nullptr), '\0');
  l.resize(LZ4F_compressFrame(l.data(), l.size(), kText.data(), kText.size(), nullptr));
  EXPECT_EQ(*Decompress("lz4", l, 1 << 20), kText);
}

TEST(Decompress, LimitsAfterDecompression) {
  const std::string bomb = Deflate(std::string(10 << 20, '\0'), 31);
  EXPECT_LT(bomb.size(), 20000u);
  auto r = Decompress("gzip", bomb, 1 << 20);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  std::string z(ZSTD_compressBound(10 << 20), '\0');
  std::string zeros(10 << 20, '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), zeros.data(), zeros.size(), 1));
  EXPECT_EQ(Decompress("zstd", z, 1 << 20).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Decompress("", std::string(100, 'x'), 99).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Decompress("gzip", Deflate(kText, 31), kText.size()).ok());  // exactly at the limit
}

// The snappy framing format: a stream identifier, then chunks of at most 64 KiB of input,
// each compressed (type 0) or stored (type 1) after a CRC (not checked here).
std::string SnappyFramed(const std::string& in) {
  std::string out("\xff\x06\x00\x00sNaPpY", 10);
  for (size_t at = 0; at < in.size(); at += 65536) {
    std::string c;
    snappy::Compress(in.data() + at, std::min<size_t>(65536, in.size() - at), &c);
    const size_t len = c.size() + 4;
    out += std::string{'\0', static_cast<char>(len & 0xff), static_cast<char>((len >> 8) & 0xff),
                       static_cast<char>(len >> 16)};
    out += std::string(4, '\0') + c;  // CRC placeholder
  }
  return out;
}

TEST(Decompress, SnappyFramedAcrossChunksAndItsLimit) {
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) big += std::to_string(i * 7919) + ",";
  const std::string framed = SnappyFramed(big);
  EXPECT_EQ(*Decompress("x-snappy-framed", framed, 1 << 20), big);
  EXPECT_TRUE(Decompress("x-snappy-framed", framed, big.size()).ok());  // exactly at the limit
  // Past the limit in a later chunk: too large, not corrupt.
  EXPECT_EQ(Decompress("x-snappy-framed", framed, big.size() - 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      Decompress("x-snappy-framed", framed.substr(0, framed.size() - 3), 1 << 20).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// libdeflate needs the output space up front: the gzip trailer's size is the first guess, so
// a trailer that lies (small or huge), a later member larger than the last, and bodies at
// the limit to the byte must all still come out right.
TEST(Decompress, GzipSizeGuesses) {
  std::string big;
  for (int i = 0; big.size() < 200000; ++i) big += std::to_string(i * 104729) + ";";
  std::string gz = Deflate(big, 31);
  std::string small_trailer = gz;
  small_trailer.replace(small_trailer.size() - 4, 4, std::string("\x10\0\0\0", 4));
  // libdeflate checks ISIZE against what it produced: a lying trailer is corrupt, not a
  // reason to give up early with "too large".
  EXPECT_EQ(Decompress("gzip", small_trailer, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string huge_trailer = gz;
  huge_trailer.replace(huge_trailer.size() - 4, 4, std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(Decompress("gzip", huge_trailer, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The last member is tiny, the first large: the first guess is short and grows.
  EXPECT_EQ(*Decompress("gzip", gz + Deflate("z", 31), 1 << 20), big + "z");
  EXPECT_EQ(*Decompress("gzip", gz + Deflate("z", 31), big.size() + 1), big + "z");
  EXPECT_EQ(Decompress("gzip", gz + Deflate("z", 31), big.size()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Decompress("gzip", gz, big.size() - 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*Decompress("deflate", Deflate(big, 15), big.size()), big);
  EXPECT_EQ(Decompress("deflate", Deflate(big, -15), big.size() - 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*Decompress("gzip", Deflate("", 31), 0), "");
  EXPECT_EQ(Decompress("gzip", Deflate("a", 31), 0).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Garbage after a whole member is not a member.
  EXPECT_EQ(Decompress("gzip", gz + "junk", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("deflate", Deflate(big, 15) + "junk", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Decompress, CorruptAndUnknown) {
  std::string gz = Deflate(kText, 31);
  EXPECT_EQ(Decompress("gzip", gz.substr(0, gz.size() / 2), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("gzip", "not gzip", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("zstd", "nope", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("snappy", "\xff\xff\xff\xff", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("br", "x", 1 << 20).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace sluice::receivers
