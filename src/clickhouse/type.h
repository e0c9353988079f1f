// ClickHouse data types as a small tree parsed from their text form
// ("Nullable(LowCardinality(String))", "DateTime64(9, 'UTC')", "Map(String, String)").
// Immutable after parsing; thread-safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sluice::clickhouse {

struct Type {
  enum Kind : uint8_t {
    kString,
    kFixedString,
    kUInt8,
    kUInt16,
    kUInt32,
    kUInt64,
    kInt8,
    kInt16,
    kInt32,
    kInt64,
    kFloat32,
    kFloat64,
    kBool,
    kDate,
    kDateTime,
    kDateTime64,
    kUUID,
    kEnum8,
    kEnum16,
    kNullable,
    kLowCardinality,
    kArray,
    kMap,
    kTuple,
    kNested,
  };
  Kind kind = kString;
  int param = 0;                   // FixedString length, DateTime64 precision
  std::vector<Type> children;      // Nullable/LC/Array: 1; Map: 2; Tuple/Nested: n
  std::vector<std::string> names;  // Tuple/Nested element names (may be empty for Tuple)
  std::vector<std::pair<std::string, int>> enum_values;
  std::string text;  // the type as written

  bool IsInteger() const { return kind >= kUInt8 && kind <= kInt64; }
  bool IsFloat() const { return kind == kFloat32 || kind == kFloat64; }
  // Strips Nullable and LowCardinality wrappers.
  const Type& Base() const;
};

// Parses a type; Unimplemented for types Sluice cannot encode (Decimal, IPv4, ...).
StatusOr<Type> ParseType(const std::string& text);

}  // namespace sluice::clickhouse
