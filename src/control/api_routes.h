// GlassFlow's REST API (glassflow.md §4) over the Controller: one table of routes, which
// both dispatches requests and describes them in the OpenAPI document (openapi.h), so the
// two cannot drift apart. Thread-safe (the controller is).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "control/controller.h"
#include "receivers/status_map.h"

namespace sluice::control {

struct ApiRequest {
  std::string id;  // the {id} path segment, if any
  std::multimap<std::string, std::string> query;
  std::string_view body;
};

struct RouteSpec {
  std::string method;  // GET, POST, ...
  std::string path;    // /api/v1/pipeline/{id}/stop
  std::string operation_id;
  std::string summary;
  std::string request_schema;  // a components/schemas name; empty: no body
  // status -> response schema name ("" : no body); the error statuses use "Error".
  std::vector<std::pair<int, std::string>> responses;
  std::vector<std::string> query_params;  // documented query parameters
  std::function<void(Controller&, const ApiRequest&, receivers::HttpAnswer*)> handle;
};

const std::vector<RouteSpec>& ApiRoutes();

// Serves an /api/ request. False: not an API path.
bool ServeApi(Controller& c, std::string_view method, std::string_view path, std::string_view query,
              std::string_view body, receivers::HttpAnswer* a);

}  // namespace sluice::control
