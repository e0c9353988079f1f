// The one place that turns Sluice statuses into OTLP wire answers: HTTP status codes,
// Retry-After, google.rpc.Status bodies (protobuf or JSON), gRPC codes with RetryInfo,
// and the Export*ServiceResponse bodies with partial_success.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/signal.h"
#include "core/status.h"

namespace sluice::receivers {

struct HttpAnswer {
  int status = 200;
  int retry_after_seconds = 0;  // 0: no Retry-After header
  std::string body;
  std::string content_type;
  // Further headers (the console's security and cache headers); none for OTLP answers.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Error answer for a failed request; `json` selects the body encoding.
HttpAnswer HttpError(const Status& s, bool json);
// Success answer, with partial_success when `rejected` > 0 or `message` is non-empty.
HttpAnswer HttpSuccess(Signal signal, uint64_t rejected, const std::string& message, bool json);

// gRPC: the numeric status code and the serialized google.rpc.Status for
// grpc-status-details-bin (with RetryInfo on UNAVAILABLE).
struct GrpcAnswer {
  int code = 0;
  std::string message;
  std::string details;  // serialized google.rpc.Status, or empty
};
GrpcAnswer GrpcError(const Status& s);
// Serialized Export*ServiceResponse (empty bytes for full success).
std::string ExportResponseProto(uint64_t rejected, const std::string& message);

// Seconds a client should wait before retrying an Unavailable status.
int RetryDelaySeconds(const Status& s);

}  // namespace sluice::receivers
