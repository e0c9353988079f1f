#include "otlp/anyvalue.h"

#include <gtest/gtest.h>

#include <string>

#include "otlp/fields_testing.h"
#include "otlp/wire.h"

namespace sluice::otlp {
namespace {

using testing::LenField;
using testing::VarintField;

// Short strings take a fast path; every other shape goes through the general reader. Both
// must give the same answer.
TEST(ParseAnyValue, StringsOfEveryShape) {
  for (size_t n : {0u, 1u, 127u, 128u, 300u}) {
    const std::string s(n, 'q'), msg = LenField(1, s);
    AnyValueView v = ParseAnyValue(msg);
    EXPECT_EQ(v.kind, AnyValueView::kString) << n;
    EXPECT_EQ(v.bytes, s) << n;
  }
  // The last oneof member wins, whatever the order.
  const std::string int_last = LenField(1, "text") + VarintField(3, 42);
  AnyValueView v = ParseAnyValue(int_last);
  EXPECT_EQ(v.kind, AnyValueView::kInt);
  EXPECT_EQ(v.i, 42);
  const std::string string_last = VarintField(3, 42) + LenField(1, "text");
  v = ParseAnyValue(string_last);
  EXPECT_EQ(v.kind, AnyValueView::kString);
  EXPECT_EQ(v.bytes, "text");
  const std::string twice = LenField(1, "a") + LenField(1, "bc");
  v = ParseAnyValue(twice);
  EXPECT_EQ(v.bytes, "bc");
  // Truncated: the length runs past the end.
  std::string cut = LenField(1, "abcdef");
  cut.pop_back();
  v = ParseAnyValue(cut);
  EXPECT_NE(v.bytes, "abcde");
}

TEST(ParseKeyValue, KeysAndValuesOfEveryShape) {
  const std::string value = LenField(1, "v");
  for (size_t n : {1u, 127u, 128u}) {
    const std::string key(n, 'k'), msg = LenField(1, key) + LenField(2, value);
    KeyValueView kv = ParseKeyValue(msg);
    EXPECT_EQ(kv.key, key) << n;
    EXPECT_EQ(kv.value, value) << n;
  }
  const std::string long_value = LenField(1, std::string(200, 'v'));
  const std::string m1 = LenField(1, "k") + LenField(2, long_value);
  KeyValueView kv = ParseKeyValue(m1);
  EXPECT_EQ(kv.key, "k");
  EXPECT_EQ(kv.value, long_value);
  const std::string m2 = LenField(2, value) + LenField(1, "k");  // value first
  kv = ParseKeyValue(m2);
  EXPECT_EQ(kv.key, "k");
  EXPECT_EQ(kv.value, value);
  const std::string m3 = LenField(1, "k") + LenField(2, value) + VarintField(9, 1);  // unknown
  kv = ParseKeyValue(m3);
  EXPECT_EQ(kv.key, "k");
  EXPECT_EQ(kv.value, value);
  const std::string m4 = LenField(1, "k");  // no value
  kv = ParseKeyValue(m4);
  EXPECT_EQ(kv.key, "k");
  EXPECT_TRUE(kv.value.empty());
}

TEST(AppendAnyValueJson, NestedListsWithInvalidUtf8AreValidJson) {
  // kvlist{"k\xff": array[string "x\xfe", kvlist{"a": int 1}]}
  const std::string inner =
      LenField(6, LenField(1, LenField(1, "a") + LenField(2, VarintField(3, 1))));
  const std::string array = LenField(5, LenField(1, LenField(1, "x\xfe")) + LenField(1, inner));
  const std::string value = LenField(6, LenField(1, LenField(1, "k\xff") + LenField(2, array)));
  std::string out;
  AppendAnyValueJson(value, &out);
  EXPECT_EQ(out, R"({"k\ufffd":["x\ufffd",{"a":1}]})");
  out.clear();
  AppendAnyValueText(value, &out);
  EXPECT_EQ(out, R"({"k\ufffd":["x\ufffd",{"a":1}]})");
}

}  // namespace
}  // namespace sluice::otlp
