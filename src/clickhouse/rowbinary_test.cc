#include "clickhouse/rowbinary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "absl/strings/escaping.h"

namespace sluice::clickhouse {
namespace {

using otlp::Value;
using otlp::VKind;

std::string Enc(const Value& v, const std::string& type) {
  auto t = ParseType(type);
  EXPECT_TRUE(t.ok()) << type;
  std::string out;
  ByteWriter w(&out);
  Status s = EncodeValue(v, *t, w);
  EXPECT_TRUE(s.ok()) << type << ": " << s;
  return absl::BytesToHexString(out);
}

Status EncErr(const Value& v, const std::string& type) {
  auto t = ParseType(type);
  std::string out;
  ByteWriter w(&out);
  return EncodeValue(v, *t, w);
}

constexpr auto Str = Value::Str;
constexpr auto U = Value::U64;
constexpr auto I = Value::I64;
constexpr auto F = Value::F64;
constexpr auto Time = Value::Time;

TEST(RowBinary, Strings) {
  EXPECT_EQ(Enc(Str("yz"), "String"), "02797a");
  EXPECT_EQ(Enc(Str("yz"), "LowCardinality(String)"), "02797a");
  EXPECT_EQ(Enc(Str("ab"), "FixedString(4)"), "61620000");
  EXPECT_FALSE(EncErr(Str("abcde"), "FixedString(4)").ok());
  EXPECT_EQ(Enc(Value{}, "String"), "00");
  EXPECT_EQ(Enc(U(42), "String"), "023432");
  EXPECT_EQ(Enc(Time(1500000000), "String"), absl::BytesToHexString("\x16"
                                                                    "1970-01-01T00:00:01.5Z"));
}

TEST(RowBinary, Integers) {
  EXPECT_EQ(Enc(U(1), "UInt8"), "01");
  EXPECT_EQ(Enc(U(0x0102), "UInt16"), "0201");
  EXPECT_EQ(Enc(U(1), "UInt32"), "01000000");
  EXPECT_EQ(Enc(I(-1), "Int64"), "ffffffffffffffff");
  EXPECT_EQ(Enc(I(-2), "Int8"), "fe");
  EXPECT_EQ(Enc(Str("300"), "Int16"), "2c01");
  EXPECT_EQ(Enc(F(2.0), "Int32"), "02000000");
  EXPECT_EQ(Enc(Str("12.0"), "UInt8"), "0c");  // numbers and numeric strings alike
  EXPECT_EQ(Enc(Str("1.2e1"), "Int8"), "0c");
  EXPECT_EQ(Enc(U(18446744073709551615ull), "UInt64"), "ffffffffffffffff");
  EXPECT_EQ(Enc(Str("18446744073709551615"), "UInt64"), "ffffffffffffffff");
  EXPECT_EQ(Enc(I(-128), "Int8"), "80");
  EXPECT_EQ(Enc(U(255), "UInt8"), "ff");
  EXPECT_EQ(EncErr(Str("x"), "UInt32").message(), "'x' is not a number (column type UInt32)");
  // Never a wrapped, rounded or truncated value.
  EXPECT_EQ(EncErr(I(99999), "UInt16").message(), "99999 does not fit UInt16");
  EXPECT_EQ(EncErr(I(-5), "UInt64").message(), "-5 does not fit UInt64");
  EXPECT_EQ(EncErr(I(128), "Int8").message(), "128 does not fit Int8");
  EXPECT_EQ(EncErr(U(9223372036854775808ull), "Int64").message(),
            "9223372036854775808 does not fit Int64");
  EXPECT_EQ(EncErr(F(2.9), "Int32").message(), "2.9 is not a whole number (column type Int32)");
  EXPECT_EQ(EncErr(Str("12.5"), "Int32").message(),
            "'12.5' is not a whole number (column type Int32)");
  EXPECT_EQ(EncErr(F(std::nan("")), "Int64").message(),
            "NaN is not a whole number (column type Int64)");
  EXPECT_EQ(EncErr(F(1e30), "UInt64").message(),
            "1000000000000000019884624838656 does not fit UInt64");
  EXPECT_EQ(EncErr(Str("-1e30"), "Int64").message(), "'-1e30' does not fit Int64");
}

TEST(RowBinary, FloatsAndBool) {
  EXPECT_EQ(Enc(F(1.5), "Float64"), "000000000000f83f");
  EXPECT_EQ(Enc(F(1.5), "Float32"), "0000c03f");
  EXPECT_EQ(Enc(I(3), "Float64"), "0000000000000840");
  EXPECT_EQ(Enc(Value::Bool(true), "Bool"), "01");
  EXPECT_EQ(Enc(Str("false"), "Bool"), "00");
  EXPECT_EQ(Enc(U(7), "Bool"), "01");
}

TEST(RowBinary, Times) {
  const uint64_t ns = 1717171717123456789ull;
  EXPECT_EQ(Enc(Time(ns), "DateTime"), "05f65966");  // 1717171717
  EXPECT_EQ(Enc(Time(ns), "DateTime64(9)"),
            absl::BytesToHexString(std::string(reinterpret_cast<const char*>(&ns), 8)));
  const int64_t ms = 1717171717123;
  EXPECT_EQ(Enc(Time(ns), "DateTime64(3)"),
            absl::BytesToHexString(std::string(reinterpret_cast<const char*>(&ms), 8)));
  EXPECT_EQ(Enc(Time(ns), "Date"), "a24d");  // 19874 days
  EXPECT_EQ(Enc(Str("2024-05-31T16:08:37Z"), "DateTime"), "05f65966");
  EXPECT_EQ(Enc(Str("2024-05-31T18:08:37+02:00"), "DateTime"), "05f65966");
  EXPECT_EQ(Enc(U(1717171717), "DateTime"), "05f65966");  // numbers are Unix seconds
  EXPECT_FALSE(EncErr(Str("yesterday"), "DateTime").ok());
  EXPECT_EQ(Enc(Time(ns), "UInt64"),
            absl::BytesToHexString(std::string(reinterpret_cast<const char*>(&ns), 8)));
}

TEST(RowBinary, UuidByteOrder) {
  // clickhouse-protocol.md §0.3: two little-endian halves.
  EXPECT_EQ(Enc(Str("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "UUID"),
            "e711b35c04c4f061a0dbd36a00a67b90");
  Value id;
  id.kind = VKind::kId;
  std::string raw = absl::HexStringToBytes("61f0c4045cb311e7907ba6006ad3dba0");
  id.s = raw;
  EXPECT_EQ(Enc(id, "UUID"), "e711b35c04c4f061a0dbd36a00a67b90");
  EXPECT_FALSE(EncErr(Str("nope"), "UUID").ok());
}

TEST(RowBinary, Enums) {
  EXPECT_EQ(Enc(Str("b"), "Enum8('a' = 1, 'b' = 2)"), "02");
  EXPECT_EQ(Enc(U(1), "Enum16('a' = 1, 'b' = 2)"), "0100");
  EXPECT_FALSE(EncErr(Str("c"), "Enum8('a' = 1)").ok());
}

TEST(RowBinary, Nullable) {
  EXPECT_EQ(Enc(Value{}, "Nullable(String)"), "01");
  EXPECT_EQ(Enc(Str("x"), "Nullable(String)"), "000178");
  EXPECT_EQ(Enc(Value{}, "LowCardinality(Nullable(String))"), "01");
  EXPECT_EQ(Enc(U(5), "Nullable(UInt8)"), "0005");
}

TEST(RowBinary, PackedArrays) {
  std::string msg;  // field 6 packed fixed64 [1, 2]
  msg += "\x32\x10";
  uint64_t one = 1, two = 2;
  msg.append(reinterpret_cast<const char*>(&one), 8);
  msg.append(reinterpret_cast<const char*>(&two), 8);
  Value v;
  v.kind = VKind::kPackedU64;
  v.packed = otlp::Packed{msg, 6, false};
  EXPECT_EQ(Enc(v, "Array(UInt64)"),
            "02"
            "0100000000000000"
            "0200000000000000");
  EXPECT_EQ(Enc(v, "Array(Float64)"),
            "02"
            "000000000000f03f"
            "0000000000000040");
  EXPECT_EQ(Enc(Value{}, "Array(String)"), "00");
}

TEST(RowBinary, MapsFromAttributes) {
  // Two KeyValue records: {"k": "v"} and {"k": 7} (duplicate key, last wins) and {"n": true}.
  std::string attrs = absl::HexStringToBytes(
      "0a08"
      "0a016b"
      "1203"
      "0a0176"  // k = "v"
      "0a07"
      "0a016b"
      "1202"
      "1807"  // k = 7
      "0a07"
      "0a016e"
      "1202"
      "1001");  // n = true
  Value v;
  v.kind = VKind::kAttrs;
  v.rep = otlp::Repeated{attrs, 1};
  const std::string want =
      "02"
      "016b"
      "0137"
      "016e"
      "0474727565";
  EXPECT_EQ(Enc(v, "Map(LowCardinality(String), String)"), want);
  EXPECT_EQ(Enc(v, "Array(Tuple(String, String))"), want);  // same bytes as a Map
  EXPECT_EQ(Enc(v, "String"), absl::BytesToHexString("\x14{\"k\":\"7\",\"n\":\"true\"}"));
  EXPECT_FALSE(EncErr(Str("x"), "Map(String, String)").ok());
}

}  // namespace
}  // namespace sluice::clickhouse
