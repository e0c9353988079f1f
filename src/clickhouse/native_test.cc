#include "clickhouse/native.h"

#include <gtest/gtest.h>

namespace sluice::clickhouse {
namespace {

std::vector<ColumnBinding> Cols(std::vector<std::pair<std::string, std::string>> defs) {
  std::vector<ColumnBinding> out;
  for (auto& [name, type] : defs) {
    ColumnBinding b;
    b.column = name;
    auto t = ParseType(type);
    EXPECT_TRUE(t.ok()) << type;
    b.type = *t;
    out.push_back(std::move(b));
  }
  return out;
}

std::string Native(const std::vector<ColumnBinding>& cols, const std::string& rows, uint64_t n) {
  std::string out;
  Status s = RowBinaryToNative(cols, rows, n, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

const std::string k8Zero(7, '\0');

TEST(Native, ScalarsAndStringsColumnByColumn) {
  // Rows (1, 'x') and (2, 'yz'), as RowBinary.
  const std::string rows("\x01\x00\x00\x00\x01x\x02\x00\x00\x00\x02yz", 13);
  EXPECT_EQ(Native(Cols({{"a", "UInt32"}, {"s", "String"}}), rows, 2),
            std::string("\x02\x02"  // 2 columns, 2 rows
                        "\x01"
                        "a\x06UInt32"                       // name, type
                        "\x01\x00\x00\x00\x02\x00\x00\x00"  // 1, 2
                        "\x01s\x06String"
                        "\x01x\x02yz",
                        33));
}

TEST(Native, NullableArrayAndMapSplitIntoStreams) {
  // Rows: (NULL, [1, 2], {'k': 1}) and ('x', [], {}).
  const std::string rows(
      "\x01"
      "\x02\x01\x02"
      "\x01\x01k\x01"
      "\x00\x01x"
      "\x00"
      "\x00",
      13);
  const std::string got =
      Native(Cols({{"n", "Nullable(String)"}, {"a", "Array(UInt8)"}, {"m", "Map(String, UInt8)"}}),
             rows, 2);
  const std::string want = std::string("\x03\x02", 2) + "\x01n\x10Nullable(String)" +
                           std::string("\x01\x00", 2) +   // nulls
                           std::string("\x00\x01x", 3) +  // placeholder, 'x'
                           "\x01"
                           "a\x0c"
                           "Array(UInt8)" +
                           "\x02" + k8Zero + "\x02" + k8Zero +
                           "\x01\x02" +  // offsets 2, 2; elements
                           "\x01m\x12Map(String, UInt8)" + "\x01" + k8Zero + "\x01" + k8Zero +
                           "\x01k\x01";  // offsets 1, 1; keys; values
  EXPECT_EQ(got, want);
}

TEST(Native, LowCardinalityHasADictionaryPerBlock) {
  const std::string rows(
      "\x01"
      "a\x01"
      "b\x01"
      "a",
      6);
  const std::string got = Native(Cols({{"c", "LowCardinality(String)"}}), rows, 3);
  const std::string want = std::string("\x01\x03", 2) +
                           "\x01"
                           "c\x16LowCardinality(String)" +
                           "\x01" + k8Zero +                                    // keys version 1
                           std::string("\x00\x06", 2) + std::string(6, '\0') +  // UInt8 indexes
                           "\x02" + k8Zero +
                           "\x01"
                           "a\x01"
                           "b" +  // 2 keys
                           "\x03" +
                           k8Zero + std::string("\x00\x01\x00", 3);  // 3 indexes
  EXPECT_EQ(got, want);
  // Nullable inside: key 0 stands for NULL.
  const std::string nrows(
      "\x01\x00\x01"
      "a",
      4);
  const std::string ngot = Native(Cols({{"c", "LowCardinality(Nullable(String))"}}), nrows, 2);
  ASSERT_GT(ngot.size(), 21u);
  EXPECT_EQ(ngot.substr(ngot.size() - 21), std::string("\x02", 1) + k8Zero +
                                               std::string("\x00\x01"
                                                           "a",
                                                           3) +  // keys: NULL, 'a'
                                               "\x02" +
                                               k8Zero + std::string("\x00\x01", 2) + "");
}

TEST(Native, RejectsRowsThatDoNotMatchTheColumns) {
  std::string out;
  EXPECT_FALSE(
      RowBinaryToNative(Cols({{"a", "UInt32"}}), std::string("\x01\x00\x00", 3), 1, &out).ok());
  EXPECT_FALSE(RowBinaryToNative(Cols({{"a", "UInt8"}}), std::string("\x01\x02", 2), 1, &out).ok());
}

}  // namespace
}  // namespace sluice::clickhouse
