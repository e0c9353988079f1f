// The Controller's routes for the web console: validate without creating, the live table
// beside the mapping, and a marked test record followed from the buffer to where it lands.
#include <charconv>
#include <future>

#include "clickhouse/client.h"
#include "clickhouse/insert_plan.h"
#include "control/controller.h"
#include "control/stats_json.h"
#include "core/cat.h"
#include "core/random_id.h"
#include "core/wall_clock.h"
#include "otlp/json.h"
#include "pipeline/table_plan.h"

namespace sluice::control {

using nlohmann::json;

namespace {

using clickhouse::TableColumn;

StatusOr<std::vector<TableColumn>> Describe(clickhouse::Client& client, const std::string& db,
                                            const std::string& table) {
  auto d = client.Query(clickhouse::DescribeStatement(db, table));
  if (!d.ok()) return d.status();
  return clickhouse::ParseDescribe(*d);
}

// One record of the signal, as OTLP/JSON, marked with `marker` in its body or name and in
// the attribute sluice.test_id.
std::string TestRequestJson(Signal signal, const std::string& marker, int64_t unix_ms) {
  const std::string ns = Cat(static_cast<uint64_t>(unix_ms) * 1000000u);
  const json attrs = json::array({{{"key", "sluice.test_id"}, {"value", {{"stringValue", marker}}}},
                                  {{"key", "sluice.test"}, {"value", {{"boolValue", true}}}}});
  const json resource = {
      {"attributes",
       json::array({{{"key", "service.name"}, {"value", {{"stringValue", "sluice-console"}}}}})}};
  const json scope = {{"name", "sluice.console"}};
  const std::string text = Cat("sluice test record ", marker);
  json doc;
  switch (signal) {
    case Signal::kLogs:
      doc = {
          {"resourceLogs",
           json::array(
               {{{"resource", resource},
                 {"scopeLogs",
                  json::array({{{"scope", scope},
                                {"logRecords", json::array({{{"timeUnixNano", ns},
                                                             {"observedTimeUnixNano", ns},
                                                             {"severityNumber", 9},
                                                             {"severityText", "INFO"},
                                                             {"body", {{"stringValue", text}}},
                                                             {"attributes", attrs},
                                                             {"traceId", RandomHex(32)},
                                                             {"spanId", RandomHex(16)}}})}}})}}})}};
      break;
    case Signal::kTraces:
      doc = {
          {"resourceSpans",
           json::array({{{"resource", resource},
                         {"scopeSpans",
                          json::array({{{"scope", scope},
                                        {"spans", json::array({{{"traceId", RandomHex(32)},
                                                                {"spanId", RandomHex(16)},
                                                                {"name", text},
                                                                {"kind", 1},
                                                                {"startTimeUnixNano", ns},
                                                                {"endTimeUnixNano", ns},
                                                                {"attributes", attrs}}})}}})}}})}};
      break;
    case Signal::kMetrics:
      doc = {{"resourceMetrics",
              json::array(
                  {{{"resource", resource},
                    {"scopeMetrics",
                     json::array(
                         {{{"scope", scope},
                           {"metrics",
                            json::array({{{"name", "sluice.test_record"},
                                          {"description", text},
                                          {"unit", "1"},
                                          {"gauge",
                                           {{"dataPoints",
                                             json::array({{{"timeUnixNano", ns},
                                                           {"asDouble", 1.0},
                                                           {"attributes", attrs}}})}}}}})}}})}}})}};
      break;
  }
  return doc.dump();
}

// A condition true for rows whose column holds `needle` somewhere in its text, for the
// column types a marker can be written to; empty for the others.
std::string HoldsCondition(const TableColumn& c, const std::string& needle) {
  std::string_view t = c.type.text;
  for (bool more = true; more;) {
    more = false;
    for (std::string_view wrap : {"Nullable(", "LowCardinality("})
      if (t.starts_with(wrap)) {
        t = t.substr(wrap.size());
        more = true;
      }
  }
  const std::string name = clickhouse::QuoteIdent(c.name), lit = clickhouse::QuoteString(needle);
  if (t.starts_with("String") || t.starts_with("FixedString"))
    return Cat("position(toString(", name, "), ", lit, ") > 0");
  if (t.starts_with("Array("))
    return Cat("arrayExists(x -> position(toString(x), ", lit, ") > 0, ", name, ")");
  if (t.starts_with("Map("))
    return Cat("arrayExists(x -> position(toString(x), ", lit, ") > 0, mapValues(", name, "))");
  return "";
}

// Mapping fields a test record's marker can reach a column through.
bool CarriesMarker(std::string_view field) {
  return field == "body" || field == "name" || field == "metric_description" ||
         field.starts_with("attributes");
}

// Another check of ClickHouse for the console is running: asked again shortly.
ApiError Busy() {
  return {503, "busy", "another check of ClickHouse is running; try again in a moment", nullptr,
          nullptr};
}

}  // namespace

ApiError Controller::ConfigOf(const std::string& id, pipeline::PipelineConfig* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.deleting) return NotFound(id);
  *out = it->second.config;
  return {};
}

