// Transports for the load generator: OTLP/HTTP over a keep-alive connection (the sink's
// HTTP client, clickhouse::HttpClient::Send) and OTLP/gRPC over its own channel (grpc++
// generic stub, raw bytes). Each Send is one request, answered or failed; the outcome is a status
// label such as "http 200", "http 429", "grpc OK", "grpc UNAVAILABLE" or "error: ...". An HTTP
// sender is one connection and not thread-safe (one per sending thread); a gRPC sender is one
// channel and may be called from several threads at once (concurrent calls on one connection).
#pragma once

#include <memory>
#include <string>

#include "core/signal.h"
#include "loadgen/requests.h"

namespace sluice::loadgen {

struct Outcome {
  bool ok = false;
  std::string label;
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual Outcome Send(const std::string& body) = 0;
};

struct Target {
  std::string host = "127.0.0.1";
  int http_port = 4318;
  int grpc_port = 4317;
  std::string pipeline;  // x-glassflow-pipeline-id
  Signal signal = Signal::kLogs;
  Encoding encoding = Encoding::kProtobuf;
  bool gzip = false;
  std::string tls_ca;  // set: TLS to the receiver, trusting this CA file (PEM)
};

std::unique_ptr<Sender> MakeHttpSender(const Target& t);
// `channel_id` keeps each sender on its own connection.
std::unique_ptr<Sender> MakeGrpcSender(const Target& t, int channel_id);

}  // namespace sluice::loadgen
