// Loads pipeline documents (*.json) from a directory and applies them to the registry as
// a diff: new ids are added, changed documents replace their pipeline, missing ones are
// removed. Start-up is the diff from an empty registry; SIGHUP re-runs it.
#pragma once

#include <string>

#include "core/status.h"
#include "pipeline/registry.h"

namespace sluice::server {

// Returns the first error; pipelines whose documents are valid are applied regardless.
Status SyncPipelineDir(const std::string& dir, pipeline::Registry& registry);

}  // namespace sluice::server