ApiError Controller::Validate(std::string_view body) const {
  std::unique_lock<std::mutex> one(console_ch_mu_, std::try_to_lock);
  if (!one.owns_lock()) return Busy();
  pipeline::PipelineConfig unused;
  return ValidateDocument(body, opts_.validation, &unused);
}

ApiError Controller::DescribeTable(const std::string& id, json* out) const {
  pipeline::PipelineConfig cfg;
  if (ApiError e = ConfigOf(id, &cfg); !e.ok()) return e;
  std::unique_lock<std::mutex> one(console_ch_mu_, std::try_to_lock);
  if (!one.owns_lock()) return Busy();
  clickhouse::Client client(cfg.sink.endpoint, opts_.validation.timeout);
  json tables = json::array();
  std::map<std::string, std::string> found;  // column -> its type, over every table
  for (const auto& [metric_type, table] : pipeline::SinkTables(cfg)) {
    json t = {{"database", cfg.sink.endpoint.database}, {"table", table}};
    if (!metric_type.empty()) t["metric_type"] = metric_type;
    auto cols = Describe(client, cfg.sink.endpoint.database, table);
    if (!cols.ok()) {
      if (IsRetryable(cols.status()))
        return Unavailable(Cat("ClickHouse at ", cfg.sink.endpoint.Describe(),
                               " does not answer: ", cols.status().message()));
      t["error"] = std::string(cols.status().message());
      t["columns"] = json::array();
    } else {
      json columns = json::array();
      for (const TableColumn& c : *cols) {
        columns.push_back(
            {{"name", c.name}, {"type", c.type.text}, {"default_kind", c.default_kind}});
        found.emplace(c.name, c.type.text);
      }
      t["columns"] = std::move(columns);
    }
    tables.push_back(std::move(t));
  }
  json mapping = json::array();
  for (const auto& m : cfg.sink.mapping) {
    json row = {{"name", m.name}, {"column_name", m.column_name}, {"column_type", m.column_type}};
    auto it = found.find(m.column_name);
    // A Nested column is in the table as its sub-columns (Attrs.key, Attrs.value).
    const bool nested = it == found.end() && found.lower_bound(m.column_name + ".") !=
                                                 found.lower_bound(m.column_name + "/");
    row["in_table"] = it != found.end() || nested;
    row["table_type"] = it != found.end() ? json(it->second) : json(nullptr);
    mapping.push_back(std::move(row));
  }
  *out = {{"tables", std::move(tables)}, {"mapping", std::move(mapping)}};
  return {};
}

ApiError Controller::SendTestRecord(const std::string& id, json* out) {
  pipeline::PipelineConfig cfg;
  if (ApiError e = ConfigOf(id, &cfg); !e.ok()) return e;
  auto p = registry_.Find(id);
  if (!p) return Unavailable(Cat("pipeline '", id, "' is not loaded"));
  const std::string marker = RandomHex(16);
  const int64_t now = UnixMillis();
  std::string request;
  if (Status s = otlp::JsonToProto(cfg.signal, TestRequestJson(cfg.signal, marker, now), &request);
      !s.ok())
    return Unavailable(Cat("the test record cannot be built: ", s.message()));
  std::promise<Status> sent;
  auto result = sent.get_future();
  p->SubmitAsync(
      std::move(request), 1, [] { return absl::OkStatus(); },
      [&sent](Status s) { sent.set_value(std::move(s)); });
  if (Status s = result.get(); !s.ok())
    return Unavailable(Cat("the buffer did not take the test record: ", s.message()));
  // Every entry below the log's next sequence number now includes the record's: once the
  // checkpoint reaches it, the pipeline is done with the record (entries are acknowledged
  // in order, after ClickHouse confirmed their rows).
  const pipeline::Pipeline::Snapshot snap = p->TakeSnapshot();
  if (!snap.storage_ready) return Unavailable("the pipeline's buffer closed meanwhile");
  *out = {{"test_id", Cat(marker, "-", snap.buffer.next_seq)},
          {"marker", marker},
          {"text", Cat("sluice test record ", marker)},
          {"sent_at", TimeJson(now)}};
  return {};
}

