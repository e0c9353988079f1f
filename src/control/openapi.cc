#include "control/openapi.h"

#include "control/api_routes.h"
#include "core/version.h"

namespace sluice::control {

using nlohmann::json;

namespace {

// The bodies' schemas (JSON Schema 2020-12, as OpenAPI 3.1 takes them).
constexpr const char* kSchemas = R"JSON({
  "Error": {
    "type": "object",
    "required": ["status", "code", "message"],
    "properties": {
      "status": {"type": "integer"},
      "code": {"type": "string"},
      "message": {"type": "string"},
      "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
      "details": {"type": "object"}
    }
  },
  "FieldError": {
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}
  },
  "AnyObject": {"type": "object"},
  "FilterValidateRequest": {
    "type": "object",
    "required": ["expression"],
    "properties": {
      "expression": {"type": "string"},
      "fields": {"type": "array", "items": {"type": "object", "required": ["field_name", "field_type"],
        "properties": {"field_name": {"type": "string"}, "field_type": {"type": "string"}}}},
      "source_type": {"enum": ["otlp.logs", "otlp.traces", "otlp.metrics"]}
    }
  },
  "StatelessOutput": {
    "type": "object",
    "required": ["expression", "output_name", "output_type"],
    "properties": {"expression": {"type": "string"}, "output_name": {"type": "string"},
                   "output_type": {"type": "string"}}
  },
  "EvaluateRequest": {
    "type": "object",
    "required": ["type", "config", "sample"],
    "properties": {
      "type": {"const": "expr_lang_transform"},
      "config": {"type": "object", "properties": {
        "transform": {"type": "array", "items": {"$ref": "#/components/schemas/StatelessOutput"}},
        "transforms": {"type": "array", "items": {"$ref": "#/components/schemas/StatelessOutput"}}}},
      "sample": {"type": "object"}
    }
  },
  "HealthV2": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
  "Platform": {
    "type": "object",
    "required": ["orchestrator"],
    "properties": {"orchestrator": {"enum": ["local", "k8s"]}, "api_version": {"type": "string"},
                   "server": {"type": "string"}, "version": {"type": "string"}}
  },
  "Status": {"enum": ["Created", "Running", "Stopping", "Stopped", "Terminating", "Failed", "Resuming"]},
  "Time": {"type": ["string", "null"], "format": "date-time"},
  "PipelineV3": {
    "type": "object",
    "required": ["pipeline_id", "sources", "sink"],
    "properties": {
      "version": {"enum": ["v3", ""]},
      "pipeline_id": {"type": "string", "pattern": "^[a-z][a-z0-9-]*[a-z0-9]$", "minLength": 5, "maxLength": 40},
      "name": {"type": "string"},
      "sources": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["type", "source_id"],
        "properties": {"type": {"type": "string"}, "source_id": {"type": "string"}}}},
      "transforms": {"type": "array", "maxItems": 3, "items": {
        "type": "object", "required": ["type", "source_id", "config"],
        "properties": {"type": {"enum": ["filter", "dedup", "stateless"]}, "source_id": {"type": "string"},
                       "config": {"type": "object", "properties": {
                         "expression": {"type": "string"}, "key": {"type": "string"},
                         "time_window": {"type": "string"},
                         "transforms": {"type": "array", "items": {"$ref": "#/components/schemas/StatelessOutput"}}}}}}},
      "join": {"type": "object"},
      "sink": {"type": "object", "required": ["type"], "properties": {
        "type": {"const": "clickhouse"},
        "connection_params": {"type": "object"},
        "table": {"type": "string"},
        "max_batch_size": {"type": "integer", "minimum": 1},
        "max_delay_time": {"type": "string"},
        "mapping": {"type": "array", "items": {"type": "object", "required": ["name", "column_name"],
          "properties": {"name": {"type": "string"}, "column_name": {"type": "string"},
                         "column_type": {"type": "string"}}}}}},
      "metadata": {"$ref": "#/components/schemas/Tags"},
      "resources": {"type": "object"}
    }
  },
  "Tags": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
  "Stats": {
    "type": "object",
    "required": ["records_in", "rows_written", "dead_letters", "buffer", "inserts_in_flight"],
    "properties": {
      "records_in": {"type": "integer"}, "rows_written": {"type": "integer"},
      "dead_letters": {"type": "object", "additionalProperties": {"type": "integer"}},
      "buffer": {"type": "object", "required": ["records", "bytes", "limit_bytes", "oldest_age_seconds"],
        "properties": {"records": {"type": "integer"}, "bytes": {"type": "integer"},
                       "limit_bytes": {"type": "integer"}, "oldest_age_seconds": {"type": "number"}}},
      "inserts_in_flight": {"type": "integer"},
      "reason": {"type": ["string", "null"]}, "last_error": {"type": ["string", "null"]},
      "last_error_at": {"$ref": "#/components/schemas/Time"},
      "last_insert_at": {"$ref": "#/components/schemas/Time"}
    }
  },
  "PipelineSummary": {
    "type": "object",
    "required": ["pipeline_id", "name", "transformation_type", "created_at", "updated_at", "status",
                 "metadata", "source_type", "managed_by"],
    "properties": {
      "pipeline_id": {"type": "string"}, "name": {"type": "string"},
      "transformation_type": {"type": "string"},
      "created_at": {"$ref": "#/components/schemas/Time"},
      "updated_at": {"$ref": "#/components/schemas/Time"},
      "status": {"$ref": "#/components/schemas/Status"},
      "metadata": {"$ref": "#/components/schemas/Tags"},
      "source_type": {"enum": ["otlp.logs", "otlp.metrics", "otlp.traces"]},
      "managed_by": {"enum": ["api", "file"]},
      "file": {"type": "string"},
      "load_error": {"type": "string"},
      "stats": {"$ref": "#/components/schemas/Stats"}
    }
  },
  "PipelineList": {"type": "array", "items": {"$ref": "#/components/schemas/PipelineSummary"}},
  "PipelineHealth": {
    "type": "object",
    "required": ["pipeline_id", "pipeline_name", "overall_status", "created_at", "updated_at"],
    "properties": {
      "pipeline_id": {"type": "string"}, "pipeline_name": {"type": "string"},
      "overall_status": {"$ref": "#/components/schemas/Status"},
      "created_at": {"$ref": "#/components/schemas/Time"},
      "updated_at": {"$ref": "#/components/schemas/Time"},
      "source_type": {"type": "string"}, "managed_by": {"enum": ["api", "file"]},
      "file": {"type": "string"}, "load_error": {"type": "string"},
      "stats": {"$ref": "#/components/schemas/Stats"}
    }
  },
  "Rename": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
  "Metadata": {"type": "object", "required": ["metadata"], "properties": {"metadata": {"$ref": "#/components/schemas/Tags"}}},
  "FieldsPolicy": {
    "type": "object", "required": ["fields_policy"],
    "properties": {"fields_policy": {"type": "object", "required": ["immutable"],
      "properties": {"immutable": {"type": "array", "items": {"type": "string"}}}}}
  },
  "Resources": {
    "type": "object", "required": ["pipeline_resources", "fields_policy"],
    "properties": {
      "pipeline_resources": {"type": "object", "required": ["nats"], "properties": {
        "nats": {"type": "object", "required": ["stream"], "properties": {"stream": {
          "type": "object", "required": ["maxAge", "maxBytes", "maxMsgs"],
          "properties": {"maxAge": {"type": "string"}, "maxBytes": {"type": "string"},
                         "maxMsgs": {"type": "integer"}}}}}}},
      "fields_policy": {"type": "object", "required": ["immutable"],
        "properties": {"immutable": {"type": "array", "items": {"type": "string"}}}}
    }
  },
  "ResourcesUpdate": {"type": "object", "required": ["pipeline_resources"],
    "properties": {"pipeline_resources": {"type": "object"}}},
  "DlqState": {
    "type": "object",
    "required": ["last_received_at", "last_consumed_at", "total_messages", "unconsumed_messages"],
    "properties": {
      "last_received_at": {"$ref": "#/components/schemas/Time"},
      "last_consumed_at": {"$ref": "#/components/schemas/Time"},
      "total_messages": {"type": "integer", "minimum": 0},
      "unconsumed_messages": {"type": "integer", "minimum": 0}
    }
  },
  "DeadLetter": {
    "type": "object",
    "required": ["component", "error", "original_message", "message_id", "reason", "received_at"],
    "properties": {
      "component": {"type": "string"}, "error": {"type": "string"},
      "original_message": {"type": "string"}, "message_id": {"type": "integer", "minimum": 1},
      "reason": {"type": "string"}, "received_at": {"$ref": "#/components/schemas/Time"}
    }
  },
  "DeadLetters": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}},
  "DlqPage": {
    "type": "object", "required": ["messages", "next_cursor", "has_more"],
    "properties": {
      "messages": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}},
      "next_cursor": {"type": ["string", "null"]},
      "has_more": {"type": "boolean"}
    }
  },
  "ReprocessRequest": {
    "type": "object",
    "properties": {"mode": {"enum": ["all", "selected"]},
                   "message_ids": {"type": "array", "maxItems": 1000, "items": {"type": "integer", "minimum": 1}}}
  },
  "ReprocessResult": {
    "type": "object", "required": ["request_id", "status", "reprocessed", "skipped", "remaining"],
    "properties": {
      "request_id": {"type": "string"}, "status": {"enum": ["accepted", "partial"]},
      "reprocessed": {"type": "integer"}, "remaining": {"type": "integer"},
      "skipped": {"type": "array", "items": {"type": "object", "required": ["message_id", "reason"],
        "properties": {"message_id": {"type": "integer"}, "reason": {"type": "string"}}}},
      "error": {"type": "string"}
    }
  },
  "TableView": {
    "type": "object", "required": ["tables", "mapping"],
    "properties": {
      "tables": {"type": "array", "items": {"type": "object", "required": ["database", "table", "columns"],
        "properties": {"database": {"type": "string"}, "table": {"type": "string"},
          "metric_type": {"type": "string"}, "error": {"type": "string"},
          "columns": {"type": "array", "items": {"type": "object", "required": ["name", "type", "default_kind"],
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}, "default_kind": {"type": "string"}}}}}}},
      "mapping": {"type": "array", "items": {"type": "object",
        "required": ["name", "column_name", "column_type", "in_table", "table_type"],
        "properties": {"name": {"type": "string"}, "column_name": {"type": "string"},
          "column_type": {"type": "string"}, "in_table": {"type": "boolean"},
          "table_type": {"type": ["string", "null"]}}}}
    }
  },
  "TestRecord": {
    "type": "object", "required": ["test_id", "marker", "text", "sent_at"],
    "properties": {"test_id": {"type": "string"}, "marker": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
      "text": {"type": "string"}, "sent_at": {"type": "string"}}
  },
  "TestRecordStatus": {
    "type": "object", "required": ["test_id", "marker", "status", "detail"],
    "properties": {"test_id": {"type": "string"}, "marker": {"type": "string"},
      "status": {"enum": ["buffered", "dead_lettered", "landed", "not_found"]},
      "detail": {"type": "string"}, "table": {"type": "string"},
      "columns": {"type": "array", "items": {"type": "string"}},
      "dead_letter": {"$ref": "#/components/schemas/DeadLetter"},
      "searched": {"type": "array"}}
  },
  "Series": {"type": "array", "items": {"type": "number"}},
  "History": {
    "type": "object", "required": ["interval_seconds", "pipelines"],
    "properties": {"interval_seconds": {"type": "number"},
      "pipelines": {"type": "object", "additionalProperties": {"type": "object",
        "required": ["t", "records_in", "rows_written", "dead_letters", "buffer_records", "buffer_bytes", "oldest_age_seconds"],
        "properties": {"t": {"$ref": "#/components/schemas/Series"},
          "records_in": {"$ref": "#/components/schemas/Series"},
          "rows_written": {"$ref": "#/components/schemas/Series"},
          "dead_letters": {"$ref": "#/components/schemas/Series"},
          "buffer_records": {"$ref": "#/components/schemas/Series"},
          "buffer_bytes": {"$ref": "#/components/schemas/Series"},
          "oldest_age_seconds": {"$ref": "#/components/schemas/Series"}}}}}
  }
})JSON";

