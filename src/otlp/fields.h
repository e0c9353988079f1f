// The flattened OTLP schema: one record per log record, span or metric data point, with
// GlassFlow's field names and types plus the fields GlassFlow drops (event_name, schema
// URLs, exponential-histogram buckets, quantiles, exemplars). Values are extracted lazily
// from the zero-copy views, so only mapped fields cost anything.
// Tables are immutable; functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/signal.h"
#include "core/status.h"
#include "otlp/views.h"

namespace sluice::otlp {

// The type vocabulary of the flattened schema (GlassFlow's).
enum class FlatType : uint8_t { kString, kUInt, kInt, kFloat, kBool, kMap, kArray };
std::string_view FlatTypeName(FlatType t);

enum class FieldId : uint8_t {
  // shared
  kResourceAttributes,
  kResourceSchemaUrl,
  kResourceDroppedAttributesCount,
  kScopeName,
  kScopeVersion,
  kScopeAttributes,
  kScopeSchemaUrl,
  kScopeDroppedAttributesCount,
  kAttributes,
  kFlags,
  kDroppedAttributesCount,
  // logs
  kTimestamp,
  kObservedTimestamp,
  kSeverityNumber,
  kSeverityText,
  kBody,
  kTraceId,
  kSpanId,
  kEventName,
  // traces
  kParentSpanId,
  kTraceState,
  kName,
  kKind,
  kStartTimestamp,
  kEndTimestamp,
  kDurationNs,
  kStatusCode,
  kStatusMessage,
  kDroppedEventsCount,
  kDroppedLinksCount,
  kEvents,
  kLinks,
  // metrics (kTimestamp and kStartTimestamp are shared with the above)
  kMetricName,
  kMetricDescription,
  kMetricUnit,
  kMetricType,
  kAggregationTemporality,
  kIsMonotonic,
  kValue,
  kValueDouble,
  kValueInt,
  kCount,
  kSum,
  kMin,
  kMax,
  kBucketCounts,
  kExplicitBounds,
  kScale,
  kZeroCount,
  kZeroThreshold,
  kPositiveOffset,
  kPositiveBucketCounts,
  kNegativeOffset,
  kNegativeBucketCounts,
  kQuantileValues,
  kExemplars,
  // A stateless transform's output (FieldPath::output says which).
  kOutput,
};

// Element types of array-of-object fields.
enum class StructKind : uint8_t { kNone, kEvent, kLink, kQuantile, kExemplar };

struct MemberInfo {
  std::string_view name;
  FlatType type;
  bool omit_empty = false;
  bool nullable = false;
  std::string_view alias = {};  // another accepted name (ClickStack's Nested sub-columns)
};

struct FieldInfo {
  std::string_view name;
  FieldId id;
  FlatType type;
  // Emitted as JSON null (and written as NULL / the column default) when absent.
  bool nullable = false;
  // Left out of the flattened JSON when empty (GlassFlow's omitempty fields).
  bool omit_empty = false;
  StructKind element = StructKind::kNone;
};

std::span<const FieldInfo> FieldsOf(Signal s);
std::span<const MemberInfo> MembersOf(StructKind k);

// A mapping name resolved against the schema: a field, optionally narrowed to one key of
// an attribute map ("resource_attributes.service.name") or one member of an array of
// objects ("events.name", giving an array of names).
struct FieldPath {
  const FieldInfo* field = nullptr;
  std::string key;                    // map key, when narrowed to one attribute
  int member = -1;                    // member index in MembersOf(field->element), or -1
  FlatType type = FlatType::kString;  // type of the resolved value
  int output = -1;                    // a stateless transform's output: its index
  bool keyed() const { return !key.empty(); }
};

StatusOr<FieldPath> ResolvePath(Signal s, std::string_view name);
// With a stateless transform the sink maps its outputs, not the flattened fields: `name`
// must be one of `outputs` (the transform's output_name's).
StatusOr<FieldPath> ResolvePath(Signal s, std::string_view name,
                                std::span<const FieldInfo> outputs);

// A process-lifetime copy of `s` (names of transform outputs, which FieldInfo refers to).
std::string_view InternName(std::string_view s);

// The kinds of value an extraction yields. Several flatten to the same FlatType: a kTime
// is a string in the schema (RFC 3339) but keeps its nanoseconds for time columns.
enum class VKind : uint8_t {
  kNull,
  kStr,
  kU64,
  kI64,
  kF64,
  kBool,
  kTime,   // u = Unix nanoseconds
  kId,     // s = raw id bytes (hex in text form)
  kEnum,   // i = number, s = name
  kAny,    // s = AnyValue message
  kAttrs,  // rep = repeated KeyValue
  kPackedU64,
  kPackedF64,  // packed
  kStructs,    // rep = repeated messages of `element`
  kList,       // list[0..list_size): a computed array, or a map when list_keys is set
};

struct Value {
  VKind kind = VKind::kNull;
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
  Repeated rep;
  Packed packed;
  StructKind element = StructKind::kNone;
  const Value* list = nullptr;  // kList
  const std::string_view* list_keys = nullptr;
  size_t list_size = 0;

