#include "server/admin.h"

#include "console/console.h"
#include "control/api_routes.h"
#include "core/cat.h"
#include "core/text.h"
#include "server/metrics_page.h"
#include "server/process_stats.h"
#include "server/status_api.h"

namespace sluice::server {
namespace {

using receivers::HttpAnswer;

HttpAnswer Json(int status, std::string body) {
  HttpAnswer a;
  a.status = status;
  a.content_type = "application/json";
  a.body = std::move(body);
  return a;
}

// GlassFlow's (Huma's) error body.
HttpAnswer Error(int status, std::string_view code, std::string_view message) {
  std::string body = Cat("{\"status\":", status, ",\"code\":");
  AppendJsonString(code, &body);
  body += ",\"message\":";
  AppendJsonString(message, &body);
  body += "}";
  return Json(status, std::move(body));
}

// /healthz and /readyz, shared by both listeners. False: not one of them.
// `?scope=listeners` asks only whether the listeners are up (answered 503 before this by
// the server while it starts or stops): for a load balancer, since a failed pipeline
// still takes requests into its buffer.
bool HealthRoute(pipeline::Registry& registry, std::string_view path, std::string_view query,
                 HttpAnswer* a) {
  if (path == "/healthz") {
    *a = Json(200, "{\"status\":\"ok\"}");
    return true;
  }
  if (path == "/readyz") {
    std::string why;
    if (query.find("scope=listeners") != std::string_view::npos || Ready(registry, &why))
      *a = Json(200, "{\"status\":\"ready\"}");
    else
      *a = Json(503, Cat("{\"status\":\"not ready\",\"pipelines\":", why, "}"));
    return true;
  }
  return false;
}

bool IsRead(std::string_view method) { return method == "GET" || method == "HEAD"; }

}  // namespace

receivers::HttpRoutes OtlpHealthRoutes(pipeline::Registry& registry) {
  receivers::HttpRoutes r;
  r.handle = [&registry](std::string_view method, std::string_view path, std::string_view query,
                         std::string_view, HttpAnswer* a) {
    if (path != "/healthz" && path != "/readyz") return false;
    if (!IsRead(method)) {
      *a = Error(405, "method_not_allowed", "use GET");
      return true;
    }
    return HealthRoute(registry, path, query, a);
  };
  return r;
}

receivers::HttpRoutes AdminRoutes(pipeline::Registry& registry, control::Controller& api) {
  receivers::HttpRoutes r;
  r.otlp = false;
  r.handle = [&registry, &api](std::string_view method, std::string_view path,
                               std::string_view query, std::string_view body, HttpAnswer* a) {
    if (control::ServeApi(api, method, path, query, body, a)) return true;
    if (console::ServeConsole(method, path, a)) return true;
    if (path != "/metrics" && path != "/healthz" && path != "/readyz") return false;
    if (!IsRead(method)) {
      *a = Error(405, "method_not_allowed", Cat(method, " is not served on ", path));
      return true;
    }
    if (HealthRoute(registry, path, query, a)) return true;
    a->status = 200;
    a->content_type = "text/plain; version=0.0.4; charset=utf-8";
    a->body = RenderMetrics(registry, ReadProcessStats());
    return true;
  };
  return r;
}

}  // namespace sluice::server
