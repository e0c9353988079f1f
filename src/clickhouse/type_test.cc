#include "clickhouse/type.h"

#include <gtest/gtest.h>

namespace sluice::clickhouse {
namespace {

TEST(ParseType, Nested) {
  auto t = ParseType("Nullable(LowCardinality(String))");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Type::kNullable);
  EXPECT_EQ(t->children[0].kind, Type::kLowCardinality);
  EXPECT_EQ(t->Base().kind, Type::kString);
}

TEST(ParseType, Parameters) {
  auto dt = ParseType("DateTime64(9, 'UTC')");
  ASSERT_TRUE(dt.ok());
  EXPECT_EQ(dt->kind, Type::kDateTime64);
  EXPECT_EQ(dt->param, 9);
  auto bare = ParseType("DateTime64");  // ClickHouse's default precision
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->param, 3);
  EXPECT_FALSE(ParseType("DateTime64()").ok());
  auto fs = ParseType("FixedString(16)");
  ASSERT_TRUE(fs.ok());
  EXPECT_EQ(fs->param, 16);
  auto e = ParseType("Enum8('a' = 1, 'b\\'c' = -2)");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->enum_values.size(), 2u);
  EXPECT_EQ(e->enum_values[1].first, "b'c");
  EXPECT_EQ(e->enum_values[1].second, -2);
  auto dtz = ParseType("DateTime('Europe/Berlin')");
  ASSERT_TRUE(dtz.ok());
  EXPECT_EQ(dtz->kind, Type::kDateTime);
}

TEST(ParseType, Composite) {
  auto m = ParseType("Map(LowCardinality(String), String)");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, Type::kMap);
  EXPECT_EQ(m->children.size(), 2u);
  auto a = ParseType("Array(Tuple(trace_id String, flags UInt32))");
  ASSERT_TRUE(a.ok());
  const Type& tup = a->children[0];
  EXPECT_EQ(tup.kind, Type::kTuple);
  EXPECT_EQ(tup.names[0], "trace_id");
  EXPECT_EQ(tup.children[1].kind, Type::kUInt32);
  auto u = ParseType("Tuple(String, UInt8)");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->names[0], "");
  EXPECT_EQ(u->text, "Tuple(String, UInt8)");
}

TEST(ParseType, Errors) {
  EXPECT_EQ(ParseType("Decimal(10, 2)").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ParseType("Array(String").ok());
  EXPECT_FALSE(ParseType("DateTime64(12)").ok());
  EXPECT_FALSE(ParseType("String extra").ok());
  EXPECT_FALSE(ParseType("").ok());
}

// Type text comes from servers too (DESCRIBE, native blocks): hostile text is an error,
// never an exception, a wrapped number or a stack overflow.
TEST(ParseType, HostileText) {
  EXPECT_FALSE(ParseType("FixedString(99999999999999999999)").ok());
  EXPECT_FALSE(ParseType("FixedString(4294967297)").ok());
  EXPECT_FALSE(ParseType("Enum8('a' = 99999999999999999999999)").ok());
  EXPECT_FALSE(ParseType("Enum16('a' = 70000)").ok());
  EXPECT_FALSE(ParseType("DateTime64(99999999999999999999)").ok());
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "Array(";
  deep += "String";
  deep += std::string(20000, ')');
  auto t = ParseType(deep);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("nested too deeply"), std::string::npos);
  std::string ok = "String";
  for (int i = 0; i < 60; ++i) ok = "Array(" + ok + ")";
  EXPECT_TRUE(ParseType(ok).ok());
}

}  // namespace
}  // namespace sluice::clickhouse
