// The dedup stage's key: a path of the flattened record ("trace_id", a dotted attribute
// "attributes.user.id") or a multipath ("{trace_id,span_id}", "{\"t\":trace_id,span_id}",
// "[trace_id,span_id]"), as GlassFlow's gjson key is written. Immutable; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/signal.h"
#include "core/status.h"
#include "otlp/fields.h"

namespace sluice::transform {

class DedupKey {
 public:
  // InvalidArgument when a path names no field of the signal's schema.
  static StatusOr<DedupKey> Parse(Signal s, std::string_view key);

  // The key's text for a record (cleared first): a path's text, or the multipath's JSON
  // (missing parts left out, as gjson does). Empty when a single path is absent or empty.
  void Text(const otlp::RecordCtx& ctx, std::string* out) const;

 private:
  struct Part {
    std::string name;  // the JSON key in an object multipath
    otlp::FieldPath path;
  };
  enum class Shape { kSingle, kObject, kArray };
  Shape shape_ = Shape::kSingle;
  std::vector<Part> parts_;
};

}  // namespace sluice::transform
