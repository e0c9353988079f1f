// OTLP/gRPC receiver: Logs, Metrics and Trace Export as an async generic service over raw
// bytes (decoding and decompression are ours: gzip, deflate, zstd, snappy), driven by
// completion queues with a thread each; the grpc.health.v1 service, and the status
// contract of status_map.h.
// Thread-safe: Start/Stop from the control thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/tls.h"
#include "pipeline/registry.h"
#include "receivers/auth.h"
#include "receivers/request_budget.h"

namespace sluice::receivers {

struct GrpcOptions {
  std::string name = "grpc";  // the listener's name in logs and metrics
  std::string address = "0.0.0.0";
  int port = 4317;
  int io_threads = 2;                    // the front door's (accept, TLS)
  size_t max_message_bytes = 20u << 20;  // after decompression
  // Request metadata (header names and values, 32 bytes more per entry as HTTP/2 counts
  // them); more: RESOURCE_EXHAUSTED.
  size_t max_header_bytes = 64u << 10;
  int max_connections = 4096;
  // Calls at once on one connection; a client's further calls wait (HTTP/2 flow).
  int max_concurrent_streams = 100;
  // A connection with no call this long is closed (GOAWAY).
  std::chrono::milliseconds idle_timeout{600000};
  // A new connection must complete its TLS handshake (or, without TLS, send its first
  // bytes) this soon.
  std::chrono::milliseconds handshake_timeout{10000};
  TlsServerOptions tls;  // enabled: TLS only
};

class GrpcServer {
 public:
  // `auth` (may be null) holds the credentials asked of Export calls.
  GrpcServer(GrpcOptions opts, pipeline::Registry& registry, RequestBudget& budget,
             const AuthHolder* auth = nullptr);
  ~GrpcServer();
  Status Start();
  void Stop();  // idempotent
  int port() const { return bound_port_; }
  void set_serving(bool serving);
  void RefreshTls(bool force);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  GrpcOptions opts_;
  pipeline::Registry& registry_;
  RequestBudget& budget_;
  const AuthHolder* auth_;
  int bound_port_ = 0;
};

}  // namespace sluice::receivers
