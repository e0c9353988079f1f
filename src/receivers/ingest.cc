#include "receivers/ingest.h"

#include <memory>

#include "core/cat.h"
#include "core/log.h"
#include "otlp/request.h"

namespace sluice::receivers {

void IngestAsync(pipeline::Registry& registry, Signal signal,
                 std::optional<std::string_view> pipeline_id, std::string body, bool json,
                 RequestBudget::Lease lease, std::function<Status()> precheck,
                 std::function<void(IngestResult)> done) {
  IngestResult res;
  if (!pipeline_id || pipeline_id->empty()) {
    res.status = absl::InvalidArgumentError(Cat("missing ", kPipelineHeader, " header"));
    done(std::move(res));
    return;
  }
  std::shared_ptr<pipeline::Pipeline> p = registry.Find(*pipeline_id);
  if (!p) {
    // While the server starts, an id may belong to a pipeline not loaded yet: 404 is
    // permanent (exporters drop the batch), so answer "retry" until loading is done.
    if (!registry.loaded())
      res.status = absl::UnavailableError("pipelines are still loading; retry");
    else if (registry.unloadable(*pipeline_id))
      res.status = absl::UnavailableError(
          Cat("pipeline '", *pipeline_id,
              "' has a file the server cannot load (see the server log); retry once it is fixed"));
    else
      res.status = absl::NotFoundError(Cat("unknown pipeline '", *pipeline_id, "'"));
    done(std::move(res));
    return;
  }
  res.pipeline = p;
  if (p->config().signal != signal) {
    res.status = absl::InvalidArgumentError(
        Cat("pipeline '", *pipeline_id, "' takes ", SourceTypeOf(p->config().signal),
            " but this request carries ", SignalName(signal), " (", SourceTypeOf(signal), ")"));
    done(std::move(res));
    return;
  }
  auto decoded = otlp::DecodeRequest(signal, std::move(body), json);
  if (!decoded.ok()) {
    res.status = decoded.status();
    done(std::move(res));
    return;
  }
  const otlp::ValidateResult& v = decoded->result;
  res.rejected = v.rejected;
  res.records = v.records;
  if (v.rejected > 0) {
    res.partial_message = v.RejectionMessage();
    uint64_t suppressed = 0;
    if (p->partial_log().Allow(&suppressed))
      SLOG(WARN) << "pipeline " << p->config().id << ": " << res.partial_message
                 << " (answered in partial_success)"
                 << (suppressed ? Cat(" [", suppressed, " more not logged]") : std::string());
  }
  if (v.records == 0) {  // empty request: success
    done(std::move(res));
    return;
  }
  lease.Resize(decoded->proto.size());  // what stays in memory until the append completes
  const uint64_t records = v.records;
  auto held = std::make_shared<RequestBudget::Lease>(std::move(lease));
  // The pipeline is kept alive by the callback until the append completes.
  p->SubmitAsync(
      std::move(decoded->proto), records, std::move(precheck),
      [p, held, records, res = std::move(res), done = std::move(done)](Status s) mutable {
        held->Release();
        res.status = std::move(s);
        if (res.status.ok()) res.accepted = records;
        done(std::move(res));
      });
}

void RecordRequest(pipeline::Registry& registry, const IngestResult& r, pipeline::Transport t,
                   int status, double seconds) {
  pipeline::RequestMetrics& m =
      r.pipeline ? r.pipeline->metrics().requests : registry.unrouted_requests();
  // Refused: partial_success rejections, and every record of a request not stored.
  const uint64_t refused = r.rejected + (r.accepted == 0 ? r.records : 0);
  m.Record(t, status, seconds, r.accepted, refused);
}

}  // namespace sluice::receivers
