#include "otlp/fields.h"

#include <cctype>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "core/bytes.h"
#include "core/cat.h"
#include "core/text.h"
#include "otlp/anyvalue.h"

namespace sluice::otlp {
namespace {

using T = FlatType;
using I = FieldId;

constexpr FieldInfo kLogFields[] = {
    {"timestamp", I::kTimestamp, T::kString},
    {"observed_timestamp", I::kObservedTimestamp, T::kString},
    {"severity_number", I::kSeverityNumber, T::kUInt},
    {"severity_text", I::kSeverityText, T::kString},
    {"body", I::kBody, T::kString},
    {"trace_id", I::kTraceId, T::kString, true, true},
    {"span_id", I::kSpanId, T::kString, true, true},
    {"flags", I::kFlags, T::kUInt},
    {"dropped_attributes_count", I::kDroppedAttributesCount, T::kUInt},
    {"resource_attributes", I::kResourceAttributes, T::kMap},
    {"scope_name", I::kScopeName, T::kString},
    {"scope_version", I::kScopeVersion, T::kString, false, true},
    {"scope_attributes", I::kScopeAttributes, T::kMap},
    {"attributes", I::kAttributes, T::kMap},
    {"event_name", I::kEventName, T::kString, false, true},
    {"resource_schema_url", I::kResourceSchemaUrl, T::kString},
    {"resource_dropped_attributes_count", I::kResourceDroppedAttributesCount, T::kUInt},
    {"scope_schema_url", I::kScopeSchemaUrl, T::kString},
    {"scope_dropped_attributes_count", I::kScopeDroppedAttributesCount, T::kUInt},
};

constexpr FieldInfo kSpanFields[] = {
    {"trace_id", I::kTraceId, T::kString, true, true},
    {"span_id", I::kSpanId, T::kString, true, true},
    {"parent_span_id", I::kParentSpanId, T::kString, true, true},
    {"trace_state", I::kTraceState, T::kString, false, true},
    {"flags", I::kFlags, T::kUInt},
    {"name", I::kName, T::kString},
    {"kind", I::kKind, T::kString},
    {"start_timestamp", I::kStartTimestamp, T::kString},
    {"end_timestamp", I::kEndTimestamp, T::kString},
    {"duration_ns", I::kDurationNs, T::kUInt},
    {"status_code", I::kStatusCode, T::kString},
    {"status_message", I::kStatusMessage, T::kString, false, true},
    {"dropped_attributes_count", I::kDroppedAttributesCount, T::kUInt},
    {"dropped_events_count", I::kDroppedEventsCount, T::kUInt},
    {"dropped_links_count", I::kDroppedLinksCount, T::kUInt},
    {"events", I::kEvents, T::kArray, false, false, StructKind::kEvent},
    {"links", I::kLinks, T::kArray, false, false, StructKind::kLink},
    {"resource_attributes", I::kResourceAttributes, T::kMap},
    {"scope_name", I::kScopeName, T::kString},
    {"scope_version", I::kScopeVersion, T::kString, false, true},
    {"scope_attributes", I::kScopeAttributes, T::kMap},
    {"attributes", I::kAttributes, T::kMap},
    {"resource_schema_url", I::kResourceSchemaUrl, T::kString},
    {"resource_dropped_attributes_count", I::kResourceDroppedAttributesCount, T::kUInt},
    {"scope_schema_url", I::kScopeSchemaUrl, T::kString},
    {"scope_dropped_attributes_count", I::kScopeDroppedAttributesCount, T::kUInt},
};

constexpr FieldInfo kMetricFields[] = {
    {"timestamp", I::kTimestamp, T::kString},
    {"start_timestamp", I::kStartTimestamp, T::kString},
    {"metric_name", I::kMetricName, T::kString},
    {"metric_description", I::kMetricDescription, T::kString},
    {"metric_unit", I::kMetricUnit, T::kString},
    {"metric_type", I::kMetricType, T::kString},
    {"aggregation_temporality", I::kAggregationTemporality, T::kString, true},
    {"is_monotonic", I::kIsMonotonic, T::kBool, true},
    {"flags", I::kFlags, T::kUInt},
    {"value_double", I::kValueDouble, T::kFloat, true},
    {"value_int", I::kValueInt, T::kInt, true},
    {"count", I::kCount, T::kUInt, true},
    {"sum", I::kSum, T::kFloat, true},
    {"min", I::kMin, T::kFloat, true},
    {"max", I::kMax, T::kFloat, true},
    {"bucket_counts", I::kBucketCounts, T::kArray},
    {"explicit_bounds", I::kExplicitBounds, T::kArray},
    {"resource_attributes", I::kResourceAttributes, T::kMap},
    {"scope_name", I::kScopeName, T::kString},
    {"scope_version", I::kScopeVersion, T::kString, false, true},
    {"scope_attributes", I::kScopeAttributes, T::kMap},
    {"attributes", I::kAttributes, T::kMap},
    {"value", I::kValue, T::kFloat, true},
    {"scale", I::kScale, T::kInt, true},
    {"zero_count", I::kZeroCount, T::kUInt, true},
    {"zero_threshold", I::kZeroThreshold, T::kFloat, true},
    {"positive_offset", I::kPositiveOffset, T::kInt, true},
    {"positive_bucket_counts", I::kPositiveBucketCounts, T::kArray},
    {"negative_offset", I::kNegativeOffset, T::kInt, true},
    {"negative_bucket_counts", I::kNegativeBucketCounts, T::kArray},
    {"quantile_values", I::kQuantileValues, T::kArray, false, false, StructKind::kQuantile},
    {"exemplars", I::kExemplars, T::kArray, false, false, StructKind::kExemplar},
    {"resource_schema_url", I::kResourceSchemaUrl, T::kString},
    {"resource_dropped_attributes_count", I::kResourceDroppedAttributesCount, T::kUInt},
    {"scope_schema_url", I::kScopeSchemaUrl, T::kString},
    {"scope_dropped_attributes_count", I::kScopeDroppedAttributesCount, T::kUInt},
};

constexpr MemberInfo kEventMembers[] = {
    {"timestamp", T::kString},
    {"name", T::kString},
    {"attributes", T::kMap},
    {"dropped_attributes_count", T::kUInt},
};
constexpr MemberInfo kLinkMembers[] = {
    {"trace_id", T::kString, true, true},   {"span_id", T::kString, true, true},
    {"trace_state", T::kString, true},      {"attributes", T::kMap},
    {"dropped_attributes_count", T::kUInt}, {"flags", T::kUInt},
};
constexpr MemberInfo kQuantileMembers[] = {
    {"quantile", T::kFloat},
    {"value", T::kFloat},
};
constexpr MemberInfo kExemplarMembers[] = {
    {"timestamp", T::kString, false, false, "time_unix"},
    {"value", T::kFloat, false, true},
    {"value_double", T::kFloat, false, true},
    {"value_int", T::kInt, false, true},
    {"span_id", T::kString, true, true},
    {"trace_id", T::kString, true, true},
    {"filtered_attributes", T::kMap},
};

constexpr auto Str = Value::Str;
constexpr auto U64 = Value::U64;
constexpr auto I64 = Value::I64;
constexpr auto F64 = Value::F64;
constexpr auto Bool = Value::Bool;
constexpr auto Time = Value::Time;
Value Id(std::string_view raw) {
  Value v;
  for (char c : raw) {
    if (c != 0) {
      v.kind = VKind::kId;
      v.s = raw;
      return v;
    }
  }
  return v;  // empty or all-zero: absent
}
Value Enum(int64_t n, std::string_view name) {
  Value v;
  v.kind = VKind::kEnum;
  v.i = n;
  v.s = name;
  return v;
}
Value Attrs(const Repeated& r) {
  Value v;
  v.kind = VKind::kAttrs;
  v.rep = r;
  return v;
}
Value Structs(const Repeated& r, StructKind k) {
  Value v;
  v.kind = VKind::kStructs;
  v.rep = r;
  v.element = k;
  return v;
}
Value PackedOf(const Packed& p, bool is_double) {
  Value v;
  v.kind = is_double ? VKind::kPackedF64 : VKind::kPackedU64;
  v.packed = p;
  return v;
}
Value Null() { return Value{}; }

std::string_view SpanKindName(int32_t k) {
  static constexpr std::string_view kNames[] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                                "CLIENT",      "PRODUCER", "CONSUMER"};
  return k >= 0 && k <= 5 ? kNames[k] : kNames[0];
}
std::string_view StatusCodeName(int32_t c) { return c == 1 ? "OK" : c == 2 ? "ERROR" : "UNSET"; }
std::string_view TemporalityName(int32_t t) {
  return t == 1 ? "DELTA" : t == 2 ? "CUMULATIVE" : "UNSPECIFIED";
}
std::string_view MetricTypeName(MetricKind k) {
  switch (k) {
    case MetricKind::kGauge: return "gauge";
    case MetricKind::kSum: return "sum";
    case MetricKind::kHistogram: return "histogram";
    case MetricKind::kExpHistogram: return "exp_histogram";
    case MetricKind::kSummary: return "summary";
    case MetricKind::kNone: break;
  }
  return "";
}

bool IsHistogramLike(MetricKind k) {
  return k == MetricKind::kHistogram || k == MetricKind::kExpHistogram || k == MetricKind::kSummary;
}

Value ExtractMetric(FieldId id, const MetricView& m, const PointView& p) {
  const MetricKind k = m.kind;
  switch (id) {
    case I::kTimestamp: return Time(p.time);
    case I::kStartTimestamp: return Time(p.start_time);
    case I::kMetricName: return Str(m.name);
    case I::kMetricDescription: return Str(m.description);
    case I::kMetricUnit: return Str(m.unit);
    case I::kMetricType: return Enum(static_cast<int>(k), MetricTypeName(k));
    case I::kAggregationTemporality:
      if (k == MetricKind::kSum || k == MetricKind::kHistogram || k == MetricKind::kExpHistogram)
        return Enum(m.temporality, TemporalityName(m.temporality));
      return Null();
    case I::kIsMonotonic: return k == MetricKind::kSum ? Bool(m.is_monotonic) : Null();
    case I::kFlags: return U64(p.flags);
    case I::kValueDouble: return p.has_double ? F64(p.as_double) : Null();
    case I::kValueInt: return p.has_int ? I64(p.as_int) : Null();
    case I::kValue:
      if (p.has_double) return F64(p.as_double);
      if (p.has_int) return F64(static_cast<double>(p.as_int));
      return Null();
    case I::kCount: return IsHistogramLike(k) ? U64(p.count) : Null();
    case I::kSum: return IsHistogramLike(k) ? F64(p.sum) : Null();
    case I::kMin:
      return (k == MetricKind::kHistogram || k == MetricKind::kExpHistogram) && p.has_min
                 ? F64(p.min)
                 : Null();
    case I::kMax:
      return (k == MetricKind::kHistogram || k == MetricKind::kExpHistogram) && p.has_max
                 ? F64(p.max)
                 : Null();
    case I::kBucketCounts: return PackedOf(p.bucket_counts, false);
    case I::kExplicitBounds: return PackedOf(p.explicit_bounds, true);
    case I::kScale: return k == MetricKind::kExpHistogram ? I64(p.scale) : Null();
    case I::kZeroCount: return k == MetricKind::kExpHistogram ? U64(p.zero_count) : Null();
    case I::kZeroThreshold: return k == MetricKind::kExpHistogram ? F64(p.zero_threshold) : Null();
    case I::kPositiveOffset:
      return k == MetricKind::kExpHistogram ? I64(p.positive.offset) : Null();
    case I::kNegativeOffset:
      return k == MetricKind::kExpHistogram ? I64(p.negative.offset) : Null();
    case I::kPositiveBucketCounts: return PackedOf(p.positive.counts, false);
    case I::kNegativeBucketCounts: return PackedOf(p.negative.counts, false);
    case I::kQuantileValues: return Structs(p.quantiles, StructKind::kQuantile);
    case I::kExemplars: return Structs(p.exemplars, StructKind::kExemplar);
    case I::kAttributes: return Attrs(p.attributes);
    default: return Null();
  }
}

}  // namespace

