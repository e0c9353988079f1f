CREATE TABLE IF NOT EXISTS otel.otel_metrics_histogram (
  ResourceAttributes Map(LowCardinality(String), String),
  ResourceSchemaUrl String,
  ScopeName String,
  ScopeVersion String,
  ScopeAttributes Map(LowCardinality(String), String),
  ScopeDroppedAttrCount UInt32,
  ScopeSchemaUrl String,
  ServiceName LowCardinality(String),
  MetricName String,
  MetricDescription String,
  MetricUnit String,
  Attributes Map(LowCardinality(String), String),
  StartTimeUnix DateTime64(9),
  TimeUnix DateTime64(9),
  TimeUnixTime DateTime DEFAULT toDateTime(TimeUnix),
  Flags UInt32,
  Count UInt64,
  Sum Float64,
  BucketCounts Array(UInt64),
  ExplicitBounds Array(Float64),
  Exemplars Nested(FilteredAttributes Map(LowCardinality(String), String), TimeUnix DateTime64(9), Value Float64, SpanId String, TraceId String),
  Min Float64,
  Max Float64,
  AggregationTemporality Int32
) ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
