// OTLP/gRPC receiver: Logs, Metrics and Trace Export as a generic callback service over
// raw bytes (decoding is ours), gzip request compression (handled by gRPC), the
// grpc.health.v1 service, and the status contract of status_map.h.
// Thread-safe: Start/Stop from the control thread.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "pipeline/registry.h"
#include "receivers/request_budget.h"

namespace sluice::receivers {

struct GrpcOptions {
  std::string address = "0.0.0.0";
  int port = 4317;
  size_t max_message_bytes = 20u << 20;  // after decompression
};

class GrpcServer {
 public:
  GrpcServer(GrpcOptions opts, pipeline::Registry& registry, RequestBudget& budget);
  ~GrpcServer();
  Status Start();
  void Stop();  // idempotent
  int port() const { return bound_port_; }
  void set_serving(bool serving);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  GrpcOptions opts_;
  pipeline::Registry& registry_;
  RequestBudget& budget_;
  int bound_port_ = 0;
};

}  // namespace sluice::receivers
