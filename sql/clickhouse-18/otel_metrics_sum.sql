CREATE TABLE IF NOT EXISTS otel.otel_metrics_sum (
  ResourceAttributes Nested(key String, value String),
  ResourceSchemaUrl String,
  ScopeName String,
  ScopeVersion String,
  ScopeAttributes Nested(key String, value String),
  ScopeDroppedAttrCount UInt32,
  ScopeSchemaUrl String,
  ServiceName String,
  MetricName String,
  MetricDescription String,
  MetricUnit String,
  Attributes Nested(key String, value String),
  StartTimeUnix UInt64,
  TimeUnix UInt64,
  TimeUnixTime DateTime,
  Flags UInt32,
  Value Float64,
  Exemplars Nested(FilteredAttributes String, TimeUnix UInt64, Value Float64, SpanId String, TraceId String),
  AggregationTemporality Int32,
  IsMonotonic UInt8
) ENGINE = MergeTree
PARTITION BY toDate(TimeUnixTime)
ORDER BY (ServiceName, MetricName, TimeUnixTime)
