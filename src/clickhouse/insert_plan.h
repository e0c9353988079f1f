// Binds a pipeline's sink mapping to the real columns of its ClickHouse table, once at
// pipeline start. Every mismatch (missing column, incompatible type, unmatched Nested
// sub-column) is an error that fails the pipeline, never a silent drop.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "clickhouse/rowbinary.h"
#include "core/signal.h"
#include "core/status.h"

namespace sluice::clickhouse {

struct TableColumn {
  std::string name;
  Type type;
  std::string default_kind;  // "", DEFAULT, MATERIALIZED, ALIAS
};

// The statement whose TabSeparated answer ParseDescribe reads.
std::string DescribeStatement(std::string_view database, std::string_view table);
// Parses the TabSeparated output of DESCRIBE TABLE.
StatusOr<std::vector<TableColumn>> ParseDescribe(const std::string& tsv);

struct MappingEntry {
  std::string name;  // flattened field name or dotted path
  std::string column_name;
  std::string column_type;  // as declared in the pipeline (informational; the table wins)
};

struct InsertPlan {
  std::vector<ColumnBinding> columns;
  // INSERT INTO `db`.`t` (...), completed by the protocol: FORMAT RowBinary (HTTP) or
  // VALUES (native, the data following as blocks).
  std::string insert_into;
};

// With a stateless transform, `outputs` are the fields the mapping names (its outputs).
// With `used` set, entries whose column the table lacks are skipped instead of failing,
// and used[i] records whether entry i was bound (for one table among several).
StatusOr<InsertPlan> BuildPlan(Signal signal, const std::vector<MappingEntry>& mapping,
                               const std::vector<TableColumn>& table, const std::string& database,
                               const std::string& table_name, std::vector<bool>* used = nullptr,
                               std::span<const otlp::FieldInfo> outputs = {});

// Backtick-quotes an identifier.
std::string QuoteIdent(std::string_view name);
// A string literal: 'text' with quotes and backslashes escaped.
std::string QuoteString(std::string_view s);

}  // namespace sluice::clickhouse