json Build() {
  json doc = {{"openapi", "3.1.0"},
              {"info",
               {{"title", "Sluice REST API"},
                {"version", kVersion},
                {"description",
                 "GlassFlow's pipeline API (v3 documents) for OTLP pipelines into ClickHouse, plus "
                 "dead-letter listing and reprocessing."}}},
              {"components",
               {{"schemas", json::parse(kSchemas)},
                {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
              {"security", json::array({{{"bearer", json::array()}}, json::object()})},
              {"paths", json::object()}};
  for (const RouteSpec& r : ApiRoutes()) {
    json op = {{"operationId", r.operation_id}, {"summary", r.summary}};
    json params = json::array();
    if (r.path.find("{id}") != std::string::npos)
      params.push_back(
          {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    for (const std::string& q : r.query_params) {
      json schema = q == "batch_size" ? json{{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}
                                      : json{{"type", "string"}};
      params.push_back({{"name", q}, {"in", "query"}, {"required", false}, {"schema", schema}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.request_schema.empty())
      op["requestBody"] = {
          {"required", true},
          {"content",
           {{"application/json",
             {{"schema", {{"$ref", "#/components/schemas/" + r.request_schema}}}}}}}};
    json responses = json::object();
    for (const auto& [code, schema] : r.responses) {
      json resp = {{"description", code < 300 ? "success" : "error"}};
      if (!schema.empty()) {
        const char* type = schema == "Error" ? "application/problem+json" : "application/json";
        resp["content"] = {{type, {{"schema", {{"$ref", "#/components/schemas/" + schema}}}}}};
      }
      responses[std::to_string(code)] = resp;
    }
    const json error = {
        {"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}};
    // Answered by the listener before the route: the admin token, the body's size and the
    // server-wide memory for request bodies.
    if (r.path != "/api/v1/healthz" && r.path != "/api/v2/healthz")
      responses["401"] = {{"description", "missing or invalid admin token"}, {"content", error}};
    if (!r.request_schema.empty()) {
      responses["413"] = {{"description", "the body is over admin.max_body_bytes"},
                          {"content", error}};
      responses["429"] = {{"description", "request bodies in memory are at their limit"},
                          {"content", error}};
    }
    op["responses"] = responses;
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    doc["paths"][r.path][method] = op;
  }
  return doc;
}

}  // namespace

const json& OpenApiDocument() {
  static const json* doc = new json(Build());
  return *doc;
}

}  // namespace sluice::control
