#include "control/api_routes.h"

#include "control/expression_api.h"
#include "control/migrate.h"
#include "control/openapi.h"
#include "core/cat.h"
#include "core/version.h"

namespace sluice::control {

using nlohmann::json;
using receivers::HttpAnswer;

namespace {

void Json(int status, const json& body, HttpAnswer* a) {
  a->status = status;
  a->content_type = "application/json";
  a->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}
void NoContent(HttpAnswer* a) {
  a->status = 204;
  a->content_type.clear();
  a->body.clear();
}
void Error(const ApiError& e, HttpAnswer* a) {
  a->status = e.status;
  a->content_type = "application/problem+json";
  a->body = e.Body();
}
// 204 on success, the error otherwise.
void Done(const ApiError& e, HttpAnswer* a) { e.ok() ? NoContent(a) : Error(e, a); }
void Answer(const ApiError& e, int status, const json& body, HttpAnswer* a) {
  e.ok() ? Json(status, body, a) : Error(e, a);
}

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && FromHex(s[i + 1]) >= 0 &&
               FromHex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(FromHex(s[i + 1]) * 16 + FromHex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
std::multimap<std::string, std::string> ParseQuery(std::string_view q) {
  std::multimap<std::string, std::string> out;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    out.emplace(Unescape(part.substr(0, eq)),
                eq == std::string_view::npos ? "" : Unescape(part.substr(eq + 1)));
  }
  return out;
}

// An integer query parameter in [lo, hi]; `fallback` when absent. 422 otherwise.
ApiError IntParam(const ApiRequest& r, const std::string& name, uint64_t lo, uint64_t hi,
                  uint64_t fallback, uint64_t* out) {
  auto it = r.query.find(name);
  if (it == r.query.end()) {
    *out = fallback;
    return {};
  }
  const std::string& v = it->second;
  char* end = nullptr;
  const unsigned long long n = v.empty() ? 0 : std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || v[0] == '-' || n < lo || n > hi) {
    ApiError e{
        422, "unprocessable_entity", Cat(name, " must be an integer from ", lo, " to ", hi),
        json::array({{{"field", Cat("query.", name)},
                      {"code", "out_of_range"},
                      {"message", Cat("'", v, "' is not an integer from ", lo, " to ", hi)}}}),
        nullptr};
    return e;
  }
  *out = n;
  return {};
}

std::string QueryText(const ApiRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? "" : it->second;
}

using H = std::function<void(Controller&, const ApiRequest&, HttpAnswer*)>;

// A handler that answers `status` with the JSON the method `m` (id, out) fills in.
template <typename Method>
H IdJson(Method m, int status = 200) {
  return [m, status](Controller& c, const ApiRequest& q, HttpAnswer* a) {
    json out;
    Answer((c.*m)(q.id, &out), status, out, a);
  };
}
const std::vector<std::pair<int, std::string>> kNoBody = {{204, ""}};

std::vector<RouteSpec> BuildRoutes() {
  const std::pair<int, std::string> e400{400, "Error"}, e404{404, "Error"}, e409{409, "Error"},
      e422{422, "Error"}, e503{503, "Error"};
  std::vector<RouteSpec> r;
  auto add = [&](std::string method, std::string path, std::string op, std::string summary,
                 std::string req, std::vector<std::pair<int, std::string>> resp, H h,
                 std::vector<std::string> query = {}) {
    r.push_back({std::move(method), std::move(path), std::move(op), std::move(summary),
                 std::move(req), std::move(resp), std::move(query), std::move(h)});
  };
  add("GET", "/api/v1/healthz", "healthzV1", "Liveness (empty body)", "", {{200, ""}},
      [](Controller&, const ApiRequest&, HttpAnswer* a) {
        a->status = 200;
        a->content_type = "text/plain";
        a->body.clear();
      });
  add("GET", "/api/v2/healthz", "healthzV2", "Liveness", "", {{200, "HealthV2"}},
      [](Controller&, const ApiRequest&, HttpAnswer* a) {
        Json(200, {{"status", "ok"}}, a);
      });
  add("GET", "/api/v1/platform", "platform", "Where pipelines run", "", {{200, "Platform"}},
      [](Controller&, const ApiRequest&, HttpAnswer* a) {
        Json(200,
             {{"orchestrator", "local"},
              {"api_version", "v3"},
              {"server", "sluice"},
              {"version", kVersion}},
             a);
      });
  add("GET", "/api/v1/openapi.json", "openapi", "This document", "", {{200, ""}},
      [](Controller&, const ApiRequest&, HttpAnswer* a) { Json(200, OpenApiDocument(), a); });
  add("POST", "/api/v1/pipeline", "createPipeline", "Create a pipeline (v3 document)", "PipelineV3",
      {{204, ""}, e400, e409, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.Create(q.body), a); });
  add("GET", "/api/v1/pipeline", "listPipelines", "List pipelines", "", {{200, "PipelineList"}},
      [](Controller& c, const ApiRequest&, HttpAnswer* a) { Json(200, c.List(), a); });
  add("POST", "/api/v1/pipeline/migrate-preview", "migratePreview",
      "Convert a v2 document to v3 (no side effects)", "AnyObject",
      {{200, "PipelineV3"}, e400, e422}, [](Controller&, const ApiRequest& q, HttpAnswer* a) {
        json v2 = json::parse(q.body, nullptr, false);
        if (v2.is_discarded()) return Error(BadRequest("bad_request", "invalid json: not JSON"), a);
        auto v3 = MigrateV2ToV3(v2);
        if (!v3.ok()) {
          const std::string m(v3.status().message());
          const size_t colon = m.find(':');
          return Error(
              {422,
               "unprocessable_entity",
               m,
               json::array({{{"field", colon == std::string::npos ? "" : m.substr(0, colon)},
                             {"code", "invalid"},
                             {"message", m}}}),
               {{"error", m}}},
              a);
        }
        Json(200, *v3, a);
      });
  add("GET", "/api/v1/pipeline/{id}", "getPipeline", "A pipeline's v3 document", "",
      {{200, "PipelineV3"}, e400, e404},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        std::vector<std::string> schema;
        for (auto [it, end] = q.query.equal_range("schema"); it != end; ++it)
          schema.push_back(it->second);
        json out;
        Answer(c.Get(q.id, schema, &out), 200, out, a);
      },
      {"schema"});
  add("PATCH", "/api/v1/pipeline/{id}", "renamePipeline", "Rename", "Rename",
      {{204, ""}, e404, e409, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.Rename(q.id, q.body), a); });
  add("DELETE", "/api/v1/pipeline/{id}", "deletePipeline",
      "Delete a Stopped or Failed pipeline with its buffer and dead letters", "",
      {{204, ""}, e400, e404, e409, {500, "Error"}, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.Delete(q.id), a); });
  for (const auto& [verb, what] : std::vector<std::pair<std::string, std::string>>{
           {"stop", "Stop after draining the buffer into ClickHouse"},
           {"terminate", "Stop at once, keeping the buffer"},
           {"resume", "Resume from the buffer"}}) {
    add("POST", Cat("/api/v1/pipeline/{id}/", verb), Cat(verb, "Pipeline"), what, "",
        {{204, ""}, e400, e404, e409, e422, e503},
        [verb = verb](Controller& c, const ApiRequest& q, HttpAnswer* a) {
          Done(verb == "stop"        ? c.Stop(q.id)
               : verb == "terminate" ? c.Terminate(q.id)
                                     : c.Resume(q.id),
               a);
        });
  }
  add("POST", "/api/v1/pipeline/{id}/edit", "editPipeline",
      "Replace the document of a Stopped or Failed pipeline (it resumes)", "PipelineV3",
      {{204, ""}, e400, e404, e409, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.Edit(q.id, q.body), a); });
  add("PATCH", "/api/v1/pipeline/{id}/metadata", "setMetadata", "Replace the tags", "Metadata",
      {{204, ""}, e404, e409, e422, e503}, [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        Done(c.SetMetadata(q.id, q.body), a);
      });
  add("GET", "/api/v1/pipeline/{id}/health", "pipelineHealth", "Status", "",
      {{200, "PipelineHealth"}, e404}, IdJson(&Controller::Health));
  add("GET", "/api/v1/pipeline/{id}/resources", "getResources", "Resources and their policy", "",
      {{200, "Resources"}, e404}, IdJson(&Controller::Resources));
  add("PUT", "/api/v1/pipeline/{id}/resources", "putResources",
      "Replace resources (Stopped or Failed; the buffer's limits are immutable)", "ResourcesUpdate",
      {{200, "Resources"}, e400, e404, e409, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        json out;
        Answer(c.PutResources(q.id, q.body, &out), 200, out, a);
      });
  add("GET", "/api/v1/pipeline/{id}/resources/validation", "resourcesPolicy",
      "The fields that cannot change", "", {{200, "FieldsPolicy"}, e404},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        json out;
        ApiError e = c.Resources(q.id, &out);
        Answer(e, 200, e.ok() ? json{{"fields_policy", out["fields_policy"]}} : json(), a);
      });
  add("GET", "/api/v1/pipeline/{id}/dlq/state", "dlqState", "Dead-letter queue figures", "",
      {{200, "DlqState"}, e404, e503}, IdJson(&Controller::DlqState));
  add("GET", "/api/v1/pipeline/{id}/dlq/consume", "dlqConsume",
      "Read and remove up to batch_size dead letters (default 1000)", "",
      {{200, "DeadLetters"}, e404, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        uint64_t n;
        if (ApiError e = IntParam(q, "batch_size", 1, 1000, 1000, &n); !e.ok()) return Error(e, a);
        json out;
        Answer(c.DlqConsume(q.id, n, &out), 200, out, a);
      },
      {"batch_size"});
  add("POST", "/api/v1/pipeline/{id}/dlq/purge", "dlqPurge", "Remove every dead letter", "",
      {{204, ""}, e404, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.DlqPurge(q.id), a); });
  add("GET", "/api/v1/pipeline/{id}/dlq/list", "dlqList",
      "Read dead letters without removing them, a page at a time", "",
      {{200, "DlqPage"}, e404, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        uint64_t n, cursor;
        if (ApiError e = IntParam(q, "batch_size", 1, 1000, 100, &n); !e.ok()) return Error(e, a);
        if (ApiError e = IntParam(q, "cursor", 1, UINT64_MAX, 1, &cursor); !e.ok())
          return Error(e, a);
        json out;
        Answer(c.DlqList(q.id, cursor, n, QueryText(q, "component"), QueryText(q, "reason"), &out),
               200, out, a);
      },
      {"batch_size", "component", "cursor", "reason"});
  add("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "dlqReprocess",
      "Send dead letters through the pipeline again", "ReprocessRequest",
      {{202, "ReprocessResult"}, e404, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        json out;
        Answer(c.DlqReprocess(q.id, q.body, &out), 202, out, a);
      });
  // Sluice's additions for the console.
  add("POST", "/api/v1/pipeline/validate", "validatePipeline",
      "Check a v3 document as a create would, without creating it", "PipelineV3",
      {{204, ""}, e400, e422},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) { Done(c.Validate(q.body), a); });
  add("GET", "/api/v1/pipeline/{id}/table", "describeTable",
      "The live columns of the pipeline's table(s) beside its mapping", "",
      {{200, "TableView"}, e404, e503}, IdJson(&Controller::DescribeTable));
  add("POST", "/api/v1/pipeline/{id}/test-record", "sendTestRecord",
      "Send one marked record of the pipeline's signal through its buffer", "",
      {{202, "TestRecord"}, e404, e503}, IdJson(&Controller::SendTestRecord, 202));
  add("GET", "/api/v1/pipeline/{id}/test-record", "testRecordStatus",
      "Where a test record is: buffered, dead_lettered, landed or not_found", "",
      {{200, "TestRecordStatus"}, e404, e422, e503},
      [](Controller& c, const ApiRequest& q, HttpAnswer* a) {
        json out;
        Answer(c.TestRecordStatus(q.id, QueryText(q, "test_id"), &out), 200, out, a);
      },
      {"test_id"});
  add("GET", "/api/v1/stats/history", "statsHistory",
      "Every pipeline's figures over the last minutes, sampled by the server", "",
      {{200, "History"}},
      [](Controller& c, const ApiRequest&, HttpAnswer* a) { Json(200, c.History(), a); });
  add("POST", "/api/v1/filter/validate", "filterValidate", "Check a filter expression",
      "FilterValidateRequest", {{204, ""}, e400, e422},
      [](Controller&, const ApiRequest& q, HttpAnswer* a) { Done(ValidateFilter(q.body), a); });
  add("POST", "/api/v1/transform/expression/evaluate", "expressionEvaluate",
      "Try a stateless transform on a sample", "EvaluateRequest", {{200, "AnyObject"}, e400, e422},
      [](Controller&, const ApiRequest& q, HttpAnswer* a) {
        std::string out;
        if (ApiError e = EvaluateTransform(q.body, &out); !e.ok()) return Error(e, a);
        a->status = 200;
        a->content_type = "application/json";
        a->body = std::move(out);
      });
  return r;
}