std::string_view FlatTypeName(FlatType t) {
  switch (t) {
    case T::kString: return "string";
    case T::kUInt: return "uint";
    case T::kInt: return "int";
    case T::kFloat: return "float";
    case T::kBool: return "bool";
    case T::kMap: return "map";
    case T::kArray: return "array";
  }
  return "?";
}

std::span<const FieldInfo> FieldsOf(Signal s) {
  switch (s) {
    case Signal::kLogs: return kLogFields;
    case Signal::kTraces: return kSpanFields;
    case Signal::kMetrics: return kMetricFields;
  }
  return {};
}

std::span<const MemberInfo> MembersOf(StructKind k) {
  switch (k) {
    case StructKind::kEvent: return kEventMembers;
    case StructKind::kLink: return kLinkMembers;
    case StructKind::kQuantile: return kQuantileMembers;
    case StructKind::kExemplar: return kExemplarMembers;
    case StructKind::kNone: break;
  }
  return {};
}

std::string_view InternName(std::string_view s) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> names;
  std::lock_guard<std::mutex> lock(mu);
  auto it = names.find(s);
  if (it == names.end()) it = names.emplace(s).first;
  return *it;
}

StatusOr<FieldPath> ResolvePath(Signal s, std::string_view name,
                                std::span<const FieldInfo> outputs) {
  if (outputs.empty()) return ResolvePath(s, name);
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].name != name) continue;
    FieldPath p;
    p.field = &outputs[k];
    p.type = outputs[k].type;
    p.output = static_cast<int>(k);
    return p;
  }
  std::string names;
  for (const FieldInfo& f : outputs) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return absl::InvalidArgumentError(Cat("'", name,
                                        "' is not an output of the stateless transform (", names,
                                        "); with a stateless transform the sink maps its outputs"));
}

