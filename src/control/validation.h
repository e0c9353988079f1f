// Checks a v3 pipeline document for the REST API: the document's rules (ParsePipeline),
// the mapping against the flattened OTLP schema and ClickHouse's type grammar, and, when
// ClickHouse answers, against the live table. Every problem names the JSON path of the
// field at fault. Thread-safe (blocks on ClickHouse for at most `timeout`).
#pragma once

#include <chrono>
#include <string_view>

#include "control/api_error.h"
#include "pipeline/config.h"

namespace sluice::control {

struct ValidationOptions {
  bool check_tables = true;  // DESCRIBE the table(s) the mapping writes to
  std::chrono::milliseconds timeout{5000};
};

// 400 for a body that is not JSON, 422 with `errors` for an invalid document.
ApiError ValidateDocument(std::string_view body, const ValidationOptions& o,
                          pipeline::PipelineConfig* out);

// The mapping checked without ClickHouse: fields of the flattened OTLP schema and types
// ClickHouse has ([{field, code, message}], empty when fine). `sluice validate` runs it too.
nlohmann::json MappingErrors(const pipeline::PipelineConfig& c);

// The field errors of a ParsePipeline message (one problem per line).
nlohmann::json FieldErrorsOf(std::string_view message, const pipeline::PipelineConfig* config);

}  // namespace sluice::control
