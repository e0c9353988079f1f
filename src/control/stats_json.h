// The live figures of a pipeline that the REST API's list and health documents carry as
// "stats" (Sluice's addition to GlassFlow's shapes), and RFC 3339 times for them.
// Thread-safe: reads a snapshot.
#pragma once

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.h"

namespace sluice::control {

nlohmann::json PipelineStatsJson(const pipeline::Pipeline& p);
// An RFC 3339 time (nanosecond precision) for Unix milliseconds; null for 0.
nlohmann::json TimeJson(int64_t unix_ms);

}  // namespace sluice::control
