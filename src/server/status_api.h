// The status documents of the admin listener: GET /api/v1/pipeline (the list) and
// GET /api/v1/pipeline/{id}/health in GlassFlow's shapes (glassflow.md §4), each extended
// with a "stats" object of live figures, and the readiness verdict for /readyz.
// Thread-safe: reads snapshots only.
#pragma once

#include <string>
#include <string_view>

#include "pipeline/registry.h"

namespace sluice::server {

// GlassFlow's status name for a pipeline state: Created, Running, Failed, Stopped.
std::string_view StatusName(pipeline::Pipeline::State s);

std::string PipelineListJson(const pipeline::Registry& registry);
// The health document; empty when no such pipeline.
std::string PipelineHealthJson(const pipeline::Registry& registry, std::string_view id);

// Ready: every pipeline Running with a buffer that takes requests. `why` gets a JSON object
// naming each pipeline that is not, with the reason.
bool Ready(const pipeline::Registry& registry, std::string* why);

}  // namespace sluice::server