StatusOr<FieldPath> ResolvePath(Signal s, std::string_view name) {
  FieldPath p;
  for (const FieldInfo& f : FieldsOf(s)) {
    if (f.name == name) {
      p.field = &f;
      p.type = f.type;
      return p;
    }
  }
  // Longest field name that is a dotted prefix of `name`.
  for (const FieldInfo& f : FieldsOf(s)) {
    if (name.size() <= f.name.size() + 1 || name.substr(0, f.name.size()) != f.name ||
        name[f.name.size()] != '.')
      continue;
    std::string_view rest = name.substr(f.name.size() + 1);
    if (f.type == T::kMap) {
      p.field = &f;
      p.key = std::string(rest);
      p.type = T::kString;
      return p;
    }
    if (f.element != StructKind::kNone) {
      auto members = MembersOf(f.element);
      for (size_t i = 0; i < members.size(); ++i) {
        if (members[i].name == rest) {
          p.field = &f;
          p.member = static_cast<int>(i);
          p.type = T::kArray;
          return p;
        }
      }
    }
  }
  return absl::InvalidArgumentError(
      Cat("field '", name, "' is not in the ", SourceTypeOf(s), " schema"));
}

Value Extract(const FieldInfo& f, const RecordCtx& c) {
  switch (f.id) {
    case I::kResourceAttributes: return Attrs(c.res->attributes);
    case I::kResourceSchemaUrl: return Str(c.res->schema_url);
    case I::kResourceDroppedAttributesCount: return U64(c.res->dropped_attributes_count);
    case I::kScopeName: return Str(c.scope->name);
    case I::kScopeVersion: return Str(c.scope->version);
    case I::kScopeAttributes: return Attrs(c.scope->attributes);
    case I::kScopeSchemaUrl: return Str(c.scope->schema_url);
    case I::kScopeDroppedAttributesCount: return U64(c.scope->dropped_attributes_count);
    default: break;
  }
  if (c.log != nullptr) {
    const LogView& l = *c.log;
    switch (f.id) {
      // As the Collector's ClickHouse exporter: a record without a time takes its observed time.
      case I::kTimestamp: return Time(l.time != 0 ? l.time : l.observed_time);
      case I::kObservedTimestamp: return Time(l.observed_time);
      case I::kSeverityNumber: return U64(static_cast<uint32_t>(l.severity_number));
      case I::kSeverityText: return Str(l.severity_text);
      case I::kBody: {
        Value v;
        v.kind = VKind::kAny;
        v.s = l.body;
        return v;
      }
      case I::kTraceId: return Id(l.trace_id);
      case I::kSpanId: return Id(l.span_id);
      case I::kFlags: return U64(l.flags);
      case I::kDroppedAttributesCount: return U64(l.dropped_attributes_count);
      case I::kAttributes: return Attrs(l.attributes);
      case I::kEventName: return Str(l.event_name);
      default: return Null();
    }
  }
  if (c.span != nullptr) {
    const SpanView& s = *c.span;
    switch (f.id) {
      case I::kTraceId: return Id(s.trace_id);
      case I::kSpanId: return Id(s.span_id);
      case I::kParentSpanId: return Id(s.parent_span_id);
      case I::kTraceState: return Str(s.trace_state);
      case I::kFlags: return U64(s.flags);
      case I::kName: return Str(s.name);
      case I::kKind: return Enum(s.kind, SpanKindName(s.kind));
      case I::kStartTimestamp: return Time(s.start_time);
      case I::kEndTimestamp: return Time(s.end_time);
      case I::kDurationNs: return U64(s.end_time - s.start_time);
      case I::kStatusCode: return Enum(s.status_code, StatusCodeName(s.status_code));
      case I::kStatusMessage: return Str(s.status_message);
      case I::kDroppedAttributesCount: return U64(s.dropped_attributes_count);
      case I::kDroppedEventsCount: return U64(s.dropped_events_count);
      case I::kDroppedLinksCount: return U64(s.dropped_links_count);
      case I::kEvents: return Structs(s.events, StructKind::kEvent);
      case I::kLinks: return Structs(s.links, StructKind::kLink);
      case I::kAttributes: return Attrs(s.attributes);
      default: return Null();
    }
  }
  if (c.metric != nullptr && c.point != nullptr) return ExtractMetric(f.id, *c.metric, *c.point);
  return Null();
}

