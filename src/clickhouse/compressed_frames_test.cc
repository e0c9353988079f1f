#include "clickhouse/compressed_frames.h"

#include <gtest/gtest.h>

#include <random>

#include "absl/strings/escaping.h"

namespace sluice::clickhouse {
namespace {

TEST(CompressedFrames, TheEmptyBlockFrameTheServerAccepts) {
  // An empty Native block compressed with NONE, as sent to and accepted by 18.16
  // (clickhouse-protocol.md §4.2).
  std::string out;
  AppendFrames(Codec::kNone, std::string("\x01\x00\x02\xff\xff\xff\xff\x00\x00\x00", 10), &out);
  EXPECT_EQ(absl::BytesToHexString(out),
            "bb9489a1c169e900ecaff168956a6474"
            "02130000000a000000"
            "010002ffffffff000000");
}

std::string Sample(size_t n) {
  std::string s;
  std::mt19937 rng(7);
  while (s.size() < n) s += "Hello!\n" + std::to_string(rng() % 1000);
  s.resize(n);
  return s;
}

TEST(CompressedFrames, RoundTripsEveryCodecAcrossFrames) {
  const std::string data = Sample(3u << 20);
  for (Codec c : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    std::string framed;
    AppendFrames(c, data, &framed, 1u << 20);
    if (c != Codec::kNone) {
      EXPECT_LT(framed.size(), data.size() / 2) << CodecName(c);
    }
    auto back = DecodeFrames(framed, data.size());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == data) << CodecName(c);
    // One byte over the limit is refused before anything is allocated for it.
    EXPECT_FALSE(DecodeFrames(framed, data.size() - 1).ok());
  }
  std::string none;
  AppendFrames(Codec::kLz4, "", &none);
  EXPECT_TRUE(none.empty());
}

TEST(CompressedFrames, DamagedFramesAreErrorsNeverCrashes) {
  const std::string data = Sample(200000);
  for (Codec c : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    std::string framed;
    AppendFrames(c, data, &framed, 65536);
    std::mt19937 rng(static_cast<unsigned>(c));
    for (int i = 0; i < 2000; ++i) {
      std::string bad = framed;
      switch (i % 3) {
        case 0: bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255); break;
        case 1: bad.resize(rng() % bad.size()); break;
        case 2: bad.insert(rng() % bad.size(), 1, static_cast<char>(rng())); break;
      }
      auto r = DecodeFrames(bad, 1u << 20);
      if (r.ok()) {  // a cut at a frame boundary decodes a prefix
        EXPECT_LE(r->size(), 1u << 20);
      }
    }
    // Sizes that lie: huge, tiny.
    std::string bad = framed;
    bad[17] = bad[18] = bad[19] = bad[20] = '\x7f';
    EXPECT_FALSE(DecodeFrames(bad, 1u << 20).ok());
    bad = framed;
    bad[21] = bad[22] = bad[23] = bad[24] = '\x7f';
    EXPECT_FALSE(DecodeFrames(bad, 1u << 20).ok());
  }
}

TEST(CompressedFrames, Codecs) {
  Codec c;
  EXPECT_TRUE(ParseCodec("lz4", &c));
  EXPECT_EQ(c, Codec::kLz4);
  EXPECT_TRUE(ParseCodec("zstd", &c));
  EXPECT_TRUE(ParseCodec("none", &c));
  EXPECT_FALSE(ParseCodec("gzip", &c));
}

}  // namespace
}  // namespace sluice::clickhouse
