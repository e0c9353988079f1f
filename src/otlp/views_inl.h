// Template loop bodies of views.h.
#pragma once

#include "otlp/validate.h"

namespace sluice::otlp {

template <class Fn>
void ForEachSpan(std::string_view request, Fn&& fn) {
  Repeated{request, 1}.ForEach([&](std::string_view rs) {
    Envelope re = ParseEnvelope(rs);
    ResourceView res = ParseResource(re.head, re.schema_url);
    re.items.ForEach([&](std::string_view ss) {
      Envelope se = ParseEnvelope(ss);
      ScopeView scope = ParseScope(se.head, se.schema_url);
      se.items.ForEach([&](std::string_view span) {
        if (CheckSpan(span).empty()) fn(res, scope, ParseSpan(span));
      });
    });
  });
}

template <class Fn>
void ForEachPoint(std::string_view request, Fn&& fn) {
  Repeated{request, 1}.ForEach([&](std::string_view rm) {
    Envelope re = ParseEnvelope(rm);
    ResourceView res = ParseResource(re.head, re.schema_url);
    re.items.ForEach([&](std::string_view sm) {
      Envelope se = ParseEnvelope(sm);
      ScopeView scope = ParseScope(se.head, se.schema_url);
      se.items.ForEach([&](std::string_view m) {
        MetricView metric = ParseMetric(m);
        if (metric.kind == MetricKind::kNone) return;
        Repeated{metric.data, 1}.ForEach([&](std::string_view p) {
          if (metric.kind == MetricKind::kGauge || metric.kind == MetricKind::kSum) {
            if (!CheckNumberPoint(p).empty()) return;
          }
          fn(res, scope, metric, ParsePoint(metric.kind, p));
        });
      });
    });
  });
}

}  // namespace sluice::otlp