namespace {
std::string NormalizeName(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c == '_' || c == '.') continue;
    n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return n;
}
}  // namespace

int FindMember(StructKind k, std::string_view name) {
  const std::string want = NormalizeName(name);
  auto members = MembersOf(k);
  for (size_t i = 0; i < members.size(); ++i) {
    if (NormalizeName(members[i].name) == want ||
        (!members[i].alias.empty() && NormalizeName(members[i].alias) == want))
      return static_cast<int>(i);
  }
  return -1;
}

Value ExtractPath(const FieldPath& p, const RecordCtx& c) {
  // Returned as a prvalue (no copy: a copy of a Value just written stalls on store
  // forwarding). Member paths are resolved per element by the encoder.
  if (p.output >= 0) return c.outputs ? c.outputs[p.output] : Null();
  if (!p.keyed()) return Extract(*p.field, c);
  const Value v = Extract(*p.field, c);
  std::string_view any;
  if (v.kind != VKind::kAttrs || !FindAttribute(v.rep, p.key, &any)) return Null();
  return Value::Any(any);
}

Value ExtractMember(StructKind k, int member, std::string_view e) {
  switch (k) {
    case StructKind::kEvent: {
      EventView ev = ParseEvent(e);
      switch (member) {
        case 0: return Time(ev.time);
        case 1: return Str(ev.name);
        case 2: return Attrs(ev.attributes);
        case 3: return U64(ev.dropped_attributes_count);
      }
      break;
    }
    case StructKind::kLink: {
      LinkView l = ParseLink(e);
      switch (member) {
        case 0: return Id(l.trace_id);
        case 1: return Id(l.span_id);
        case 2: return Str(l.trace_state);
        case 3: return Attrs(l.attributes);
        case 4: return U64(l.dropped_attributes_count);
        case 5: return U64(l.flags);
      }
      break;
    }
    case StructKind::kQuantile: {
      QuantileView q = ParseQuantile(e);
      return member == 0 ? F64(q.quantile) : F64(q.value);
    }
    case StructKind::kExemplar: {
      ExemplarView x = ParseExemplar(e);
      switch (member) {
        case 0: return Time(x.time);
        case 1:
          return x.has_double ? F64(x.as_double)
                 : x.has_int  ? F64(static_cast<double>(x.as_int))
                              : Null();
        case 2: return x.has_double ? F64(x.as_double) : Null();
        case 3: return x.has_int ? I64(x.as_int) : Null();
        case 4: return Id(x.span_id);
        case 5: return Id(x.trace_id);
        case 6: return Attrs(x.filtered_attributes);
      }
      break;
    }
    case StructKind::kNone: break;
  }
  return Null();
}

