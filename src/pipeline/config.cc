#include "pipeline/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>

#include "core/cat.h"
#include "core/json_syntax.h"
#include "pipeline/config_keys.h"
#include "pipeline/connection_params.h"
#include "pipeline/yaml_fields.h"
#include "transform/transforms.h"

namespace sluice::pipeline {

bool ValidPipelineId(std::string_view id) {
  if (id.size() < 5 || id.size() > 40) return false;
  if (!(id.front() >= 'a' && id.front() <= 'z')) return false;
  char last = id.back();
  if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (c == '-' && i + 1 < id.size() && id[i + 1] == '-') return false;
  }
  return true;
}

bool ParseDuration(std::string_view s, std::chrono::milliseconds* out) {
  if (s.empty()) return false;
  if (s == "0") {
    *out = std::chrono::milliseconds(0);
    return true;
  }
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (start == i) return false;
    double v;
    auto r = std::from_chars(s.data() + start, s.data() + i, v);
    if (r.ec != std::errc()) return false;
    size_t ustart = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    double ms;
    if (unit == "ns")
      ms = v / 1e6;
    else if (unit == "us" || unit == "µs")
      ms = v / 1e3;
    else if (unit == "ms")
      ms = v;
    else if (unit == "s")
      ms = v * 1e3;
    else if (unit == "m")
      ms = v * 60e3;
    else if (unit == "h")
      ms = v * 3600e3;
    else if (unit == "d")
      ms = v * 86400e3;
    else
      return false;
    total_ms += ms;
    if (!(total_ms <= 1e15)) return false;  // ~31,000 years: past it, not a duration
  }
  *out = std::chrono::milliseconds(static_cast<int64_t>(std::llround(total_ms)));
  return true;
}

bool ParseByteSize(std::string_view s, uint64_t* out) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return false;
  double v;
  auto r = std::from_chars(s.data(), s.data() + i, v);
  if (r.ec != std::errc()) return false;
  std::string_view unit = s.substr(i);
  static constexpr std::pair<std::string_view, double> kUnits[] = {{"", 1},
                                                                   {"B", 1},
                                                                   {"k", 1e3},
                                                                   {"K", 1e3},
                                                                   {"KB", 1e3},
                                                                   {"M", 1e6},
                                                                   {"MB", 1e6},
                                                                   {"G", 1e9},
                                                                   {"GB", 1e9},
                                                                   {"T", 1e12},
                                                                   {"TB", 1e12},
                                                                   {"Ki", 1024.0},
                                                                   {"KiB", 1024.0},
                                                                   {"Mi", 1048576.0},
                                                                   {"MiB", 1048576.0},
                                                                   {"Gi", 1073741824.0},
                                                                   {"GiB", 1073741824.0},
                                                                   {"Ti", 1099511627776.0},
                                                                   {"TiB", 1099511627776.0}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      *out = static_cast<uint64_t>(v * mult);
      return true;
    }
  }
  return false;
}

