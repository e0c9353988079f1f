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
