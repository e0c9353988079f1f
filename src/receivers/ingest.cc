#include "receivers/ingest.h"

#include "core/cat.h"
#include "otlp/json.h"
#include "otlp/validate.h"

namespace sluice::receivers {

IngestResult Ingest(pipeline::Registry& registry, Signal signal,
                    std::optional<std::string_view> pipeline_id, std::string body, bool json) {
  IngestResult res;
  if (!pipeline_id || pipeline_id->empty()) {
    res.status = absl::InvalidArgumentError(Cat("missing ", kPipelineHeader, " header"));
    return res;
  }
  auto p = registry.Find(*pipeline_id);
  if (!p) {
    res.status = absl::NotFoundError(Cat("unknown pipeline '", *pipeline_id, "'"));
    return res;
  }
  if (p->config().signal != signal) {
    res.status = absl::InvalidArgumentError(
        Cat("pipeline '", *pipeline_id, "' takes ", SourceTypeOf(p->config().signal),
            " but this request carries ", SignalName(signal), " (", SourceTypeOf(signal), ")"));
    return res;
  }
  std::string proto;
  if (json) {
    if (!body.empty()) {
      res.status = otlp::JsonToProto(signal, body, &proto);
      if (!res.status.ok()) return res;
    }
  } else {
    proto = std::move(body);
  }
  auto v = otlp::Validate(signal, proto);
  if (!v.ok()) {
    res.status =
        absl::InvalidArgumentError(Cat("cannot decode the request: ", v.status().message()));
    return res;
  }
  if (v->needs_canonical) proto = otlp::Canonicalize(signal, proto);
  res.rejected = v->rejected;
  if (v->rejected > 0)
    res.partial_message = Cat(v->rejected, " record(s) rejected: ", v->first_rejection);
  if (v->records == 0) return res;  // empty request: success
  res.status = p->Submit(proto, v->records);
  if (res.status.ok()) res.accepted = v->records;
  return res;
}

}  // namespace sluice::receivers
