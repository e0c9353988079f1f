// Realistic OTLP requests for the load generator: logs, traces and metrics shaped like what
// instrumented services send (semantic-convention resource attributes, 8 attributes per log
// record, 100-400 byte bodies, spans with events and links, every metric kind). A request is
// built once as a template; every record carries a fixed-width unique id
// (`loadgen.id`, "<run>-<sender>-<seq>") that is patched in place before each send, so runs
// can be checked for loss without re-encoding.
// Thread-compatible: each sending thread owns its RequestTemplate copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/signal.h"

namespace sluice::loadgen {

enum class Encoding { kProtobuf, kJson };

inline constexpr size_t kIdWidth = 22;  // "rrrr-cccc-ssssssssssss"

struct BodyRange {  // log body length in bytes, uniformly distributed
  size_t min = 100, max = 400;
};

class RequestTemplate {
 public:
  // `records`: log records, spans or metric data points per request; `variant` varies
  // the content (bodies, attribute values) between templates.
  static RequestTemplate Build(Signal signal, Encoding encoding, size_t records, uint32_t variant,
                               BodyRange body = {});

  // Writes the ids "<run>-<conn>-<first_seq + i>" into the records and returns the body.
  const std::string& Stamp(uint16_t run, uint16_t conn, uint64_t first_seq);

  size_t records() const { return id_offsets_.size(); }
  const std::string& body() const { return body_; }

 private:
  std::string body_;
  std::vector<size_t> id_offsets_;
};

// The id of record `seq` of connection `conn` in run `run` (what Stamp writes).
std::string RecordId(uint16_t run, uint16_t conn, uint64_t seq);

}  // namespace sluice::loadgen
