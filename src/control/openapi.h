// The OpenAPI 3.1 document of the REST API (GET /api/v1/openapi.json), built from the
// route table (api_routes.h) and the schemas of its bodies. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

namespace sluice::control {

const nlohmann::json& OpenApiDocument();

}  // namespace sluice::control
