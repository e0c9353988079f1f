// Server settings (listen addresses, directories, limits) from a YAML or JSON file, then
// environment overrides (SLUICE_*). Plain data; Load is pure apart from reading the file.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "pipeline/pipeline.h"
#include "receivers/auth.h"
#include "receivers/grpc_server.h"
#include "receivers/http_server.h"

namespace sluice::server {

struct ServerConfig {
  receivers::HttpOptions http;
  receivers::GrpcOptions grpc;
  // The admin listener: /metrics, health, status and the REST API. Loopback by default;
  // any other address needs both admin_token and admin.tls. Two I/O threads: an API call
  // that reads a table or waits for a pipeline to stop never holds up a scrape.
  receivers::HttpOptions admin = [] {
    receivers::HttpOptions o;
    o.name = "admin";
    o.address = "127.0.0.1";
    o.port = 8081;
    o.io_threads = 2;
    o.max_body_bytes = 4u << 20;
    o.max_connections = 64;
    return o;
  }();
  bool admin_enabled = true;
  std::string admin_token;  // a secret: never logged; "" : no token asked
  // The receivers' credentials (`auth`); never null (disabled when none are configured).
  std::shared_ptr<const receivers::Authenticator> auth;
  pipeline::Limits limits;
  std::string pipelines_dir = "pipelines";
  std::string data_dir = ".data";
  std::string log_level = "info";
  // Bytes of request bodies held in memory at once, all connections of both receivers.
  uint64_t request_memory = 64u << 20;
};

// Whether `address` is a loopback IP address (127.0.0.0/8, ::1); false for anything else,
// names included.
bool IsLoopback(const std::string& address);

// Loads `path` (empty: defaults only) and applies environment overrides.
StatusOr<ServerConfig> LoadConfig(const std::string& path);

}  // namespace sluice::server
