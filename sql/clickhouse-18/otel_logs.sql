CREATE TABLE IF NOT EXISTS otel.otel_logs (
  Timestamp UInt64,
  TimestampTime DateTime,
  TraceId String,
  SpanId String,
  TraceFlags UInt8,
  SeverityText String,
  SeverityNumber UInt8,
  ServiceName String,
  Body String,
  ResourceSchemaUrl String,
  ResourceAttributes Nested(key String, value String),
  ScopeSchemaUrl String,
  ScopeName String,
  ScopeVersion String,
  ScopeAttributes Nested(key String, value String),
  LogAttributes Nested(key String, value String),
  EventName String,
  ObservedTimestamp UInt64,
  DroppedAttributesCount UInt32
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
