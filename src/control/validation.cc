#include "control/validation.h"

#include <sstream>

#include "clickhouse/client.h"
#include "clickhouse/type.h"
#include "core/cat.h"
#include "core/json_syntax.h"
#include "core/log.h"
#include "otlp/fields.h"
#include "pipeline/table_plan.h"

namespace sluice::control {
namespace {

nlohmann::json FieldError(std::string field, std::string code, std::string message) {
  return {{"field", std::move(field)}, {"code", std::move(code)}, {"message", std::move(message)}};
}

// The mapping entry a plan error is about: the one whose source field or column it quotes.
std::string MappingFieldOf(std::string_view message, const pipeline::PipelineConfig& c) {
  // The column first: a source field may feed several columns.
  const auto& m = c.sink.mapping;
  for (size_t i = 0; i < m.size(); ++i)
    if (message.find(Cat("'", m[i].column_name, "'")) != std::string_view::npos)
      return Cat("sink.mapping[", i, "]");
  for (size_t i = 0; i < m.size(); ++i)
    if (message.find(Cat("'", m[i].name, "'")) != std::string_view::npos)
      return Cat("sink.mapping[", i, "]");
  return "sink.mapping";
}

ApiError Invalid(nlohmann::json errors) {
  ApiError e{422, "unprocessable_entity", "the pipeline configuration is invalid",
             std::move(errors), nullptr};
  std::string first = e.errors.empty() ? "" : e.errors[0].value("message", "");
  if (!e.errors.empty() && !e.errors[0].value("field", "").empty())
    first = Cat(e.errors[0].value("field", ""), ": ", first);
  e.details = {{"error", first}};  // GlassFlow's SDK shows details.error
  return e;
}

}  // namespace

nlohmann::json FieldErrorsOf(std::string_view message, const pipeline::PipelineConfig* config) {
  nlohmann::json out = nlohmann::json::array();
  std::istringstream lines{std::string(message)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("unknown key '", 0) == 0) {
      const size_t end = line.find('\'', 13);
      const std::string key = line.substr(13, end - 13);
      std::string path;
      if (const size_t in = line.find("' in ", end); in == end) {
        const size_t stop = line.find(';', in);
        path = line.substr(in + 5, stop == std::string::npos ? std::string::npos : stop - in - 5);
      }
      out.push_back(FieldError(path.empty() ? key : Cat(path, ".", key), "unknown_key", line));
    } else if (line.rfind("pipeline ", 0) == 0 && line.find(": ") != std::string::npos) {
      const size_t colon = line.find(": ");
      out.push_back(FieldError(line.substr(9, colon - 9), "invalid", line.substr(colon + 2)));
    } else if (config) {
      out.push_back(FieldError(MappingFieldOf(line, *config), "invalid", line));
    } else {
      out.push_back(FieldError("", "invalid", line));
    }
  }
  return out;
}

nlohmann::json MappingErrors(const pipeline::PipelineConfig& c) {
  nlohmann::json errors = nlohmann::json::array();
  for (size_t i = 0; i < c.sink.mapping.size(); ++i) {
    const auto& m = c.sink.mapping[i];
    if (auto path = otlp::ResolvePath(c.signal, m.name); !path.ok())
      errors.push_back(FieldError(Cat("sink.mapping[", i, "].name"), "unknown_field",
                                  std::string(path.status().message())));
    if (!m.column_type.empty() && m.column_type.rfind("Nested", 0) != 0)
      if (auto t = clickhouse::ParseType(m.column_type); !t.ok())
        errors.push_back(FieldError(Cat("sink.mapping[", i, "].column_type"), "unsupported_type",
                                    std::string(t.status().message())));
  }
  return errors;
}

ApiError ValidateDocument(std::string_view body, const ValidationOptions& o,
                          pipeline::PipelineConfig* out) {
  if (JsonSyntaxError e = CheckJsonSyntax(body); e.line != 0)
    return BadRequest("bad_request",
                      Cat("invalid json: line ", e.line, ", column ", e.column, ": ", e.message));
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{')
    return Invalid({FieldError("", "invalid", "the body must be a JSON object")});
  auto parsed = pipeline::ParsePipeline(std::string(body), pipeline::DocFormat::kJson);
  if (!parsed.ok()) return Invalid(FieldErrorsOf(std::string(parsed.status().message()), nullptr));
  pipeline::PipelineConfig& c = *parsed;
  if (nlohmann::json errors = MappingErrors(c); !errors.empty()) return Invalid(std::move(errors));
  if (o.check_tables) {
    clickhouse::Client client(c.sink.endpoint, o.timeout);
    auto plan = pipeline::ReadTables(c, client);
    if (!plan.ok()) {
      if (IsRetryable(plan.status())) {
        // ClickHouse does not answer: the pipeline is created and checks its table when it
        // starts (Failed, with the reason, if it does not fit).
        SLOG(WARN) << "pipeline " << c.id << ": its table could not be checked now ("
                   << plan.status().message() << "); it is checked when the pipeline starts";
      } else {
        const std::string m(plan.status().message());
        const bool table = m.find("UNKNOWN_TABLE") != std::string::npos ||
                           m.find("doesn't exist") != std::string::npos ||
                           m.find("does not exist") != std::string::npos;
        return Invalid({FieldError(
            table && m.find("column '") == std::string::npos ? "sink.table" : MappingFieldOf(m, c),
            "table_mismatch", Cat("ClickHouse at ", c.sink.endpoint.Describe(), ": ", m))});
      }
    }
  }
  *out = std::move(c);
  return {};
}

}  // namespace sluice::control
