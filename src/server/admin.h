// The routes of the admin listener (default 127.0.0.1:8081): /metrics, /healthz, /readyz,
// GlassFlow's /api/v1/healthz, /api/v2/healthz, GET /api/v1/pipeline and
// GET /api/v1/pipeline/{id}/health; and the health routes the OTLP/HTTP listener serves
// too (/healthz, /readyz). Thread-safe.
#pragma once

#include "pipeline/registry.h"
#include "receivers/http_server.h"

namespace sluice::server {

receivers::HttpRoutes AdminRoutes(pipeline::Registry& registry);
receivers::HttpRoutes OtlpHealthRoutes(pipeline::Registry& registry);

}  // namespace sluice::server
