#include "otlp/schema.h"

namespace sluice::otlp {
namespace {

using F = FType;
constexpr int8_t kNo = -1;

// Forward declarations: messages refer to each other (AnyValue is recursive).
extern const MsgDef kAnyValue, kKeyValue, kArrayValue, kKeyValueList, kScope, kResource, kEntityRef;

const FieldDef kAnyValueFields[] = {
    {1, "stringValue", "string_value", F::kString, false, nullptr, 0},
    {2, "boolValue", "bool_value", F::kBool, false, nullptr, 0},
    {3, "intValue", "int_value", F::kInt64, false, nullptr, 0},
    {4, "doubleValue", "double_value", F::kDouble, false, nullptr, 0},
    {5, "arrayValue", "array_value", F::kMessage, false, &kArrayValue, 0},
    {6, "kvlistValue", "kvlist_value", F::kMessage, false, &kKeyValueList, 0},
    {7, "bytesValue", "bytes_value", F::kBytes, false, nullptr, 0},
    {8, "stringValueStrindex", "string_value_strindex", F::kInt32, false, nullptr, 0},
};
const MsgDef kAnyValue{"AnyValue", kAnyValueFields};

const FieldDef kArrayValueFields[] = {
    {1, "values", "values", F::kMessage, true, &kAnyValue, kNo},
};
const MsgDef kArrayValue{"ArrayValue", kArrayValueFields};

const FieldDef kKeyValueListFields[] = {
    {1, "values", "values", F::kMessage, true, &kKeyValue, kNo},
};
const MsgDef kKeyValueList{"KeyValueList", kKeyValueListFields};

const FieldDef kKeyValueFields[] = {
    {1, "key", "key", F::kString, false, nullptr, kNo},
    {2, "value", "value", F::kMessage, false, &kAnyValue, kNo},
    {3, "keyStrindex", "key_strindex", F::kInt32, false, nullptr, kNo},
};
const MsgDef kKeyValue{"KeyValue", kKeyValueFields};

const FieldDef kScopeFields[] = {
    {1, "name", "name", F::kString, false, nullptr, kNo},
    {2, "version", "version", F::kString, false, nullptr, kNo},
    {3, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {4, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
};
const MsgDef kScope{"InstrumentationScope", kScopeFields};

const FieldDef kEntityRefFields[] = {
    {1, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
    {2, "type", "type", F::kString, false, nullptr, kNo},
    {3, "idKeys", "id_keys", F::kString, true, nullptr, kNo},
    {4, "descriptionKeys", "description_keys", F::kString, true, nullptr, kNo},
};
const MsgDef kEntityRef{"EntityRef", kEntityRefFields};

const FieldDef kResourceFields[] = {
    {1, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {2, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
    {3, "entityRefs", "entity_refs", F::kMessage, true, &kEntityRef, kNo},
};
const MsgDef kResource{"Resource", kResourceFields};

// ---- logs
const FieldDef kLogRecordFields[] = {
    {1, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {2, "severityNumber", "severity_number", F::kInt32, false, nullptr, kNo},
    {3, "severityText", "severity_text", F::kString, false, nullptr, kNo},
    {5, "body", "body", F::kMessage, false, &kAnyValue, kNo},
    {6, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {7, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
    {8, "flags", "flags", F::kFixed32, false, nullptr, kNo},
    {9, "traceId", "trace_id", F::kHexId, false, nullptr, kNo},
    {10, "spanId", "span_id", F::kHexId, false, nullptr, kNo},
    {11, "observedTimeUnixNano", "observed_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {12, "eventName", "event_name", F::kString, false, nullptr, kNo},
};
const MsgDef kLogRecord{"LogRecord", kLogRecordFields, RecordKind::kLogRecord};

const FieldDef kScopeLogsFields[] = {
    {1, "scope", "scope", F::kMessage, false, &kScope, kNo},
    {2, "logRecords", "log_records", F::kMessage, true, &kLogRecord, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kScopeLogs{"ScopeLogs", kScopeLogsFields};

const FieldDef kResourceLogsFields[] = {
    {1, "resource", "resource", F::kMessage, false, &kResource, kNo},
    {2, "scopeLogs", "scope_logs", F::kMessage, true, &kScopeLogs, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kResourceLogs{"ResourceLogs", kResourceLogsFields};

const FieldDef kLogsRequestFields[] = {
    {1, "resourceLogs", "resource_logs", F::kMessage, true, &kResourceLogs, kNo},
};
const MsgDef kLogsRequest{"ExportLogsServiceRequest", kLogsRequestFields};

// ---- traces
const FieldDef kEventFields[] = {
    {1, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {2, "name", "name", F::kString, false, nullptr, kNo},
    {3, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {4, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
};
const MsgDef kEvent{"Span.Event", kEventFields};

const FieldDef kLinkFields[] = {
    {1, "traceId", "trace_id", F::kHexId, false, nullptr, kNo},
    {2, "spanId", "span_id", F::kHexId, false, nullptr, kNo},
    {3, "traceState", "trace_state", F::kString, false, nullptr, kNo},
    {4, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {5, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
    {6, "flags", "flags", F::kFixed32, false, nullptr, kNo},
};
const MsgDef kLink{"Span.Link", kLinkFields};

const FieldDef kStatusFields[] = {
    {2, "message", "message", F::kString, false, nullptr, kNo},
    {3, "code", "code", F::kInt32, false, nullptr, kNo},
};
const MsgDef kStatus{"Status", kStatusFields};

const FieldDef kSpanFields[] = {
    {1, "traceId", "trace_id", F::kHexId, false, nullptr, kNo},
    {2, "spanId", "span_id", F::kHexId, false, nullptr, kNo},
    {3, "traceState", "trace_state", F::kString, false, nullptr, kNo},
    {4, "parentSpanId", "parent_span_id", F::kHexId, false, nullptr, kNo},
    {5, "name", "name", F::kString, false, nullptr, kNo},
    {6, "kind", "kind", F::kInt32, false, nullptr, kNo},
    {7, "startTimeUnixNano", "start_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {8, "endTimeUnixNano", "end_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {9, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {10, "droppedAttributesCount", "dropped_attributes_count", F::kUInt32, false, nullptr, kNo},
    {11, "events", "events", F::kMessage, true, &kEvent, kNo},
    {12, "droppedEventsCount", "dropped_events_count", F::kUInt32, false, nullptr, kNo},
    {13, "links", "links", F::kMessage, true, &kLink, kNo},
    {14, "droppedLinksCount", "dropped_links_count", F::kUInt32, false, nullptr, kNo},
    {15, "status", "status", F::kMessage, false, &kStatus, kNo},
    {16, "flags", "flags", F::kFixed32, false, nullptr, kNo},
};
const MsgDef kSpan{"Span", kSpanFields, RecordKind::kSpan};

const FieldDef kScopeSpansFields[] = {
    {1, "scope", "scope", F::kMessage, false, &kScope, kNo},
    {2, "spans", "spans", F::kMessage, true, &kSpan, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kScopeSpans{"ScopeSpans", kScopeSpansFields};

const FieldDef kResourceSpansFields[] = {
    {1, "resource", "resource", F::kMessage, false, &kResource, kNo},
    {2, "scopeSpans", "scope_spans", F::kMessage, true, &kScopeSpans, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kResourceSpans{"ResourceSpans", kResourceSpansFields};

const FieldDef kTracesRequestFields[] = {
    {1, "resourceSpans", "resource_spans", F::kMessage, true, &kResourceSpans, kNo},
};
const MsgDef kTracesRequest{"ExportTraceServiceRequest", kTracesRequestFields};

// ---- metrics
const FieldDef kExemplarFields[] = {
    {2, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {3, "asDouble", "as_double", F::kDouble, false, nullptr, 0},
    {4, "spanId", "span_id", F::kHexId, false, nullptr, kNo},
    {5, "traceId", "trace_id", F::kHexId, false, nullptr, kNo},
    {6, "asInt", "as_int", F::kSFixed64, false, nullptr, 0},
    {7, "filteredAttributes", "filtered_attributes", F::kMessage, true, &kKeyValue, kNo},
};
const MsgDef kExemplar{"Exemplar", kExemplarFields};

const FieldDef kNumberPointFields[] = {
    {2, "startTimeUnixNano", "start_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {3, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {4, "asDouble", "as_double", F::kDouble, false, nullptr, 0},
    {5, "exemplars", "exemplars", F::kMessage, true, &kExemplar, kNo},
    {6, "asInt", "as_int", F::kSFixed64, false, nullptr, 0},
    {7, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {8, "flags", "flags", F::kUInt32, false, nullptr, kNo},
};
const MsgDef kNumberPoint{"NumberDataPoint", kNumberPointFields, RecordKind::kDataPoint};

const FieldDef kHistogramPointFields[] = {
    {2, "startTimeUnixNano", "start_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {3, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {4, "count", "count", F::kFixed64, false, nullptr, kNo},
    {5, "sum", "sum", F::kDouble, false, nullptr, kNo},
    {6, "bucketCounts", "bucket_counts", F::kPackedFixed64, true, nullptr, kNo},
    {7, "explicitBounds", "explicit_bounds", F::kPackedDouble, true, nullptr, kNo},
    {8, "exemplars", "exemplars", F::kMessage, true, &kExemplar, kNo},
    {9, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {10, "flags", "flags", F::kUInt32, false, nullptr, kNo},
    {11, "min", "min", F::kDouble, false, nullptr, kNo},
    {12, "max", "max", F::kDouble, false, nullptr, kNo},
};
const MsgDef kHistogramPoint{"HistogramDataPoint", kHistogramPointFields, RecordKind::kDataPoint};

const FieldDef kBucketsFields[] = {
    {1, "offset", "offset", F::kSInt32, false, nullptr, kNo},
    {2, "bucketCounts", "bucket_counts", F::kPackedUInt64, true, nullptr, kNo},
};
const MsgDef kBuckets{"ExponentialHistogramDataPoint.Buckets", kBucketsFields};

const FieldDef kExpHistogramPointFields[] = {
    {1, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {2, "startTimeUnixNano", "start_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {3, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {4, "count", "count", F::kFixed64, false, nullptr, kNo},
    {5, "sum", "sum", F::kDouble, false, nullptr, kNo},
    {6, "scale", "scale", F::kSInt32, false, nullptr, kNo},
    {7, "zeroCount", "zero_count", F::kFixed64, false, nullptr, kNo},
    {8, "positive", "positive", F::kMessage, false, &kBuckets, kNo},
    {9, "negative", "negative", F::kMessage, false, &kBuckets, kNo},
    {10, "flags", "flags", F::kUInt32, false, nullptr, kNo},
    {11, "exemplars", "exemplars", F::kMessage, true, &kExemplar, kNo},
    {12, "min", "min", F::kDouble, false, nullptr, kNo},
    {13, "max", "max", F::kDouble, false, nullptr, kNo},
    {14, "zeroThreshold", "zero_threshold", F::kDouble, false, nullptr, kNo},
};
const MsgDef kExpHistogramPoint{"ExponentialHistogramDataPoint", kExpHistogramPointFields,
                                RecordKind::kDataPoint};

const FieldDef kQuantileFields[] = {
    {1, "quantile", "quantile", F::kDouble, false, nullptr, kNo},
    {2, "value", "value", F::kDouble, false, nullptr, kNo},
};
const MsgDef kQuantile{"SummaryDataPoint.ValueAtQuantile", kQuantileFields};

const FieldDef kSummaryPointFields[] = {
    {2, "startTimeUnixNano", "start_time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {3, "timeUnixNano", "time_unix_nano", F::kFixed64, false, nullptr, kNo},
    {4, "count", "count", F::kFixed64, false, nullptr, kNo},
    {5, "sum", "sum", F::kDouble, false, nullptr, kNo},
    {6, "quantileValues", "quantile_values", F::kMessage, true, &kQuantile, kNo},
    {7, "attributes", "attributes", F::kMessage, true, &kKeyValue, kNo},
    {8, "flags", "flags", F::kUInt32, false, nullptr, kNo},
};
const MsgDef kSummaryPoint{"SummaryDataPoint", kSummaryPointFields, RecordKind::kDataPoint};

const FieldDef kGaugeFields[] = {
    {1, "dataPoints", "data_points", F::kMessage, true, &kNumberPoint, kNo},
};
const MsgDef kGauge{"Gauge", kGaugeFields};
const FieldDef kSumFields[] = {
    {1, "dataPoints", "data_points", F::kMessage, true, &kNumberPoint, kNo},
    {2, "aggregationTemporality", "aggregation_temporality", F::kInt32, false, nullptr, kNo},
    {3, "isMonotonic", "is_monotonic", F::kBool, false, nullptr, kNo},
};
const MsgDef kSum{"Sum", kSumFields};
const FieldDef kHistogramFields[] = {
    {1, "dataPoints", "data_points", F::kMessage, true, &kHistogramPoint, kNo},
    {2, "aggregationTemporality", "aggregation_temporality", F::kInt32, false, nullptr, kNo},
};
const MsgDef kHistogram{"Histogram", kHistogramFields};
const FieldDef kExpHistogramFields[] = {
    {1, "dataPoints", "data_points", F::kMessage, true, &kExpHistogramPoint, kNo},
    {2, "aggregationTemporality", "aggregation_temporality", F::kInt32, false, nullptr, kNo},
};
const MsgDef kExpHistogram{"ExponentialHistogram", kExpHistogramFields};
const FieldDef kSummaryFields[] = {
    {1, "dataPoints", "data_points", F::kMessage, true, &kSummaryPoint, kNo},
};
const MsgDef kSummary{"Summary", kSummaryFields};

const FieldDef kMetricFields[] = {
    {1, "name", "name", F::kString, false, nullptr, kNo},
    {2, "description", "description", F::kString, false, nullptr, kNo},
    {3, "unit", "unit", F::kString, false, nullptr, kNo},
    {5, "gauge", "gauge", F::kMessage, false, &kGauge, 0},
    {7, "sum", "sum", F::kMessage, false, &kSum, 0},
    {9, "histogram", "histogram", F::kMessage, false, &kHistogram, 0},
    {10, "exponentialHistogram", "exponential_histogram", F::kMessage, false, &kExpHistogram, 0},
    {11, "summary", "summary", F::kMessage, false, &kSummary, 0},
    {12, "metadata", "metadata", F::kMessage, true, &kKeyValue, kNo},
};
const MsgDef kMetric{"Metric", kMetricFields};

const FieldDef kScopeMetricsFields[] = {
    {1, "scope", "scope", F::kMessage, false, &kScope, kNo},
    {2, "metrics", "metrics", F::kMessage, true, &kMetric, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kScopeMetrics{"ScopeMetrics", kScopeMetricsFields};

const FieldDef kResourceMetricsFields[] = {
    {1, "resource", "resource", F::kMessage, false, &kResource, kNo},
    {2, "scopeMetrics", "scope_metrics", F::kMessage, true, &kScopeMetrics, kNo},
    {3, "schemaUrl", "schema_url", F::kString, false, nullptr, kNo},
};
const MsgDef kResourceMetrics{"ResourceMetrics", kResourceMetricsFields};

const FieldDef kMetricsRequestFields[] = {
    {1, "resourceMetrics", "resource_metrics", F::kMessage, true, &kResourceMetrics, kNo},
};
const MsgDef kMetricsRequest{"ExportMetricsServiceRequest", kMetricsRequestFields};

}  // namespace

const MsgDef& RequestDef(Signal s) {
  switch (s) {
    case Signal::kLogs: return kLogsRequest;
    case Signal::kMetrics: return kMetricsRequest;
    case Signal::kTraces: return kTracesRequest;
  }
  return kLogsRequest;
}

}  // namespace sluice::otlp
