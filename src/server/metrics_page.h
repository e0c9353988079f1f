// The admin listener's /metrics page: the Prometheus text exposition of every pipeline's
// counters (Collector-style and GlassFlow-style names, see docs/operations.md), the
// server's requests routed to no pipeline, and the process. Thread-safe: reads atomics
// and snapshots only.
#pragma once

#include <string>

#include "pipeline/registry.h"
#include "server/process_stats.h"

namespace sluice::server {

std::string RenderMetrics(pipeline::Registry& registry, const ProcessStats& process);

}  // namespace sluice::server