void AppendValueText(const Value& v, std::string* out) {
  switch (v.kind) {
    case VKind::kNull: break;
    case VKind::kStr: out->append(v.s); break;
    case VKind::kU64: AppendUInt(v.u, out); break;
    case VKind::kI64: AppendInt(v.i, out); break;
    case VKind::kF64: AppendDouble(v.d, out); break;
    case VKind::kBool: out->append(v.b ? "true" : "false"); break;
    case VKind::kTime: AppendRfc3339Nano(v.u, out); break;
    case VKind::kId: AppendHex(v.s, out); break;
    case VKind::kEnum: out->append(v.s); break;
    case VKind::kAny: AppendAnyValueText(v.s, out); break;
    default: AppendValueJson(v, out); break;  // maps and arrays as JSON text
  }
}

void AppendValueJson(const Value& v, std::string* out) {
  switch (v.kind) {
    case VKind::kNull: out->append("null"); return;
    case VKind::kU64:
    case VKind::kI64:
    case VKind::kBool: AppendValueText(v, out); return;
    case VKind::kF64:
      if (v.d != v.d || v.d - v.d != 0) {
        out->push_back('"');
        AppendDouble(v.d, out);
        out->push_back('"');
      } else {
        AppendDouble(v.d, out);
      }
      return;
    case VKind::kAttrs: AppendAttributesJson(v.rep, out); return;
    case VKind::kPackedU64:
    case VKind::kPackedF64: {
      out->push_back('[');
      bool first = true;
      const bool dbl = v.kind == VKind::kPackedF64;
      v.packed.ForEach([&](uint64_t bits) {
        if (!first) out->push_back(',');
        first = false;
        if (dbl) {
          Value e;
          e.kind = VKind::kF64;
          std::memcpy(&e.d, &bits, 8);
          AppendValueJson(e, out);
        } else {
          AppendUInt(bits, out);
        }
      });
      out->push_back(']');
      return;
    }
    case VKind::kList: {
      out->push_back(v.list_keys ? '{' : '[');
      for (size_t k = 0; k < v.list_size; ++k) {
        if (k) out->push_back(',');
        if (v.list_keys) {
          AppendJsonString(v.list_keys[k], out);
          out->push_back(':');
        }
        AppendValueJson(v.list[k], out);
      }
      out->push_back(v.list_keys ? '}' : ']');
      return;
    }
    case VKind::kStructs: {
      auto members = MembersOf(v.element);
      out->push_back('[');
      bool first = true;
      v.rep.ForEach([&](std::string_view e) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('{');
        bool first_member = true;
        for (size_t m = 0; m < members.size(); ++m) {
          Value mv = ExtractMember(v.element, static_cast<int>(m), e);
          if (members[m].omit_empty &&
              (mv.kind == VKind::kNull || (mv.kind == VKind::kStr && mv.s.empty())))
            continue;
          if (!first_member) out->push_back(',');
          first_member = false;
          AppendJsonString(members[m].name, out);
          out->push_back(':');
          AppendValueJson(mv, out);
        }
        out->push_back('}');
      });
      out->push_back(']');
      return;
    }
    default: {
      std::string text;
      AppendValueText(v, &text);
      AppendJsonString(text, out);
      return;
    }
  }
}

void AppendRecordJson(Signal s, const RecordCtx& ctx, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const FieldInfo& f : FieldsOf(s)) {
    Value v = Extract(f, ctx);
    if (f.omit_empty && (v.kind == VKind::kNull || (v.kind == VKind::kStr && v.s.empty())))
      continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(f.name, out);
    out->push_back(':');
    if (v.kind == VKind::kNull && !f.nullable && f.type == T::kString) {
      out->append("\"\"");
    } else {
      AppendValueJson(v, out);
    }
  }
  out->push_back('}');
}

}  // namespace sluice::otlp
