// The readiness verdict for /readyz and GlassFlow's names of the pipelines' live states.
// (The status documents are the REST API's: control/controller.h.) Thread-safe: reads
// snapshots only.
#pragma once

#include <string>
#include <string_view>

#include "pipeline/registry.h"

namespace sluice::server {

// GlassFlow's status name for a pipeline state: Created, Running, Failed, Stopped.
std::string_view StatusName(pipeline::Pipeline::State s);

// Ready: every pipeline Running with a buffer that takes requests. `why` gets a JSON object
// naming each pipeline that is not, with the reason.
bool Ready(const pipeline::Registry& registry, std::string* why);

}  // namespace sluice::server