// The segments after the leading '/': "/a//b" has an empty one (it matches nothing).
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    const size_t j = path.find('/');
    out.push_back(path.substr(0, j));
    if (j == std::string_view::npos) break;
    path.remove_prefix(j + 1);
  }
  return out;
}

// Whether `path` fits the template; the {id} segment goes to *id.
bool Match(std::string_view tmpl, std::string_view path, std::string* id) {
  const auto t = Segments(tmpl), p = Segments(path);
  if (t.size() != p.size()) return false;
  std::string found;
  for (size_t i = 0; i < t.size(); ++i) {
    if (p[i].empty()) return false;
    if (t[i] == "{id}")
      found = Unescape(p[i]);
    else if (t[i] != p[i])
      return false;
  }
  *id = std::move(found);
  return true;
}

}  // namespace

const std::vector<RouteSpec>& ApiRoutes() {
  static const std::vector<RouteSpec>* routes = new std::vector<RouteSpec>(BuildRoutes());
  return *routes;
}

bool ServeApi(Controller& c, std::string_view method, std::string_view path, std::string_view query,
              std::string_view body, HttpAnswer* a) {
  if (!path.starts_with("/api/")) return false;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const RouteSpec* hit = nullptr;
  std::string allowed;
  std::string id;
  // Literal routes first (migrate-preview is not a pipeline id).
  for (int pass = 0; pass < 2 && !hit; ++pass) {
    for (const RouteSpec& r : ApiRoutes()) {
      const bool literal = r.path.find('{') == std::string::npos;
      if (literal != (pass == 0)) continue;
      std::string got;
      if (!Match(r.path, path, &got)) continue;
      if (r.method == method || (method == "HEAD" && r.method == "GET")) {
        hit = &r;
        id = std::move(got);
        break;
      }
      allowed += allowed.empty() ? r.method : Cat(", ", r.method);
    }
  }
  if (!hit) {
    if (!allowed.empty())
      Error({405, "method_not_allowed", Cat(method, " is not served on ", path, " (", allowed, ")"),
             nullptr, nullptr},
            a);
    else
      Error({404, "not_found", Cat("no such path: ", path), nullptr, nullptr}, a);
    return true;
  }
  ApiRequest req;
  req.id = std::move(id);
  req.query = ParseQuery(query);
  req.body = body;
  try {
    hit->handle(c, req, a);
  } catch (const json::exception& e) {
    // A body whose values have the wrong types for what reads them.
    Error({422, "unprocessable_entity", Cat("the request body does not fit: ", e.what()), nullptr,
           nullptr},
          a);
  }
  return true;
}

}  // namespace sluice::control
