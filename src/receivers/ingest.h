// The request path shared by the HTTP and gRPC receivers: route by pipeline id, check the
// signal, transcode JSON, validate, and hand the request to the pipeline.
// Thread-safe: called concurrently from receiver threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/signal.h"
#include "core/status.h"
#include "pipeline/registry.h"

namespace sluice::receivers {

inline constexpr std::string_view kPipelineHeader = "x-glassflow-pipeline-id";

struct IngestResult {
  Status status;
  uint64_t accepted = 0;
  uint64_t rejected = 0;        // for partial_success
  std::string partial_message;  // for partial_success
};

// `body` is the decompressed request, protobuf or (when `json`) OTLP/JSON.
IngestResult Ingest(pipeline::Registry& registry, Signal signal,
                    std::optional<std::string_view> pipeline_id, std::string body, bool json);

}  // namespace sluice::receivers
