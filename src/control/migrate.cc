#include "control/migrate.h"

#include "absl/strings/escaping.h"
#include "core/cat.h"

namespace sluice::control {

using nlohmann::json;

namespace {

json Get(const json& o, const char* key) {
  return o.is_object() && o.contains(key) ? o[key] : json();
}
std::string Text(const json& o, const char* key) {
  const json v = Get(o, key);
  return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
}
bool Flag(const json& o, const char* key) {
  const json v = Get(o, key);
  return v.is_boolean() && v.get<bool>();
}

// v2 kept the ClickHouse password in base64; v3 keeps it as it is.
std::string PlainPassword(const std::string& b64) {
  std::string plain;
  if (!b64.empty() && absl::Base64Unescape(b64, &plain)) return plain;
  return b64;
}

}  // namespace

StatusOr<json> MigrateV2ToV3(const json& v2) {
  if (!v2.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  const std::string version = Text(v2, "version");
  if (!version.empty() && version != "v2")
    return absl::InvalidArgumentError(Cat("version: '", version, "' is not \"v2\""));
  const json source = Get(v2, "source");
  if (!source.is_object()) return absl::InvalidArgumentError("source: is required");
  const std::string type = Text(source, "type");
  json v3 = json::object();
  v3["version"] = "v3";
  v3["pipeline_id"] = Text(v2, "pipeline_id");
  if (v2.contains("name")) v3["name"] = v2["name"];
  json sources = json::array();
  json transforms = json::array();
  if (type.rfind("otlp.", 0) == 0) {
    std::string sid = Text(source, "id");
    if (sid.empty()) sid = type.substr(5);
    sources.push_back({{"type", type}, {"source_id", sid}});
  } else {
    const json topics = Get(source, "topics");
    if (!topics.is_array() || topics.empty())
      return absl::InvalidArgumentError("source.topics: at least one topic is required");
    const json schema_fields = Get(Get(v2, "schema"), "fields");
    for (const json& t : topics) {
      const std::string name = Text(t, "name");
      std::string sid = Text(t, "id");
      if (sid.empty()) sid = name;
      json s = {{"type", type.empty() ? "kafka" : type}, {"source_id", sid}, {"topic", name}};
      if (source.contains("connection_params"))
        s["connection_params"] = source["connection_params"];
      if (t.contains("consumer_group_initial_offset"))
        s["consumer_group_initial_offset"] = t["consumer_group_initial_offset"];
      if (t.contains("schema_version")) s["schema_version"] = t["schema_version"];
      if (t.contains("schema_registry")) s["schema_registry"] = t["schema_registry"];
      json fields = json::array();
      json from =
          t.contains("schema_fields") ? t["schema_fields"] : Get(Get(t, "schema"), "fields");
      if (from.is_array()) {
        fields = from;
      } else if (schema_fields.is_array()) {
        for (const json& f : schema_fields)
          if (Text(f, "source_id") == name || Text(f, "source_id") == sid)
            fields.push_back({{"name", Text(f, "name")}, {"type", Text(f, "type")}});
      }
      s["schema_fields"] = fields;
      sources.push_back(std::move(s));
      const json dedup = Get(t, "deduplication");
      if (Flag(dedup, "enabled")) {
        std::string key = Text(dedup, "key");
        if (key.empty()) key = Text(dedup, "id_field");
        transforms.push_back(
            {{"type", "dedup"},
             {"source_id", sid},
             {"config", {{"key", key}, {"time_window", Text(dedup, "time_window")}}}});
      }
    }
  }
  v3["sources"] = sources;
  const std::string first_source = sources[0].value("source_id", "");
  if (const json filter = Get(v2, "filter"); Flag(filter, "enabled")) {
    // v2 dropped the records the expression matched; v3 keeps them: the test is negated.
    transforms.push_back(
        {{"type", "filter"},
         {"source_id", first_source},
         {"config", {{"expression", Cat("!(", Text(filter, "expression"), ")")}}}});
  }
  if (const json st = Get(v2, "stateless_transformation"); Flag(st, "enabled")) {
    std::string sid = Text(st, "source_id");
    if (sid.empty()) sid = first_source;
    transforms.push_back({{"type", "stateless"},
                          {"source_id", sid},
                          {"config", {{"transforms", Get(Get(st, "config"), "transform")}}}});
  }
  if (!transforms.empty()) v3["transforms"] = transforms;
  if (const json join = Get(v2, "join"); Flag(join, "enabled")) {
    json j = {{"enabled", true},
              {"type", Text(join, "type").empty() ? "temporal" : Text(join, "type")}};
    if (const json js = Get(join, "sources"); js.is_array())
      for (const json& s : js)
        j[Text(s, "orientation") == "right" ? "right_source" : "left_source"] = {
            {"source_id", Text(s, "source_id")},
            {"key", Text(s, "join_key")},
            {"time_window", Text(s, "time_window")}};
    json out = json::array();
    if (const json fs = Get(join, "fields"); fs.is_array())
      for (const json& f : fs) {
        json o = {{"source_id", Text(f, "source_id")}, {"name", Text(f, "source_name")}};
        if (!Text(f, "output_name").empty()) o["output_name"] = Text(f, "output_name");
        out.push_back(o);
      }
    j["output_fields"] = out;
    v3["join"] = j;
  }
  const json sink = Get(v2, "sink");
  if (!sink.is_object()) return absl::InvalidArgumentError("sink: is required");
  const json cp = sink.contains("connection_params") ? sink["connection_params"] : sink;
  json conn = json::object();
  for (const char* k : {"host", "port", "http_port", "database", "username"})
    if (!Text(cp, k).empty()) conn[k] = Text(cp, k);
  conn["password"] = PlainPassword(Text(cp, "password"));
  conn["secure"] = Flag(cp, "secure");
  conn["skip_certificate_verification"] = Flag(cp, "skip_certificate_verification");
  json v3sink = {
      {"type", "clickhouse"}, {"connection_params", conn}, {"table", Text(sink, "table")}};
  if (sink.contains("max_batch_size")) v3sink["max_batch_size"] = sink["max_batch_size"];
  if (sink.contains("max_delay_time")) v3sink["max_delay_time"] = sink["max_delay_time"];
  json mapping = json::array();
  if (const json m = Get(sink, "mapping"); m.is_array()) {
    mapping = m;
  } else if (const json tm = Get(sink, "table_mapping"); tm.is_array()) {
    for (const json& e : tm) {
      std::string name = Text(e, "name");
      if (name.empty()) name = Text(e, "field_name");
      mapping.push_back({{"name", name},
                         {"column_name", Text(e, "column_name")},
                         {"column_type", Text(e, "column_type")}});
    }
  } else if (const json sf = Get(Get(v2, "schema"), "fields"); sf.is_array()) {
    for (const json& f : sf)
      if (!Text(f, "column_name").empty())
        mapping.push_back({{"name", Text(f, "name")},
                           {"column_name", Text(f, "column_name")},
                           {"column_type", Text(f, "column_type")}});
  }
  v3sink["mapping"] = mapping;
  v3["sink"] = v3sink;
  if (v2.contains("metadata")) v3["metadata"] = v2["metadata"];
  if (const json pr = Get(v2, "pipeline_resources"); pr.is_object()) {
    json res = json::object();
    if (pr.contains("nats")) res["nats"] = pr["nats"];
    if (pr.contains("sink")) res["sink"] = pr["sink"];
    if (const json t = Get(pr, "transform"); t.is_object()) {
      json tr = t;
      tr["source_id"] = first_source;
      res["transform"] = json::array({tr});
    }
    if (const json ing = Get(pr, "ingestor"); ing.is_object()) {
      json srcs = json::array();
      for (size_t i = 0; i < sources.size(); ++i) {
        const char* slot = sources.size() == 1 ? "base" : i == 0 ? "left" : "right";
        json r = Get(ing, slot);
        if (!r.is_object()) continue;
        r["source_id"] = sources[i].value("source_id", "");
        srcs.push_back(r);
      }
      if (!srcs.empty()) res["sources"] = srcs;
    }
    v3["resources"] = res;
  }
  return v3;
}

}  // namespace sluice::control
