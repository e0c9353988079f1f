// A compact description of the OTLP 1.x messages: field numbers, value types, JSON names,
// and which messages are records (log record, span, data point). One table drives the
// validator, the canonicalizer and the OTLP/JSON transcoder, so they cannot disagree.
// Immutable, thread-safe.
#pragma once

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

  const FieldDef* Find(uint32_t number) const {
    for (const FieldDef& f : fields)
      if (f.number == number) return &f;
    return nullptr;
  }
};

// The Export*ServiceRequest message of a signal.
const MsgDef& RequestDef(Signal s);
// google.rpc.Status and friends are written by hand in status encoding.

// Wire type expected for a (non-packed) field type.
uint32_t WireTypeOf(FType t);
bool IsPacked(FType t);

}  // namespace sluice::otlp
