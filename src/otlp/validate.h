// Validate mode of the OTLP decoder: walks every byte of an Export*ServiceRequest against
// the schema, counts the records it carries, and counts records that must be rejected
// (reported to clients through partial_success). Builds nothing and does not allocate.
// Thread-safe (pure function).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/signal.h"
#include "core/status.h"

namespace sluice::otlp {

// Deepest message nesting accepted (the request itself is level 0): Go's protobuf decoder
// takes 10,000, and the Collector forwards what it took. Walks are iterative, so depth
// costs no stack.
inline constexpr size_t kMaxDepth = 10000;

struct ValidateResult {
  uint64_t records = 0;   // log records, spans or data points that will be delivered
  uint64_t rejected = 0;  // records dropped as invalid (not in `records`)
  // Why records were rejected: each distinct reason (static text) with its count, in the
  // order first met.
  std::vector<std::pair<std::string_view, uint64_t>> rejections;
  // "N record(s) rejected: <reason> (n); <reason> (m)", for partial_success.
  std::string RejectionMessage() const;
  // True when a singular message field or a oneof occurs more than once, in which case
  // the request is rewritten by Canonicalize before use.
  bool needs_canonical = false;
};

// Returns InvalidArgument for malformed protobuf. When the request needs canonicalizing
// and `canonical` is given, the canonical bytes are left there. Linear in the request's
// size whatever its shape.
StatusOr<ValidateResult> Validate(Signal signal, std::string_view request,
                                  std::string* canonical = nullptr);

// Rewrites a valid request so that every singular message field occurs once (repeated
// occurrences merged, as protobuf's merge semantics require) and every oneof holds only
// its last member. Unknown fields are dropped. The result decodes to the same data.
std::string Canonicalize(Signal signal, std::string_view request);

// Per-record validity rules, shared by the validator and the decoder so that both
// agree on which records are delivered. Return a reason, or empty when valid.
std::string_view CheckSpan(std::string_view span);
std::string_view CheckNumberPoint(std::string_view point);

}  // namespace sluice::otlp
