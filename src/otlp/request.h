// From a request body as received (protobuf, or OTLP/JSON) to validated, canonical
// protobuf bytes ready for the buffer: the one decode path shared by the receivers and the
// command-line tools. Pure function; thread-safe.
#pragma once

#include <string>

#include "core/signal.h"
#include "core/status.h"
#include "otlp/validate.h"

namespace sluice::otlp {

struct DecodedRequest {
  std::string proto;      // canonical protobuf bytes
  ValidateResult result;  // record counts and rejections
};

// `body` is decompressed. An empty body is an empty request. InvalidArgument on malformed
// JSON or protobuf.
StatusOr<DecodedRequest> DecodeRequest(Signal signal, std::string body, bool json);

}  // namespace sluice::otlp
