CREATE TABLE IF NOT EXISTS otel.otel_metrics_summary (
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
  Count UInt64,
  Sum Float64,
  ValueAtQuantiles Nested(Quantile Float64, Value Float64)
) ENGINE = MergeTree
PARTITION BY toDate(TimeUnixTime)
ORDER BY (ServiceName, MetricName, TimeUnixTime)
