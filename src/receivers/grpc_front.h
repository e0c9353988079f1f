// The gRPC port's front door. gRPC's own listener has no connection limit, no handshake
// deadline, no way to require TLS 1.3 and nothing to count refusals with; so the port is
// ours: each connection is accepted here, checked (connection limit, first bytes or TLS
// handshake in time), and then handed to the gRPC server. A plain connection is handed over
// as it is (its descriptor: no copy, no extra hop); a TLS connection is decrypted here and
// its plaintext carried to gRPC over a socket pair, both ways.
// Start/Stop from the control thread; the rest runs on the front's own I/O threads.
#pragma once

#include <memory>

#include "core/status.h"
#include "receivers/grpc_server.h"
#include "receivers/listener_stats.h"

namespace grpc {
class Server;
}

namespace sluice::receivers {

class GrpcFront {
 public:
  GrpcFront(const GrpcOptions& opts, std::shared_ptr<ListenerStats> stats);
  ~GrpcFront();
  // Binds the port, builds the TLS context; returns the bound port or why not.
  StatusOr<int> Bind();
  // Starts accepting and handing connections to `server` (which outlives Stop).
  void Start(grpc::Server* server);
  // Stops accepting new connections (the ones handed over keep being served).
  void StopAccepting();
  // Stops the threads: TLS connections end; plain ones end with the gRPC server.
  void Stop();
  void RefreshTls(bool force);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::receivers
