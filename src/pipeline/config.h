// The GlassFlow v3 pipeline document (glassflow.md §3.1), the subset that applies to OTLP
// sources, parsed and validated. Plain data; Parse is pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "clickhouse/compressed_frames.h"
#include "clickhouse/endpoint.h"
#include "clickhouse/insert_plan.h"
#include "core/signal.h"
#include "core/status.h"
#include "otlp/fields.h"
#include "transform/spec.h"

namespace sluice::pipeline {

struct SinkConfig {
  clickhouse::Endpoint endpoint;  // hosts, protocol, TLS, credentials, compression
  std::string table;
  size_t max_batch_size = 1000;
  std::chrono::milliseconds max_delay{std::chrono::seconds(60)};
  std::vector<clickhouse::MappingEntry> mapping;
  // Sluice extension for metrics pipelines: one table per metric type ("gauge", "sum",
  // "histogram", "exp_histogram", "summary"), e.g. the ClickStack otel_metrics_* tables.
  // Each table takes the mapping entries whose columns it has.
  std::vector<std::pair<std::string, std::string>> tables_by_metric_type;
};

// GlassFlow's resources.nats.stream limits, applied to the pipeline's durable buffer
// (0: the server default / unlimited). Fixed when the buffer is created, as in GlassFlow.
struct BufferLimits {
  uint64_t max_bytes = 0;
  std::chrono::milliseconds max_age{0};
  uint64_t max_records = 0;
};

struct PipelineConfig {
  std::string id;
  std::string name;
  Signal signal = Signal::kLogs;
  std::string source_id;
  SinkConfig sink;
  BufferLimits buffer;
  // Filter, dedup and stateless transforms (checked against the signal's schema).
  transform::TransformSpec transforms;
  // With a stateless transform, the fields the sink's mapping names: its outputs.
  std::vector<otlp::FieldInfo> outputs;
  // Bytes the dedup index may take on disk (resources.transform[0].storage.size).
  uint64_t dedup_bytes = 1ull << 30;
  std::string document;  // the JSON as submitted, for reporting back
};

// How a document is written: JSON is checked as JSON first (its syntax errors are located
// precisely); YAML (a superset, flow style included) is read as YAML; kAuto takes a
// document that starts with '{' or '[' for JSON.
enum class DocFormat { kAuto, kJson, kYaml };

// Parses and validates a v3 pipeline document (JSON or YAML). InvalidArgument names the
// field; unknown keys are errors, one line each.
StatusOr<PipelineConfig> ParsePipeline(const std::string& text,
                                       DocFormat format = DocFormat::kAuto);

// Go duration syntax plus days: "1s", "500ms", "1h30m", "1d12h". Returns false on error.
bool ParseDuration(std::string_view s, std::chrono::milliseconds* out);

// Byte sizes as Kubernetes quantities or plain units: "10Gi", "500Mi", "100GB", "1024".
bool ParseByteSize(std::string_view s, uint64_t* out);

// GlassFlow's pipeline_id rule: 5-40 chars, ^[a-z][a-z0-9-]*[a-z0-9]$, no "--".
bool ValidPipelineId(std::string_view id);

}  // namespace sluice::pipeline
