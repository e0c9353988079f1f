#include "otlp/views.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otlp/wire.h"

namespace sluice::otlp {
namespace {

struct Field {
  uint32_t number;
  uint32_t wt;
  std::string bytes;  // the value as written after the tag
};

std::string Encode(const std::vector<Field>& fields) {
  std::string out;
  for (const Field& f : fields) {
    PutTag(f.number, f.wt, &out);
    if (f.wt == kLen) PutVarint(f.bytes.size(), &out);
    out += f.bytes;
  }
  return out;
}

std::string Fixed64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
std::string Fixed32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string Varint(uint64_t v) {
  std::string out;
  PutVarint(v, &out);
  return out;
}

std::vector<std::string> Attributes(const LogView& v) {
  std::vector<std::string> out;
  v.attributes.ForEach([&](std::string_view kv) { out.emplace_back(kv); });
  return out;
}

void ExpectSame(const LogView& a, const LogView& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.observed_time, b.observed_time);
  EXPECT_EQ(a.severity_number, b.severity_number);
  EXPECT_EQ(a.severity_text, b.severity_text);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.has_body, b.has_body);
  EXPECT_EQ(a.dropped_attributes_count, b.dropped_attributes_count);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.span_id, b.span_id);
  EXPECT_EQ(a.event_name, b.event_name);
  EXPECT_EQ(Attributes(a), Attributes(b));
}

// Records in field order take a straight-line path; every other order, repeats and unknown
// fields go through the general loop. Both must read the same record.
TEST(ParseLog, AnyFieldOrderReadsTheSameRecord) {
  const std::vector<Field> ordered = {
      {1, kI64, Fixed64(111)},         {2, kVarint, Varint(9)},  {3, kLen, "INFO"},
      {5, kLen, "\x0a\x02hi"},         {6, kLen, "attr-a"},      {6, kLen, "attr-b"},
      {7, kVarint, Varint(3)},         {8, kI32, Fixed32(1)},    {9, kLen, std::string(16, 'T')},
      {10, kLen, std::string(8, 'S')}, {11, kI64, Fixed64(222)}, {12, kLen, "event"},
  };
  const std::string in_order = Encode(ordered);
  const LogView want = ParseLog(in_order);
  EXPECT_EQ(want.time, 111u);
  EXPECT_EQ(want.observed_time, 222u);
  EXPECT_EQ(want.severity_text, "INFO");
  EXPECT_EQ(want.flags, 1u);
  EXPECT_EQ(Attributes(want), (std::vector<std::string>{"attr-a", "attr-b"}));

  std::vector<Field> reversed(ordered.rbegin(), ordered.rend());
  const std::string backwards = Encode(reversed);
  LogView got = ParseLog(backwards);
  EXPECT_EQ(Attributes(got), (std::vector<std::string>{"attr-b", "attr-a"}));
  got.attributes = want.attributes;  // same attributes, listed in the other order
  ExpectSame(got, want);

  // An unknown field in the middle, and a field repeated at the end (the last one wins).
  std::vector<Field> odd = ordered;
  odd.insert(odd.begin() + 4, Field{99, kVarint, Varint(5)});
  odd.push_back({3, kLen, "WARN"});
  const std::string odd_bytes = Encode(odd);
  got = ParseLog(odd_bytes);
  EXPECT_EQ(got.severity_text, "WARN");
  got.severity_text = want.severity_text;
  ExpectSame(got, want);

  // A field with the wrong wire type is skipped, not misread.
  std::vector<Field> wrong = ordered;
  wrong[0] = {1, kVarint, Varint(5)};
  const std::string wrong_bytes = Encode(wrong);
  got = ParseLog(wrong_bytes);
  EXPECT_EQ(got.time, 0u);
  got.time = want.time;
  ExpectSame(got, want);
}

}  // namespace
}  // namespace sluice::otlp
