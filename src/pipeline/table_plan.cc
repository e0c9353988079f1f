#include "pipeline/table_plan.h"

#include <cstdio>

#include "core/cat.h"

namespace sluice::pipeline {

std::vector<std::pair<std::string, std::string>> SinkTables(const PipelineConfig& config) {
  if (!config.sink.tables_by_metric_type.empty()) return config.sink.tables_by_metric_type;
  return {{"", config.sink.table}};
}

StatusOr<TablePlan> ReadTables(const PipelineConfig& config, clickhouse::Client& client) {
  TablePlan out;
  const auto& db = config.sink.endpoint.database;
  const std::vector<std::pair<std::string, std::string>> tables = SinkTables(config);
  const bool routed = !config.sink.tables_by_metric_type.empty();
  // insert_deduplication_token exists from ClickHouse 22.2; older servers reject it.
  if (auto v = client.Query("SELECT version()"); v.ok()) {
    int major = 0, minor = 0;
    std::sscanf(v->c_str(), "%d.%d", &major, &minor);
    out.dedup_token = major > 22 || (major == 22 && minor >= 2);
  } else {
    return v.status();
  }
  Routes routes;
  std::vector<std::string> describes;
  std::vector<bool> null_engine;
  std::vector<bool> bound(config.sink.mapping.size(), false);
  for (auto& [kind, table] : tables) {
    auto desc = client.Query(clickhouse::DescribeStatement(db, table));
    if (!desc.ok()) return desc.status();
    auto cols = clickhouse::ParseDescribe(*desc);
    if (!cols.ok()) return cols.status();
    std::vector<bool> used;
    auto plan = clickhouse::BuildPlan(config.signal, config.sink.mapping, *cols, db, table,
                                      routed ? &used : nullptr, config.outputs);
    if (!plan.ok())
      return absl::Status(plan.status().code(), Cat(table, ": ", plan.status().message()));
    // A Null table stores nothing (only its views do), which decides how a batch that a
    // view rejected is handled (Deliver).
    auto engine = client.Query(
        Cat("SELECT engine FROM system.tables WHERE database = ", clickhouse::QuoteString(db),
            " AND name = ", clickhouse::QuoteString(table), " FORMAT TabSeparated"));
    null_engine.push_back(engine.ok() && *engine == "Null\n");
    for (size_t i = 0; i < used.size(); ++i) bound[i] = bound[i] || used[i];
    routes.tables.push_back(table);
    routes.plans.push_back(std::move(*plan));
    describes.push_back(std::move(*desc));
  }
  if (routed) {
    for (size_t i = 0; i < bound.size(); ++i)
      if (!bound[i])
        return absl::FailedPreconditionError(Cat("column '", config.sink.mapping[i].column_name,
                                                 "' (mapped from '", config.sink.mapping[i].name,
                                                 "') exists in none of the metric tables"));
    static constexpr std::string_view kKinds[] = {"",          "gauge",         "sum",
                                                  "histogram", "exp_histogram", "summary"};
    for (int k = 0; k < 6; ++k) {
      routes.by_kind[k] = -1;
      for (size_t r = 0; r < tables.size(); ++r)
        if (tables[r].first == kKinds[k]) routes.by_kind[k] = static_cast<int>(r);
    }
  }
  out.routes = std::move(routes);
  out.describes = std::move(describes);
  out.null_engine = std::move(null_engine);
  return out;
}

}  // namespace sluice::pipeline
