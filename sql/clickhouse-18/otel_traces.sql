CREATE TABLE IF NOT EXISTS otel.otel_traces (
  Timestamp UInt64,
  TimestampTime DateTime,
  TraceId String,
  SpanId String,
  ParentSpanId String,
  TraceState String,
  TraceFlags UInt32,
  SpanName String,
  SpanKind String,
  ServiceName String,
  ResourceAttributes Nested(key String, value String),
  ScopeName String,
  ScopeVersion String,
  SpanAttributes Nested(key String, value String),
  Duration UInt64,
  StatusCode String,
  StatusMessage String,
  Events Nested(Timestamp UInt64, Name String, Attributes String),
  Links Nested(TraceId String, SpanId String, TraceState String, Attributes String)
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
ORDER BY (ServiceName, TimestampTime, TraceId, SpanId)
