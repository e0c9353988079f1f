#include "receivers/ingest.h"

#include "core/cat.h"
#include "otlp/request.h"

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
    // While the server starts, an id may belong to a pipeline not loaded yet: 404 is
    // permanent (exporters drop the batch), so answer "retry" until loading is done.
    res.status = registry.loaded()
                     ? absl::NotFoundError(Cat("unknown pipeline '", *pipeline_id, "'"))
                     : absl::UnavailableError("pipelines are still loading; retry");
    return res;
  }
  if (p->config().signal != signal) {
    res.status = absl::InvalidArgumentError(
        Cat("pipeline '", *pipeline_id, "' takes ", SourceTypeOf(p->config().signal),
            " but this request carries ", SignalName(signal), " (", SourceTypeOf(signal), ")"));
    return res;
  }
  auto decoded = otlp::DecodeRequest(signal, std::move(body), json);
  if (!decoded.ok()) {
    res.status = decoded.status();
    return res;
  }
  const otlp::ValidateResult& v = decoded->result;
  res.rejected = v.rejected;
  if (v.rejected > 0)
    res.partial_message = Cat(v.rejected, " record(s) rejected: ", v.first_rejection);
  if (v.records == 0) return res;  // empty request: success
  res.status = p->Submit(decoded->proto, v.records);
  if (res.status.ok()) res.accepted = v.records;
  return res;
}

}  // namespace sluice::receivers
