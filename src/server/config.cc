#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "core/cat.h"
#include "pipeline/config.h"
#include "pipeline/config_keys.h"

namespace sluice::server {
namespace {

template <class T>
void Read(const YAML::Node& n, const char* key, T* out) {
  if (n && n[key]) *out = n[key].as<T>();
}

Status ReadDuration(const YAML::Node& n, const char* key, std::chrono::milliseconds* out) {
  if (!n || !n[key]) return absl::OkStatus();
  std::string s = n[key].as<std::string>();
  if (!pipeline::ParseDuration(s, out))
    return absl::InvalidArgumentError(Cat("config ", key, ": '", s, "' is not a duration"));
  return absl::OkStatus();
}

// Every key of the file must be known: a typo would otherwise leave a default in force.
Status CheckKeys(const YAML::Node& root) {
  static const pipeline::KeyShapes kShapes = {
      {"", {"pipelines_dir", "data_dir", "log_level", "http", "grpc", "admin", "limits", "buffer"}},
      {"http", {"address", "port", "io_threads", "max_connections"}},
      {"grpc", {"address", "port"}},
      {"admin", {"address", "port", "enabled"}},
      {"limits",
       {"max_request_bytes", "queue_bytes", "inserts_in_flight", "inflight_bytes", "batch_memory",
        "request_memory", "endpoint_inserts", "shutdown_timeout", "entry_attempts",
        "entry_cpu_budget"}},
      {"buffer", {"fsync", "sync_interval"}},
  };
  if (root.IsNull()) return absl::OkStatus();  // an empty file (or only comments): defaults
  if (!root.IsMap()) return absl::InvalidArgumentError("the config must be a mapping of keys");
  std::string problems;
  for (const std::string& u : pipeline::UnknownKeys(root, kShapes))
    problems += Cat(problems.empty() ? "" : "; ", u);
  if (!problems.empty()) return absl::InvalidArgumentError(problems);
  return absl::OkStatus();
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

StatusOr<ServerConfig> LoadConfig(const std::string& path) {
  ServerConfig c;
  std::string fsync = "always";
  c.grpc.max_message_bytes = c.http.max_body_bytes;
  if (!path.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
      if (Status k = CheckKeys(root); !k.ok())
        return absl::InvalidArgumentError(Cat("config ", path, ": ", k.message()));
      const YAML::Node http = root["http"], grpc = root["grpc"], limits = root["limits"];
      Read(http, "address", &c.http.address);
      Read(http, "port", &c.http.port);
      Read(http, "io_threads", &c.http.io_threads);
      Read(http, "max_connections", &c.http.max_connections);
      const YAML::Node admin = root["admin"];
      Read(admin, "address", &c.admin.address);
      Read(admin, "port", &c.admin.port);
      Read(admin, "enabled", &c.admin_enabled);
      Read(grpc, "address", &c.grpc.address);
      Read(grpc, "port", &c.grpc.port);
      size_t max_request = c.http.max_body_bytes;
      Read(limits, "max_request_bytes", &max_request);
      c.http.max_body_bytes = c.grpc.max_message_bytes = max_request;
      Read(limits, "queue_bytes", &c.limits.queue_bytes);
      Read(limits, "inserts_in_flight", &c.limits.inserts_in_flight);
      Read(limits, "inflight_bytes", &c.limits.inflight_bytes);
      Read(limits, "batch_memory", &c.limits.batch_memory);
      Read(limits, "request_memory", &c.request_memory);
      Read(limits, "endpoint_inserts", &c.limits.endpoint_inserts);
      Status s = ReadDuration(limits, "shutdown_timeout", &c.limits.shutdown_timeout);
      if (!s.ok()) return s;
      Read(limits, "entry_attempts", &c.limits.entry_attempts);
      s = ReadDuration(limits, "entry_cpu_budget", &c.limits.entry_cpu_budget);
      if (!s.ok()) return s;
      Read(root, "pipelines_dir", &c.pipelines_dir);
      Read(root, "data_dir", &c.data_dir);
      Read(root, "log_level", &c.log_level);
      Read(root["buffer"], "fsync", &fsync);
      Status d = ReadDuration(root["buffer"], "sync_interval", &c.limits.sync_interval);
      if (!d.ok()) return d;
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(Cat("config ", path, ": ", e.what()));
    }
  }
  try {
    if (const char* v = Env("SLUICE_HTTP_ADDRESS")) c.http.address = v;
    if (const char* v = Env("SLUICE_HTTP_PORT")) c.http.port = std::stoi(v);
    if (const char* v = Env("SLUICE_GRPC_ADDRESS")) c.grpc.address = v;
    if (const char* v = Env("SLUICE_GRPC_PORT")) c.grpc.port = std::stoi(v);
    if (const char* v = Env("SLUICE_ADMIN_ADDRESS")) c.admin.address = v;
    if (const char* v = Env("SLUICE_ADMIN_PORT")) c.admin.port = std::stoi(v);
    if (const char* v = Env("SLUICE_IO_THREADS")) c.http.io_threads = std::stoi(v);
    if (const char* v = Env("SLUICE_MAX_REQUEST_BYTES"))
      c.http.max_body_bytes = c.grpc.max_message_bytes = std::stoull(v);
    if (const char* v = Env("SLUICE_QUEUE_BYTES")) c.limits.queue_bytes = std::stoull(v);
    if (const char* v = Env("SLUICE_INSERTS_IN_FLIGHT"))
      c.limits.inserts_in_flight = std::stoull(v);
    if (const char* v = Env("SLUICE_PIPELINES_DIR")) c.pipelines_dir = v;
    if (const char* v = Env("SLUICE_DATA_DIR")) c.data_dir = v;
    if (const char* v = Env("SLUICE_LOG_LEVEL")) c.log_level = v;
    if (const char* v = Env("SLUICE_FSYNC")) fsync = v;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(Cat("bad SLUICE_* environment value: ", e.what()));
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error")
    return absl::InvalidArgumentError(
        Cat("log_level must be debug, info, warn or error, not '", c.log_level, "'"));
  if (c.http.max_body_bytes == 0)
    return absl::InvalidArgumentError("max_request_bytes must be > 0");
  if (fsync == "always") {
    c.limits.fsync = buffer::FsyncPolicy::kAlways;
  } else if (fsync == "interval") {
    c.limits.fsync = buffer::FsyncPolicy::kInterval;
  } else if (fsync == "none") {
    c.limits.fsync = buffer::FsyncPolicy::kNone;
  } else {
    return absl::InvalidArgumentError(
        Cat("buffer.fsync must be always, interval or none, not '", fsync, "'"));
  }
  c.limits.data_dir = c.data_dir;
  return c;
}

}  // namespace sluice::server
