#include "clickhouse/native_protocol.h"

#include <gtest/gtest.h>

#include <random>

#include "clickhouse/native.h"
#include "clickhouse/native_testing.h"
#include "core/bytes.h"

namespace sluice::clickhouse::native {
namespace {

std::string Hex(std::string_view s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof(b), "%02x ", c);
    out += b;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// A reader over fixed bytes, handed out `step` at a time (1: every read boundary is hit).
struct Feed {
  std::string bytes;
  size_t pos = 0, step = 1 << 20;
  PacketReader reader{[this](std::string* buf) -> Status {
    if (pos >= bytes.size()) return absl::UnavailableError("end of stream");
    const size_t n = std::min(step, bytes.size() - pos);
    buf->append(bytes, pos, n);
    pos += n;
    return absl::OkStatus();
  }};
};

TEST(NativeProtocol, HelloBytes) {
  std::string out;
  WriteHello("default", "default", "", &out);
  EXPECT_EQ(Hex(out),
            "00 06 53 6c 75 69 63 65 00 01 bc a9 03 07 64 65 66 61 75 6c 74 07 64 65 66 61 75 "
            "6c 74 00");
  out.clear();
  WriteAddendum(54412, &out);
  EXPECT_EQ(out, "");  // 18.16: no addendum
  WriteAddendum(54460, &out);
  EXPECT_EQ(Hex(out), "00");  // quota key ""
}

TEST(NativeProtocol, QueryBytesAtBothRevisions) {
  // clickhouse-protocol.md §5.10, with Sluice's name and version.
  std::string out;
  WriteQuery(54460, "", "INSERT INTO default.t (a, s) VALUES", {}, false, &out);
  const std::string want60 =
      std::string("\x01\x00", 2) + "\x01" + Str("") + Str("") + Str("[::ffff:127.0.0.1]:0") +
      std::string(8, '\0') + "\x01" + Str("") + Str("") + Str("Sluice") +
      std::string("\x00\x01\xbc\xa9\x03", 5) + Str("") + std::string("\x00\x00\x00", 3) +
      std::string("\x00\x00\x00", 3) + Str("") + Str("") + std::string("\x02\x00", 2) +
      Str("INSERT INTO default.t (a, s) VALUES") + Str("");
  EXPECT_EQ(Hex(out), Hex(want60));
  out.clear();
  WriteQuery(54412, "", "SELECT 1", {{"insert_deduplication_token", "x"}}, true, &out);
  // 18.16: no start time, depth, otel, replica fields, secret or parameters; no settings.
  const std::string want12 =
      std::string("\x01\x00", 2) + "\x01" + Str("") + Str("") + Str("[::ffff:127.0.0.1]:0") +
      "\x01" + Str("") + Str("") + Str("Sluice") + std::string("\x00\x01\xbc\xa9\x03", 5) +
      Str("") + std::string("\x00", 1) + Str("") + std::string("\x02\x01", 2) + Str("SELECT 1");
  EXPECT_EQ(Hex(out), Hex(want12));
  out.clear();
  WriteQuery(54460, "q", "SELECT 1", {{"insert_deduplication_token", "t1"}}, false, &out);
  EXPECT_NE(out.find(Str("insert_deduplication_token") + "\x01" + Str("t1")), std::string::npos);
}

TEST(NativeProtocol, EmptyDataBlockIsTheTenBytes) {
  std::string out;
  WriteData("", false, Codec::kNone, &out);
  EXPECT_EQ(Hex(out), "02 00 01 00 02 ff ff ff ff 00 00 00");
  out.clear();
  WriteData("", true, Codec::kLz4, &out);
  ASSERT_GT(out.size(), 2 + kFrameHeader);
  auto plain = DecodeFrames(std::string_view(out).substr(2), 1000);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Hex(*plain), "01 00 02 ff ff ff ff 00 00 00");
  out.clear();
  WritePing(&out);
  WriteCancel(&out);
  EXPECT_EQ(Hex(out), "04 03");
}

TEST(NativeProtocol, ReadsTheHelloOf1816) {
  Feed f;
  f.bytes = ServerHello1816("Etc/UTC", "vm");
  f.step = 1;
  Packet p;
  ASSERT_TRUE(f.reader.Next(&p).ok());
  EXPECT_EQ(p.code, kHello);
  EXPECT_EQ(p.hello.name, "ClickHouse");
  EXPECT_EQ(p.hello.major, 18u);
  EXPECT_EQ(p.hello.minor, 16u);
  EXPECT_EQ(p.hello.revision, 54412u);
  EXPECT_EQ(p.hello.timezone, "Etc/UTC");
  EXPECT_EQ(p.hello.display_name, "vm");
  EXPECT_EQ(p.hello.patch, 1u);
}

std::string Exception(int32_t code, std::string_view msg, bool nested) {
  std::string out;
  ByteWriter w(&out);
  w.Fixed<int32_t>(code);
  w.Bytes(Str("DB::Exception"));
  w.Bytes(Str(msg));
  w.Bytes(Str(""));
  w.U8(nested ? 1 : 0);
  return out;
}

TEST(NativeProtocol, ReadsNestedExceptions) {
  Feed f;
  f.bytes = "\x02" + Exception(60, "Table x doesn't exist", true) + Exception(999, "inner", false);
  Packet p;
  ASSERT_TRUE(f.reader.Next(&p).ok());
  EXPECT_EQ(p.code, kException);
  EXPECT_EQ(p.exception_code, 60);
  EXPECT_EQ(p.exception_text, "Code: 60. Table x doesn't exist (caused by Code: 999. inner)");
}

// A Data block of a String column, an Array(UInt32) column, a LowCardinality(Nullable(String))
// column and a UInt64 column, as a server at `rev` sends it.
std::string ResultBlock(uint64_t rev) {
  std::string b;
  ByteWriter w(&b);
  w.Bytes(std::string("\x01\x00\x02\xff\xff\xff\xff\x00", 8));  // BlockInfo
  w.VarUInt(4);
  w.VarUInt(2);
  auto header = [&](std::string_view name, std::string_view type) {
    w.Bytes(Str(name));
    w.Bytes(Str(type));
    if (rev >= kRevCustomSerialization) w.U8(0);
  };
  header("name", "String");
  w.Bytes(Str("a\tb"));
  w.Bytes(Str("c\\d"));
  header("arr", "Array(UInt32)");
  w.Fixed<uint64_t>(1);
  w.Fixed<uint64_t>(3);
  for (uint32_t v : {7u, 8u, 9u}) w.Fixed<uint32_t>(v);
  header("lc", "LowCardinality(Nullable(String))");
  w.Fixed<uint64_t>(1);                       // keys version
  w.Fixed<uint64_t>((1u << 9) | (1u << 10));  // UInt8 indexes, additional keys
  w.Fixed<uint64_t>(2);                       // keys: NULL placeholder, "x"
  w.Bytes(Str(""));
  w.Bytes(Str("x"));
  w.Fixed<uint64_t>(2);
  w.U8(1);
  w.U8(0);
  header("n", "UInt64");
  w.Fixed<uint64_t>(42);
  w.Fixed<uint64_t>(uint64_t{1} << 63);
  return b;
}

TEST(NativeProtocol, ReadsDataBlocksPlainAndCompressedAsTabSeparated) {
  for (uint64_t rev : {uint64_t{54412}, uint64_t{54460}}) {
    for (bool compressed : {false, true}) {
      Feed f;
      f.bytes = "\x01" + Str("");
      if (compressed) {
        AppendFrames(Codec::kLz4, ResultBlock(rev), &f.bytes, /*frame_bytes=*/7);
      } else {
        f.bytes += ResultBlock(rev);
      }
      f.bytes += "\x05";  // EndOfStream
      f.step = 3;
      f.reader.set_revision(rev);
      f.reader.set_compressed(compressed);
      Packet p;
      ASSERT_TRUE(f.reader.Next(&p, true).ok()) << rev << " " << compressed;
      ASSERT_EQ(p.code, kData);
      EXPECT_EQ(p.block.names, (std::vector<std::string>{"name", "arr", "lc", "n"}));
      ASSERT_EQ(p.block.cells.size(), 4u);
      // Arrays are skipped, not kept: only String, numbers and LowCardinality are read back.
      p.block.cells.erase(p.block.cells.begin() + 1);
      p.block.rows = 2;
      std::string tsv;
      AppendTabSeparated(p.block, &tsv);
      EXPECT_EQ(tsv, "a\\tb\tx\t42\nc\\\\d\t\\N\t9223372036854775808\n");
      ASSERT_TRUE(f.reader.Next(&p).ok());
      EXPECT_EQ(p.code, kEndOfStream);
    }
  }
}

TEST(NativeProtocol, ReadsProgressPerRevisionAndSkipsLogs) {
  Feed f;
  f.bytes = std::string("\x03\x01\x02\x03\x04\x05\x06", 7);  // rev 54460: + written, elapsed
  f.bytes += "\x0a" + Str("") + ResultBlock(54460);          // Log: never compressed
  f.bytes += "\x0b" + Str("") + Str("columns format version: 1");
  f.bytes += std::string("\x06\x01\x01\x01\x00\x00\x00", 7);  // ProfileInfo
  f.reader.set_revision(54460);
  f.reader.set_compressed(true);
  Packet p;
  ASSERT_TRUE(f.reader.Next(&p).ok());
  EXPECT_EQ(p.code, kProgress);
  EXPECT_EQ(p.written_rows, 4u);
  for (uint64_t want : {uint64_t{kLog}, uint64_t{kTableColumns}, uint64_t{kProfileInfo}}) {
    ASSERT_TRUE(f.reader.Next(&p).ok()) << want;
    EXPECT_EQ(p.code, want);
  }
  EXPECT_EQ(f.pos, f.bytes.size());
}

TEST(NativeProtocol, RejectsWhatNoServerSends) {
  auto fails = [](std::string bytes, uint64_t rev = 54460) {
    Feed f;
    f.bytes = std::move(bytes);
    f.reader.set_revision(rev);
    Packet p;
    return !f.reader.Next(&p, true).ok();
  };
  EXPECT_TRUE(fails("\x63"));                          // unknown packet type
  EXPECT_TRUE(fails("\x00"));                          // a truncated Hello
  EXPECT_TRUE(fails(std::string("\x02\x01\x00", 3)));  // a truncated exception
  EXPECT_TRUE(fails("\x01" + Str("") + "\x09"));       // block info field 9
  EXPECT_TRUE(fails(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)));
  // A string claiming 1 GiB: refused before any allocation.
  std::string big = "\x0b" + Str("");
  ByteWriter(&big).VarUInt(uint64_t{1} << 30);
  EXPECT_TRUE(fails(big));
  // A custom serialization, which Sluice's revision never asks for.
  std::string custom =
      "\x01" + Str("") + std::string("\x00\x01\x01", 3) + Str("c") + Str("String") + "\x01";
  EXPECT_TRUE(fails(custom));
  // HTTP spoken on the native port.
  Feed h;
  h.bytes = "HTTP/1.0 400 Bad Request\r\n\r\n";
  Packet p;
  Status s = h.reader.Next(&p);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("http_port"), std::string::npos);
}

