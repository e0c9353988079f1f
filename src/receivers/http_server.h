// OTLP/HTTP receiver (POST /v1/logs, /v1/metrics, /v1/traces) and other routes given by
// the server (health, readiness; the admin listener is another HttpServer serving only
// those), on Boost.Beast with C++20 coroutines over a few I/O threads. Handles chunked and
// Content-Length bodies, Expect: 100-continue and keep-alive.
// Thread-safe: Start/Stop from the control thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/tls.h"
#include "pipeline/registry.h"
#include "receivers/auth.h"
#include "receivers/request_budget.h"
#include "receivers/status_map.h"

namespace sluice::receivers {

struct HttpOptions {
  std::string name = "http";  // the listener's name in logs and metrics
  std::string address = "0.0.0.0";
  int port = 4318;
  int io_threads = 2;
  size_t max_body_bytes = 20u << 20;    // after decompression; also caps the raw body
  size_t max_header_bytes = 64u << 10;  // the request line and fields; more: 431
  // A kept-alive connection with no request this long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  // A request (header and body) not received this long after its first byte: 408.
  std::chrono::milliseconds request_timeout{60000};
  std::chrono::milliseconds handshake_timeout{10000};  // TLS
  // Connections served at once; more are answered 503 and closed (each costs a descriptor).
  int max_connections = 4096;
  TlsServerOptions tls;  // enabled: HTTPS only
};

// What a server answers besides OTLP. `handle` gets the method, the path, the query string
// and the body, and fills the answer; false: not one of its paths (404). Called on the
// I/O threads: it must not block.
struct HttpRoutes {
  bool otlp = true;  // serves /v1/logs, /v1/metrics, /v1/traces
  // Credentials asked of the OTLP routes (otlp) or of every route but the health ones
  // (otherwise); null or disabled: none.
  const AuthHolder* auth = nullptr;
  std::function<bool(std::string_view method, std::string_view path, std::string_view query,
                     std::string_view body, HttpAnswer* answer)>
      handle;
};

class HttpServer {
 public:
  HttpServer(HttpOptions opts, pipeline::Registry& registry, RequestBudget& budget,
             HttpRoutes routes = {});
  ~HttpServer();

  // Binds and starts serving; returns the bind or TLS error if any.
  Status Start();
  // Rebuilds the TLS context from its files when they changed (always when `force`).
  void RefreshTls(bool force);
  // Stops accepting, lets in-flight requests finish (briefly), then stops. Idempotent.
  void Stop();
  int port() const { return bound_port_; }
  // Until set (and again from shutdown), /readyz answers 503 whatever the routes say.
  void set_ready(bool ready) { ready_ = ready; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HttpOptions opts_;
  pipeline::Registry& registry_;
  RequestBudget& budget_;
  const HttpRoutes routes_;
  std::atomic<bool> ready_{false};
  int bound_port_ = 0;
};

}  // namespace sluice::receivers
