// Template loop bodies of views.h.
#pragma once

#include "otlp/validate.h"

namespace sluice::otlp {

template <class Fn>
void ForEachSpan(std::string_view request, Fn&& fn) {
  ForEachScope(request,
               [&](const ResourceView& res, const ScopeView& scope, const Repeated& items) {
                 items.ForEach([&](std::string_view span) {
                   if (CheckSpan(span).empty()) fn(res, scope, ParseSpan(span));
                 });
               });
}

template <class Fn>
void ForEachPoint(std::string_view request, Fn&& fn) {
  ForEachScope(request,
               [&](const ResourceView& res, const ScopeView& scope, const Repeated& items) {
                 items.ForEach([&](std::string_view m) {
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
}

}  // namespace sluice::otlp
