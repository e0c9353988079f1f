// Reads a pipeline's tables from ClickHouse (server version, DESCRIBE, engine) and binds
// the mapping to them: the insert plan of each route. Used by the worker at start and after
// a table-level failure, and by `sluice validate --check-clickhouse`.
// Thread-safe (the client is the caller's).
#pragma once

#include <string>
#include <vector>

#include "clickhouse/client.h"
#include "core/status.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"

namespace sluice::pipeline {

struct TablePlan {
  Routes routes;
  std::vector<std::string> describes;  // per route: the DESCRIBE output the plan was built on
  std::vector<bool> null_engine;       // per route: the table's engine is Null
  bool dedup_token = false;            // the server takes insert_deduplication_token (22.2+)
};

// The tables a pipeline writes: (metric type, table) for a metrics pipeline with one table
// per metric type, else ("", its table).
std::vector<std::pair<std::string, std::string>> SinkTables(const PipelineConfig& config);

// Errors: the server's (unreachable, no such table, access denied) or the mapping's
// (FailedPrecondition naming the field, the column and the type).
StatusOr<TablePlan> ReadTables(const PipelineConfig& config, clickhouse::Client& client);

}  // namespace sluice::pipeline