ApiError Controller::TestRecordStatus(const std::string& id, const std::string& test_id,
                                      json* out) {
  const size_t dash = test_id.find('-');
  uint64_t through = 0;
  const char* end = test_id.data() + test_id.size();
  if (dash != 16 || test_id.find_first_not_of("0123456789abcdef") < dash || [&] {
        auto [ptr, ec] = std::from_chars(test_id.data() + dash + 1, end, through);
        return ec != std::errc() || ptr != end;
      }())
    return Unprocessable("query.test_id", "invalid",
                         Cat("'", test_id, "' is not a test id that test-record returned"));
  const std::string marker = test_id.substr(0, dash);
  pipeline::PipelineConfig cfg;
  if (ApiError e = ConfigOf(id, &cfg); !e.ok()) return e;
  *out = {{"test_id", test_id}, {"marker", marker}};
  {
    auto p = registry_.Find(id);
    const pipeline::Pipeline::Snapshot snap =
        p ? p->TakeSnapshot() : pipeline::Pipeline::Snapshot{};
    // Not known to be done with it (the buffer may be opening during a resume): buffered.
    if (!p || !snap.storage_ready || snap.buffer.checkpoint < through) {
      (*out)["status"] = "buffered";
      (*out)["detail"] =
          !p || !snap.storage_ready ? "the pipeline's buffer is not open at the moment"
          : snap.error.empty()      ? "in the buffer, waiting for its batch to be written"
                                    : Cat("in the buffer; the pipeline's last error: ", snap.error);
      return {};
    }
  }
  // The interactive checks of ClickHouse run one at a time: each may wait for ClickHouse
  // on one of the admin listener's threads, and the other must stay free (/metrics).
  std::unique_lock<std::mutex> one(console_ch_mu_, std::try_to_lock);
  if (!one.owns_lock()) return Busy();
  json letter;
  bool complete = true;
  if (ApiError e = DlqFind(id, marker, &letter, &complete); !e.ok()) return e;
  if (!letter.is_null()) {
    (*out)["status"] = "dead_lettered";
    (*out)["detail"] = Cat("dead letter ", letter.value("message_id", uint64_t{0}), ": ",
                           letter.value("error", ""));
    (*out)["dead_letter"] = std::move(letter);
    return {};
  }
  clickhouse::Client client(cfg.sink.endpoint, opts_.validation.timeout);
  json searched = json::array();
  for (const auto& [metric_type, table] : pipeline::SinkTables(cfg)) {
    auto cols = Describe(client, cfg.sink.endpoint.database, table);
    if (!cols.ok()) {
      if (IsRetryable(cols.status()))
        return Unavailable(Cat("ClickHouse at ", cfg.sink.endpoint.Describe(),
                               " does not answer: ", cols.status().message()));
      continue;
    }
    std::string where;
    json names = json::array();
    for (const auto& m : cfg.sink.mapping) {
      if (!CarriesMarker(m.name)) continue;
      for (const TableColumn& c : *cols) {
        if (c.name != m.column_name && !c.name.starts_with(m.column_name + ".")) continue;
        const std::string cond = HoldsCondition(c, marker);
        if (cond.empty()) continue;
        where += where.empty() ? cond : Cat(" OR ", cond);
        names.push_back(c.name);
      }
    }
    if (where.empty()) continue;
    const std::string qualified =
        Cat(clickhouse::QuoteIdent(cfg.sink.endpoint.database), ".", clickhouse::QuoteIdent(table));
    // Stops at the first row found; a table without it is read through (bounded by the
    // client's timeout).
    auto n = client.Query(Cat("SELECT count() FROM (SELECT 1 FROM ", qualified, " WHERE ", where,
                              " LIMIT 1) FORMAT TabSeparated"));
    if (!n.ok()) {
      if (IsRetryable(n.status()))
        return Unavailable(Cat("ClickHouse at ", cfg.sink.endpoint.Describe(),
                               " does not answer: ", n.status().message()));
      continue;
    }
    searched.push_back({{"table", table}, {"columns", names}});
    if (n->empty() || (*n)[0] == '0') continue;
    (*out)["status"] = "landed";
    (*out)["table"] = Cat(cfg.sink.endpoint.database, ".", table);
    (*out)["columns"] = std::move(names);
    (*out)["detail"] = Cat("written to ", cfg.sink.endpoint.database, ".", table);
    return {};
  }
  (*out)["status"] = "not_found";
  (*out)["detail"] =
      searched.empty()
          ? "the pipeline is done with it, but no mapped column carries the marker (body, name "
            "or attributes) to find its row by"
          : Cat("the pipeline is done with it but no row holds the marker: its filter dropped it, "
                "dedup took it for a duplicate, or a transform removed the marker",
                complete ? "" : " (only the first 256 MiB of dead letters were searched)");
  (*out)["searched"] = std::move(searched);
  return {};
}

}  // namespace sluice::control
