// RowBinary encoding of flattened OTLP values into the table's real column types,
// with GlassFlow's conversion rules (glassflow.md §2.5) and Sluice's additions
// (timestamps keep nanoseconds for DateTime64/UInt64 columns; ids fit UUID columns).
// Pure functions; thread-safe (scratch space is thread-local).
#pragma once

#include <string>
#include <vector>

#include "clickhouse/type.h"
#include "core/bytes.h"
#include "core/status.h"
#include "otlp/anyvalue.h"
#include "otlp/fields.h"

namespace sluice::clickhouse {

// How a column takes its value from the resolved field.
enum class Part : uint8_t {
  kWhole,      // the field (or attribute key) itself
  kMember,     // one member of every element of an array-of-objects field -> Array(T)
  kMapKeys,    // the keys of a map field -> Array(String)   (Nested(key, value) columns)
  kMapValues,  // the values of a map field -> Array(String)
};

struct ColumnBinding {
  std::string column;  // column name in the table
  Type type;           // the column's real type, read from the server
  otlp::FieldPath path;
  Part part = Part::kWhole;
};

// Checks, once at pipeline start, that the field can be written to the column.
Status CheckCompatible(const ColumnBinding& b);

// Per-row scratch for EncodeBinding: a Nested(key, value) pair of columns reads the same
// attribute map twice, and collects it once. Reset() before each row.
struct RowScratch {
  const char* map_data = nullptr;  // the map's message and field, when `map` holds it
  size_t map_size = 0;
  uint32_t map_field = 0;
  std::vector<otlp::KeyValueView> map;
  void Reset() { map_data = nullptr; }
};

// Appends the column's value for one record. On error, bytes may have been appended:
// the caller rolls the row back.
Status EncodeBinding(const ColumnBinding& b, const otlp::RecordCtx& ctx, ByteWriter& w,
                     RowScratch* scratch = nullptr);

// Appends one value of type t (exposed for tests).
Status EncodeValue(const otlp::Value& v, const Type& t, ByteWriter& w);

}  // namespace sluice::clickhouse