// Every prefix and thousands of mutations of a real exchange: the reader answers each with a
// packet or an error, never a crash or a read past the bytes it was given (ASan checks).
TEST(NativeProtocol, MutatedAndTruncatedResponsesNeverCrash) {
  std::string good = ServerHello1816("UTC", "vm");
  good += std::string("\x01", 1) + Str("");
  AppendFrames(Codec::kLz4, ResultBlock(54460), &good, 11);
  good += std::string("\x03\x01\x02\x03\x04\x05\x06", 7);
  good += "\x0a" + Str("") + ResultBlock(54460);
  good += "\x02" + Exception(60, "gone", true) + Exception(1, "inner", false);
  good += "\x05";
  auto run = [](const std::string& bytes) {
    Feed f;
    f.bytes = bytes;
    f.step = 5;
    f.reader.set_revision(54460);
    f.reader.set_compressed(true);
    Packet p;
    int packets = 0;
    while (packets < 100 && f.reader.Next(&p, true).ok()) ++packets;
    return packets;
  };
  EXPECT_EQ(run(good), 6);
  for (size_t cut = 0; cut < good.size(); ++cut) run(good.substr(0, cut));
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string bad = good;
    for (int k = 0; k < 1 + i % 4; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    run(bad);
  }
}

}  // namespace
}  // namespace sluice::clickhouse::native
