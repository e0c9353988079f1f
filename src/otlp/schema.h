// A compact description of the OTLP 1.x messages: field numbers, value types, JSON names,
// and which messages are records (log record, span, data point). One table drives the
// validator, the canonicalizer and the OTLP/JSON transcoder, so they cannot disagree.
// Immutable, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/signal.h"

namespace sluice::otlp {

enum class FType : uint8_t {
  kMessage,
  kString,
  kBytes,   // JSON: base64
  kHexId,   // bytes; JSON: hex (trace/span ids)
  kInt64,   // varint
  kUInt64,  // varint
  kInt32,   // varint, also enums
  kUInt32,  // varint
  kBool,    // varint
  kSInt32,  // zigzag varint
  kFixed64,
  kSFixed64,
  kDouble,
  kFixed32,
  kPackedFixed64,  // repeated fixed64 (packed or not)
  kPackedDouble,   // repeated double (packed or not)
  kPackedUInt64,   // repeated uint64 varint (packed or not)
};

struct MsgDef;

struct FieldDef {
  uint32_t number;
  std::string_view json_name;   // lowerCamelCase
  std::string_view proto_name;  // snake_case, also accepted in JSON
  FType type;
  bool repeated;
  const MsgDef* msg;  // for kMessage
  int8_t oneof;       // -1 when not in a oneof; otherwise the group index in the message
};

enum class RecordKind : uint8_t { kNone, kLogRecord, kSpan, kDataPoint };

struct MsgDef {
  std::string_view name;
  std::span<const FieldDef> fields;
  RecordKind record = RecordKind::kNone;
  // The attribute messages, which the validator checks by shape first (most requests are
  // mostly attributes).
  bool is_key_value = false, is_any_value = false;

  MsgDef(std::string_view n, std::span<const FieldDef> f, RecordKind r = RecordKind::kNone)
      : name(n),
        fields(f),
        record(r),
        is_key_value(n == "KeyValue"),
        is_any_value(n == "AnyValue") {
    for (size_t i = 0; i < fields.size(); ++i)
      if (fields[i].number < by_number.size())
        by_number[fields[i].number] = static_cast<uint8_t>(i + 1);
  }

  // The validator looks up every field it meets: a direct table for small numbers.
  const FieldDef* Find(uint32_t number) const {
    if (number < by_number.size())
      return by_number[number] ? &fields[by_number[number] - 1] : nullptr;
    for (const FieldDef& f : fields)
      if (f.number == number) return &f;
    return nullptr;
  }

 private:
  std::array<uint8_t, 32> by_number{};  // field number -> index in fields + 1 (0: none)
};

// The Export*ServiceRequest message of a signal.
const MsgDef& RequestDef(Signal s);
// google.rpc.Status and friends are written by hand in status encoding.

// Wire type expected for a (non-packed) field type. Inline: the validator asks per field.
constexpr uint32_t WireTypeOf(FType t) {
  switch (t) {
    case FType::kMessage:
    case FType::kString:
    case FType::kBytes:
    case FType::kHexId: return 2;
    case FType::kInt64:
    case FType::kUInt64:
    case FType::kInt32:
    case FType::kUInt32:
    case FType::kBool:
    case FType::kSInt32:
    case FType::kPackedUInt64: return 0;
    case FType::kFixed64:
    case FType::kSFixed64:
    case FType::kDouble:
    case FType::kPackedFixed64:
    case FType::kPackedDouble: return 1;
    case FType::kFixed32: return 5;
  }
  return 0;
}
constexpr bool IsPacked(FType t) {
  return t == FType::kPackedFixed64 || t == FType::kPackedDouble || t == FType::kPackedUInt64;
}

}  // namespace sluice::otlp