namespace {

// transforms[]: at most one each of filter, dedup and stateless, for the pipeline's source;
// compiled and checked against the source's flattened schema.
Status ParseTransforms(const YAML::Node& tr, PipelineConfig* p) {
  transform::TransformSpec& spec = p->transforms;
  for (size_t i = 0; i < tr.size(); ++i) {
    const YAML::Node t = tr[i];
    const std::string at = Cat("transforms[", i, "]");
    const std::string type = Trim(Str(t["type"]));
    const std::string source = Trim(Str(t["source_id"]));
    if (source != p->source_id)
      return Invalid(Cat(at, ".source_id"),
                     Cat("'", source, "' is not a source of this pipeline (", p->source_id, ")"));
    const YAML::Node c = t["config"];
    if (!c || !c.IsMap()) return Invalid(Cat(at, ".config"), "is required");
    if (type == "filter") {
      if (spec.filter) return Invalid(at, "a pipeline has at most one filter");
      spec.filter = true;
      spec.filter_index = static_cast<int>(i);
      spec.filter_expression = Str(c["expression"]);
      if (Trim(spec.filter_expression).empty())
        return Invalid(Cat(at, ".config.expression"), "is required");
    } else if (type == "dedup") {
      if (spec.dedup) return Invalid(at, "a source has at most one dedup");
      spec.dedup = true;
      spec.dedup_index = static_cast<int>(i);
      spec.dedup_key = Trim(Str(c["key"]));
      if (spec.dedup_key.empty()) return Invalid(Cat(at, ".config.key"), "is required");
      const std::string w = Trim(Str(c["time_window"]));
      if (w.empty() || !ParseDuration(w, &spec.dedup_window) || spec.dedup_window.count() <= 0)
        return Invalid(Cat(at, ".config.time_window"),
                       Cat("'", w, "' is not a positive duration such as \"1h\""));
      if (spec.dedup_window > transform::kMaxDedupWindow)
        return Invalid(Cat(at, ".config.time_window"),
                       Cat("'", w, "' is longer than the maximum of 7 days (168h)"));
    } else if (type == "stateless") {
      if (spec.stateless) return Invalid(at, "a pipeline has at most one stateless transform");
      spec.stateless = true;
      spec.stateless_index = static_cast<int>(i);
      // "transforms" in v3 documents; "transform" as GlassFlow names it internally.
      const char* key = c["transforms"] ? "transforms" : "transform";
      const YAML::Node list = c[key];
      if (!list || !list.IsSequence() || list.size() == 0)
        return Invalid(Cat(at, ".config.transforms"),
                       "must list at least one {expression, output_name, output_type}");
      for (size_t k = 0; k < list.size(); ++k) {
        transform::StatelessOutput o;
        o.expression = Str(list[k]["expression"]);
        o.output_name = Trim(Str(list[k]["output_name"]));
        o.output_type = Trim(Str(list[k]["output_type"]));
        const std::string item = Cat(at, ".config.", key, "[", k, "]");
        if (Trim(o.expression).empty()) return Invalid(Cat(item, ".expression"), "is required");
        if (o.output_name.empty()) return Invalid(Cat(item, ".output_name"), "is required");
        if (o.output_type.empty()) return Invalid(Cat(item, ".output_type"), "is required");
        spec.outputs.push_back(std::move(o));
      }
    } else {
      return Invalid(Cat(at, ".type"), Cat("'", type, "' is not one of filter, dedup, stateless"));
    }
  }
  if (spec.empty()) return absl::OkStatus();
  auto compiled = transform::Transforms::Compile(p->signal, spec);
  if (!compiled.ok())  // "transforms[i].config.<field>: <expr's error, position, caret line>"
    return absl::InvalidArgumentError(Cat("pipeline ", compiled.status().message()));
  p->outputs.assign((*compiled)->outputs().begin(), (*compiled)->outputs().end());
  return absl::OkStatus();
}

}  // namespace

