// The routes of the admin listener (default 127.0.0.1:8081): /metrics, /healthz, /readyz
// and GlassFlow's REST API under /api/ (control/api_routes.h); and the health routes the
// OTLP/HTTP listener serves too (/healthz, /readyz). Thread-safe.
#pragma once

#include "control/controller.h"
#include "pipeline/registry.h"
#include "receivers/http_server.h"

namespace sluice::server {

receivers::HttpRoutes AdminRoutes(pipeline::Registry& registry, control::Controller& api);
receivers::HttpRoutes OtlpHealthRoutes(pipeline::Registry& registry);

}  // namespace sluice::server