  static Value Str(std::string_view s) { return {.kind = VKind::kStr, .s = s}; }
  static Value U64(uint64_t u) { return {.kind = VKind::kU64, .u = u}; }
  static Value I64(int64_t i) { return {.kind = VKind::kI64, .i = i}; }
  static Value F64(double d) { return {.kind = VKind::kF64, .d = d}; }
  static Value Bool(bool b) { return {.kind = VKind::kBool, .b = b}; }
  static Value Time(uint64_t ns) { return {.kind = VKind::kTime, .u = ns}; }
  static Value Any(std::string_view msg) { return {.kind = VKind::kAny, .s = msg}; }
};

// The member of an array-of-objects element type that a column or tuple element named
// `name` refers to: names compare case-insensitively without '_' and '.', so ClickStack's
// `Events.Timestamp` finds `timestamp`; aliases count too. -1 when none.
int FindMember(StructKind k, std::string_view name);

// The views of one record. Pointers not relevant to the signal are null.
struct RecordCtx {
  const ResourceView* res = nullptr;
  const ScopeView* scope = nullptr;
  const LogView* log = nullptr;
  const SpanView* span = nullptr;
  const MetricView* metric = nullptr;
  const PointView* point = nullptr;
  // The stateless transform's outputs for this record (FieldPath::output indexes them).
  const Value* outputs = nullptr;
};

Value Extract(const FieldInfo& f, const RecordCtx& ctx);
Value ExtractPath(const FieldPath& p, const RecordCtx& ctx);
Value ExtractMember(StructKind k, int member, std::string_view element);

// Text and JSON forms of a value, as in the flattened JSON record.
void AppendValueText(const Value& v, std::string* out);
void AppendValueJson(const Value& v, std::string* out);

// The whole flattened record as one JSON object (GlassFlow's layout).
void AppendRecordJson(Signal s, const RecordCtx& ctx, std::string* out);

// Visits every delivered record of a request: fn(const RecordCtx&).
template <class Fn>
void ForEachRecord(Signal s, std::string_view request, Fn&& fn) {
  RecordCtx ctx;
  switch (s) {
    case Signal::kLogs:
      ForEachLog(request, [&](const ResourceView& r, const ScopeView& sc, const LogView& l) {
        ctx.res = &r, ctx.scope = &sc, ctx.log = &l;
        fn(ctx);
      });
      break;
    case Signal::kTraces:
      ForEachSpan(request, [&](const ResourceView& r, const ScopeView& sc, const SpanView& sp) {
        ctx.res = &r, ctx.scope = &sc, ctx.span = &sp;
        fn(ctx);
      });
      break;
    case Signal::kMetrics:
      ForEachPoint(request, [&](const ResourceView& r, const ScopeView& sc, const MetricView& m,
                                const PointView& p) {
        ctx.res = &r, ctx.scope = &sc, ctx.metric = &m, ctx.point = &p;
        fn(ctx);
      });
      break;
  }
}

}  // namespace sluice::otlp
