// OTLP/HTTP receiver (POST /v1/logs, /v1/metrics, /v1/traces) plus /healthz and /readyz,
// on Boost.Beast with C++20 coroutines over a few I/O threads. Handles chunked and
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
#include "pipeline/registry.h"
#include "receivers/request_budget.h"

namespace sluice::receivers {

struct HttpOptions {
  std::string address = "0.0.0.0";
  int port = 4318;
  int io_threads = 2;
  size_t max_body_bytes = 20u << 20;  // after decompression; also caps the raw body
  std::chrono::seconds idle_timeout{60};
  // Connections served at once; more are answered 503 and closed (each costs a descriptor).
  int max_connections = 4096;
};

class HttpServer {
 public:
  HttpServer(HttpOptions opts, pipeline::Registry& registry, RequestBudget& budget);
  ~HttpServer();

  // Binds and starts serving; returns the bind error if any.
  Status Start();
  // Stops accepting, lets in-flight requests finish (briefly), then stops. Idempotent.
  void Stop();
  int port() const { return bound_port_; }
  void set_ready(bool ready) { ready_ = ready; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HttpOptions opts_;
  pipeline::Registry& registry_;
  RequestBudget& budget_;
  std::atomic<bool> ready_{false};
  int bound_port_ = 0;
};

}  // namespace sluice::receivers
