#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <boost/asio/ip/address.hpp>
#include <cstdlib>

#include "core/cat.h"
#include "core/secret.h"
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

const std::vector<std::string_view> kTlsKeys = {"cert_file",   "key_file",      "client_ca_file",
                                                "min_version", "cipher_suites", "reload_interval"};

// A listener's `tls` block (absent: no TLS).
Status ReadTls(const YAML::Node& n, std::string_view where, TlsServerOptions* out) {
  if (!n || n.IsNull()) return absl::OkStatus();
  if (!n.IsMap()) return absl::InvalidArgumentError(Cat("config ", where, ": must be a mapping"));
  Read(n, "cert_file", &out->cert_file);
  Read(n, "key_file", &out->key_file);
  Read(n, "client_ca_file", &out->client_ca_file);
  Read(n, "min_version", &out->min_version);
  if (n["cipher_suites"]) {
    if (!n["cipher_suites"].IsSequence())
      return absl::InvalidArgumentError(
          Cat("config ", where, ".cipher_suites: must be a list of IANA names"));
    for (const auto& c : n["cipher_suites"]) out->cipher_suites.push_back(c.as<std::string>());
  }
  if (Status s = ReadDuration(n, "reload_interval", &out->reload_interval); !s.ok()) return s;
  if (out->cert_file.empty() || out->key_file.empty())
    return absl::InvalidArgumentError(
        Cat("config ", where, ": cert_file and key_file are required"));
  return absl::OkStatus();
}

// Every key of the file must be known: a typo would otherwise leave a default in force.
Status CheckKeys(const YAML::Node& root) {
  static const pipeline::KeyShapes kShapes = {
      {"",
       {"pipelines_dir", "data_dir", "log_level", "http", "grpc", "admin", "auth", "limits",
        "buffer"}},
      {"http",
       {"address", "port", "io_threads", "max_connections", "max_header_bytes", "idle_timeout",
        "request_timeout", "handshake_timeout", "tls"}},
      {"grpc",
       {"address", "port", "io_threads", "max_connections", "max_concurrent_streams",
        "max_header_bytes", "idle_timeout", "handshake_timeout", "tls"}},
      {"admin",
       {"address", "port", "enabled", "token", "token_env", "token_file", "max_connections",
        "tls"}},
      {"http.tls", kTlsKeys},
      {"grpc.tls", kTlsKeys},
      {"admin.tls", kTlsKeys},
      {"auth", {"bearer_tokens", "basic"}},
      {"auth.bearer_tokens[]", {"token", "token_env", "token_file", "pipelines"}},
      {"auth.basic[]", {"username", "password", "password_env", "password_file", "pipelines"}},
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

bool IsLoopback(const std::string& address) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

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
      Read(http, "max_header_bytes", &c.http.max_header_bytes);
      const YAML::Node admin = root["admin"];
      Read(admin, "address", &c.admin.address);
      Read(admin, "port", &c.admin.port);
      Read(admin, "enabled", &c.admin_enabled);
      Read(admin, "max_connections", &c.admin.max_connections);
      Read(grpc, "address", &c.grpc.address);
      Read(grpc, "port", &c.grpc.port);
      Read(grpc, "io_threads", &c.grpc.io_threads);
      Read(grpc, "max_connections", &c.grpc.max_connections);
      Read(grpc, "max_concurrent_streams", &c.grpc.max_concurrent_streams);
      Read(grpc, "max_header_bytes", &c.grpc.max_header_bytes);
      for (auto [node, key, out] :
           {std::tuple{http, "idle_timeout", &c.http.idle_timeout},
            std::tuple{http, "request_timeout", &c.http.request_timeout},
            std::tuple{http, "handshake_timeout", &c.http.handshake_timeout},
            std::tuple{grpc, "idle_timeout", &c.grpc.idle_timeout},
            std::tuple{grpc, "handshake_timeout", &c.grpc.handshake_timeout}})
        if (Status s = ReadDuration(node, key, out); !s.ok()) return s;
      for (auto [node, where, out] :
           {std::tuple{http, "http.tls", &c.http.tls}, std::tuple{grpc, "grpc.tls", &c.grpc.tls},
            std::tuple{admin, "admin.tls", &c.admin.tls}})
        if (node)
          if (Status s = ReadTls(node["tls"], where, out); !s.ok()) return s;
      if (admin) {
        auto token = ReadSecret(admin, "token", "config admin");
        if (!token.ok()) return token.status();
        c.admin_token = std::move(*token);
      }
      auto auth = receivers::Authenticator::FromConfig(root["auth"]);
      if (!auth.ok()) return auth.status();
      c.auth = std::move(*auth);
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
  if (!c.auth) c.auth = receivers::Authenticator::SingleToken("");
  // The admin listener reads (and, with the REST API, changes) every pipeline: off the
  // machine only encrypted and with a token.
  if (c.admin_enabled && !IsLoopback(c.admin.address) &&
      (c.admin_token.empty() || !c.admin.tls.enabled()))
    return absl::InvalidArgumentError(
        Cat("admin.address ", c.admin.address,
            " is not a loopback address: the admin listener serves every pipeline's status "
            "and metrics, so off this machine it needs both admin.token and admin.tls; set "
            "them, or bind 127.0.0.1"));
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
