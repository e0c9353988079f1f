#include "otlp/extract.h"

#include "otlp/validate.h"
#include "otlp/views.h"
#include "otlp/wire.h"

namespace sluice::otlp {
namespace {

void PutLen(uint32_t field, std::string_view bytes, std::string* out) {
  PutTag(field, kLen, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

// Every field of `msg` except `skip`, as it is.
void CopyExcept(std::string_view msg, uint32_t skip, std::string* out) {
  WireReader r(msg);
  const char* start = r.position();
  while (r.Next()) {
    const uint32_t field = r.field();
    if (!r.Skip()) break;
    if (field != skip) out->append(start, r.position());
    start = r.position();
  }
}

// A Resource{Logs,Spans,Metrics} holding one Scope{...} holding `item` (field 2 at both
// levels; 1 is the resource or scope, 3 the schema URL, kept as they are).
std::string Wrap(std::string_view resource_env, std::string_view scope_env, std::string_view item) {
  std::string scope;
  CopyExcept(scope_env, 2, &scope);
  PutLen(2, item, &scope);
  std::string resource;
  CopyExcept(resource_env, 2, &resource);
  PutLen(2, scope, &resource);
  std::string request;
  PutLen(1, resource, &request);
  return request;
}

// The metric's data message field for its kind (Gauge 5, Sum 7, Histogram 9,
// ExponentialHistogram 10, Summary 11).
uint32_t DataField(MetricKind k) {
  switch (k) {
    case MetricKind::kGauge: return 5;
    case MetricKind::kSum: return 7;
    case MetricKind::kHistogram: return 9;
    case MetricKind::kExpHistogram: return 10;
    case MetricKind::kSummary: return 11;
    case MetricKind::kNone: break;
  }
  return 0;
}

}  // namespace

std::string ExtractRecord(Signal s, std::string_view request, uint32_t index) {
  std::string out;
  uint32_t i = 0;
  // The walk mirrors ForEachLog / ForEachSpan / ForEachPoint, which number the records.
  Repeated{request, 1}.ForEach([&](std::string_view r) {
    if (!out.empty()) return;
    Envelope re = ParseEnvelope(r);
    re.items.ForEach([&](std::string_view sc) {
      if (!out.empty()) return;
      Envelope se = ParseEnvelope(sc);
      se.items.ForEach([&](std::string_view item) {
        if (!out.empty()) return;
        if (s == Signal::kLogs) {
          if (i++ == index) out = Wrap(r, sc, item);
        } else if (s == Signal::kTraces) {
          if (CheckSpan(item).empty() && i++ == index) out = Wrap(r, sc, item);
        } else {
          const MetricView metric = ParseMetric(item);
          if (metric.kind == MetricKind::kNone) return;
          Repeated{metric.data, 1}.ForEach([&](std::string_view p) {
            if (!out.empty()) return;
            if ((metric.kind == MetricKind::kGauge || metric.kind == MetricKind::kSum) &&
                !CheckNumberPoint(p).empty())
              return;
            if (i++ != index) return;
            std::string data;
            CopyExcept(metric.data, 1, &data);
            PutLen(1, p, &data);
            std::string one;
            const uint32_t df = DataField(metric.kind);
            // Every field but the data (all kinds' data fields go: one is present).
            WireReader mr(item);
            const char* start = mr.position();
            while (mr.Next()) {
              const uint32_t f = mr.field();
              if (!mr.Skip()) break;
              if (f != 5 && f != 7 && f != 9 && f != 10 && f != 11)
                one.append(start, mr.position());
              start = mr.position();
            }
            PutLen(df, data, &one);
            out = Wrap(r, sc, one);
          });
        }
      });
    });
  });
  return out;
}

}  // namespace sluice::otlp
