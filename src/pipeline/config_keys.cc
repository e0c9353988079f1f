#include "pipeline/config_keys.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "core/cat.h"

namespace sluice::pipeline {

const KeyShapes& PipelineKeyShapes() {
  static const auto* shapes = new KeyShapes{
      {"",
       {"version", "pipeline_id", "name", "sources", "transforms", "join", "sink", "metadata",
        "resources", "exported_at", "exported_by"}},
      {"sources[]",
       {"type", "source_id", "connection_params", "topic", "consumer_group_initial_offset",
        "schema_fields", "schema_version", "schema_registry", "format", "schema"}},
      {"transforms[]", {"type", "source_id", "config"}},
      {"transforms[].config", {"expression", "key", "time_window", "transforms", "transform"}},
      {"transforms[].config.transforms[]", {"expression", "output_name", "output_type"}},
      {"transforms[].config.transform[]", {"expression", "output_name", "output_type"}},
      {"join", {"enabled", "type", "left_source", "right_source", "output_fields"}},
      {"metadata", {"tags"}},
      {"sink",
       {"type", "provider", "connection_params", "table", "tables_by_metric_type", "max_batch_size",
        "max_delay_time", "mapping", "source_id",
        // connection parameters flat on the sink (older documents)
        "host", "hosts", "port", "http_port", "protocol", "database", "username", "password",
        "password_env", "password_file", "secure", "skip_certificate_verification", "tls_ca_file",
        "tls_cert_file", "tls_key_file", "tls_server_name", "compression"}},
      {"sink.connection_params",
       {"host", "hosts", "port", "http_port", "protocol", "database", "username", "password",
        "password_env", "password_file", "secure", "skip_certificate_verification", "tls_ca_file",
        "tls_cert_file", "tls_key_file", "tls_server_name", "compression"}},
      {"sink.mapping[]", {"name", "column_name", "column_type"}},
      {"resources", {"nats", "sources", "transform", "sink", "join", "ingestor"}},
      {"resources.nats", {"stream"}},
      {"resources.nats.stream",
       {"maxAge", "maxBytes", "maxMsgs", "max_age", "max_bytes", "max_msgs"}},
  };
  return *shapes;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions, adjacent swaps.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

void Walk(const YAML::Node& node, const KeyShapes& shapes, const std::string& shape,
          const std::string& path, std::vector<std::string>* out) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      Walk(node[i], shapes, shape + "[]", Cat(path, "[", i, "]"), out);
    return;
  }
  if (!node.IsMap()) return;
  auto it = shapes.find(shape);
  if (it == shapes.end()) return;  // free-form
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>("");
    const auto& allowed = it->second;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string m = Cat("unknown key '", key, "' ",
                          path.empty() ? std::string("at the top level") : Cat("in ", path));
      if (auto near = ClosestMatch(key, allowed); !near.empty())
        m += Cat("; did you mean '", near, "'?");
      out->push_back(std::move(m));
      continue;
    }
    const std::string child_shape = shape.empty() ? key : Cat(shape, ".", key);
    const std::string child_path = path.empty() ? key : Cat(path, ".", key);
    Walk(kv.second, shapes, child_shape, child_path, out);
  }
}

}  // namespace

std::string_view ClosestMatch(std::string_view word,
                              const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  if (word.size() > 64) return best;  // not a typo of a key; keeps the table small
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A typo: one or two edits, or up to a third of a longer word.
  if (best_d <= std::max<size_t>(2, word.size() / 3) && best_d < word.size()) return best;
  return {};
}

std::vector<std::string> UnknownKeys(const YAML::Node& root, const KeyShapes& shapes) {
  std::vector<std::string> out;
  Walk(root, shapes, "", "", &out);
  return out;
}

}  // namespace sluice::pipeline
