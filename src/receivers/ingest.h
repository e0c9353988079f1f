// The request path shared by the HTTP and gRPC receivers: route by pipeline id, check the
// signal, transcode JSON, validate, and hand the request to the pipeline's durable log.
// Thread-safe: called concurrently from receiver threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/signal.h"
#include "core/status.h"
#include "pipeline/registry.h"
#include "receivers/request_budget.h"

namespace sluice::receivers {

inline constexpr std::string_view kPipelineHeader = "x-glassflow-pipeline-id";

struct IngestResult {
  Status status;
  // The pipeline the request was routed to (null when none was found): its metrics count it.
  std::shared_ptr<pipeline::Pipeline> pipeline;
  uint64_t records = 0;  // records the request carried, once decoded (0 before)
  uint64_t accepted = 0;
  uint64_t rejected = 0;        // for partial_success
  std::string partial_message;  // for partial_success
};

// `body` is the decompressed request, protobuf or (when `json`) OTLP/JSON. The request is
// decoded on the calling thread; `done` gets the answer, inline when the request is refused
// or empty, else on a commit thread once the append is durable (or refused). `lease` holds
// the request's share of the memory budget until then (resized to what is kept). `precheck`
// runs right before the append: an error there (the client gave up) is the answer and
// nothing is stored.
void IngestAsync(pipeline::Registry& registry, Signal signal,
                 std::optional<std::string_view> pipeline_id, std::string body, bool json,
                 RequestBudget::Lease lease, std::function<Status()> precheck,
                 std::function<void(IngestResult)> done);

// Counts a finished request in its pipeline's metrics (or the server's, for requests
// routed to no pipeline): `status` is the wire status (HTTP code or gRPC code).
void RecordRequest(pipeline::Registry& registry, const IngestResult& r, pipeline::Transport t,
                   int status, double seconds);

}  // namespace sluice::receivers
