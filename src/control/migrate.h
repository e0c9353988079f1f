// GlassFlow's v2 pipeline documents converted to v3 (POST /api/v1/pipeline/migrate-preview):
// the same rules as GlassFlow's own conversion, with no side effects. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace sluice::control {

// InvalidArgument naming the field for a document that is not a v2 pipeline.
StatusOr<nlohmann::json> MigrateV2ToV3(const nlohmann::json& v2);

}  // namespace sluice::control