StatusOr<PipelineConfig> ParsePipeline(const std::string& json, DocFormat format) {
  // A JSON document is checked as JSON first: YAML's parser, which reads both, reports
  // JSON mistakes at the wrong place.
  const size_t first = json.find_first_not_of(" \t\r\n");
  const bool as_json =
      format == DocFormat::kJson || (format == DocFormat::kAuto && first != std::string::npos &&
                                     (json[first] == '{' || json[first] == '['));
  if (as_json) {
    if (JsonSyntaxError e = CheckJsonSyntax(json); e.line != 0)
      return absl::InvalidArgumentError(
          Cat("not valid JSON: line ", e.line, ", column ", e.column, ": ", e.message));
  }
  YAML::Node root;
  try {
    root = YAML::Load(json);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        Cat("not valid YAML: line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap())
    return absl::InvalidArgumentError(
        "a pipeline document must be an object (a JSON object or YAML mapping)");
  if (std::vector<std::string> unknown = UnknownKeys(root, PipelineKeyShapes()); !unknown.empty()) {
    std::string m;
    for (const auto& u : unknown) m += Cat(m.empty() ? "" : "\n", u);
    return absl::InvalidArgumentError(m);
  }
  PipelineConfig p;
  p.document = json;
  try {
    std::string version = Trim(Str(root["version"]));
    if (!version.empty() && version != "v3")
      return Invalid("version", Cat("'", version, "' is not supported (use \"v3\")"));
    p.id = Trim(Str(root["pipeline_id"]));
    if (!ValidPipelineId(p.id))
      return Invalid("pipeline_id",
                     Cat("'", p.id,
                         "' must be 5-40 characters of a-z, 0-9 and '-', start with a "
                         "letter, end with a letter or digit, and not contain '--'"));
    p.name = Str(root["name"]);
    if (p.name.empty()) p.name = p.id;

    const YAML::Node sources = root["sources"];
    if (!sources || !sources.IsSequence() || sources.size() != 1)
      return Invalid("sources", "exactly one OTLP source is required");
    const YAML::Node src = sources[0];
    std::string type = Trim(Str(src["type"]));
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto sig = SignalFromSourceType(type);
    if (!sig)
      return Invalid("sources[0].type",
                     Cat("'", type, "' is not otlp.logs, otlp.metrics or otlp.traces"));
    p.signal = *sig;
    p.source_id = Trim(Str(src["source_id"]));
    if (p.source_id.empty()) return Invalid("sources[0].source_id", "is required");
    for (const char* forbidden : {"connection_params", "topic", "schema_fields", "schema_registry"})
      if (src[forbidden])
        return Invalid(Cat("sources[0].", forbidden), "is not allowed for OTLP sources");

    if (const YAML::Node tr = root["transforms"]; tr && tr.IsSequence())
      if (Status st = ParseTransforms(tr, &p); !st.ok()) return st;
    if (const YAML::Node rt = root["resources"]["transform"];
        rt && rt.IsSequence() && rt.size() > 0) {
      if (std::string size = Str(rt[0]["storage"]["size"]); !size.empty()) {
        if (!ParseByteSize(size, &p.dedup_bytes) || p.dedup_bytes < (1u << 20))
          return Invalid("resources.transform[0].storage.size",
                         Cat("'", size, "' is not a size of at least 1Mi such as \"10Gi\""));
        if (!p.transforms.dedup)
          return Invalid("resources.transform[0].storage",
                         "is only allowed with a dedup transform");
      }
    }
    if (const YAML::Node join = root["join"];
        join && join.IsMap() && join["enabled"] && join["enabled"].as<bool>(false))
      return Invalid("join", "joins are not available for OTLP sources");

    if (const YAML::Node stream = root["resources"]["nats"]["stream"]; stream && stream.IsMap()) {
      // camelCase as GlassFlow's code reads them; snake_case as its docs write them.
      auto get = [&](const char* camel, const char* snake) {
        return stream[camel] ? Str(stream[camel]) : Str(stream[snake]);
      };
      if (std::string b = get("maxBytes", "max_bytes");
          !b.empty() && b != "0" && !ParseByteSize(b, &p.buffer.max_bytes))
        return Invalid("resources.nats.stream.maxBytes",
                       Cat("'", b, "' is not a size such as \"10Gi\""));
      if (std::string a = get("maxAge", "max_age");
          !a.empty() && !ParseDuration(a, &p.buffer.max_age))
        return Invalid("resources.nats.stream.maxAge", Cat("'", a, "' is not a duration"));
      if (std::string m = get("maxMsgs", "max_msgs"); !m.empty()) {
        long n = std::atol(m.c_str());
        if (n > 0) p.buffer.max_records = static_cast<uint64_t>(n);
      }
    }

    const YAML::Node sink = root["sink"];
    if (!sink || !sink.IsMap()) return Invalid("sink", "is required");
    std::string stype = Str(sink["type"]);
    if (stype != "clickhouse") return Invalid("sink.type", "must be \"clickhouse\"");
    // connection_params may also appear flat on the sink (older documents).
    const YAML::Node cp = sink["connection_params"] ? sink["connection_params"] : sink;
    if (Status st = ParseConnectionParams(cp, &p.sink.endpoint); !st.ok()) return st;
    p.sink.table = Str(sink["table"]);
    if (const YAML::Node by = sink["tables_by_metric_type"]; by && by.IsMap()) {
      if (p.signal != Signal::kMetrics)
        return Invalid("sink.tables_by_metric_type", "applies to otlp.metrics pipelines only");
      for (const auto& kv : by) {
        std::string kind = kv.first.as<std::string>();
        if (kind == "exponential_histogram") kind = "exp_histogram";
        if (kind != "gauge" && kind != "sum" && kind != "histogram" && kind != "exp_histogram" &&
            kind != "summary")
          return Invalid("sink.tables_by_metric_type", Cat("unknown metric type '", kind, "'"));
        p.sink.tables_by_metric_type.emplace_back(kind, kv.second.as<std::string>());
      }
    }
    if (p.sink.table.empty() && p.sink.tables_by_metric_type.empty())
      return Invalid("sink.table", "is required");
    if (sink["max_batch_size"]) {
      long n = sink["max_batch_size"].as<long>(-1);
      if (n <= 0) return Invalid("sink.max_batch_size", "must be a positive integer");
      p.sink.max_batch_size = static_cast<size_t>(n);
    }
    std::string delay = Str(sink["max_delay_time"]);
    if (!delay.empty()) {
      if (!ParseDuration(delay, &p.sink.max_delay))
        return Invalid("sink.max_delay_time",
                       Cat("'", delay, "' is not a duration such as \"1s\""));
      if (p.sink.max_delay.count() == 0) p.sink.max_delay = std::chrono::seconds(60);
    }
    const YAML::Node mapping = sink["mapping"];
    if (!mapping || !mapping.IsSequence() || mapping.size() == 0)
      return Invalid("sink.mapping", "must list at least one {name, column_name, column_type}");
    for (size_t i = 0; i < mapping.size(); ++i) {
      clickhouse::MappingEntry m;
      m.name = Trim(Str(mapping[i]["name"]));
      m.column_name = Trim(Str(mapping[i]["column_name"]));
      m.column_type = Trim(Str(mapping[i]["column_type"]));
      if (m.name.empty() || m.column_name.empty())
        return Invalid(Cat("sink.mapping[", i, "]"), "needs name and column_name");
      p.sink.mapping.push_back(std::move(m));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Cat("pipeline document: ", e.what()));
  }
  return p;
}

}  // namespace sluice::pipeline
