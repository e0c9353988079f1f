#include "loadgen/senders.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <libdeflate.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "clickhouse/http_client.h"

namespace sluice::loadgen {

namespace {

std::string PathOf(Signal s) {
  return s == Signal::kLogs ? "/v1/logs" : s == Signal::kTraces ? "/v1/traces" : "/v1/metrics";
}

std::string MethodOf(Signal s) {
  return s == Signal::kLogs     ? "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
         : s == Signal::kTraces ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                                : "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
}

// The receiver's HTTP endpoint: HTTPS when a CA is given (the context built once).
clickhouse::Endpoint HttpEndpoint(const Target& t) {
  clickhouse::Endpoint ep{.host = t.host, .port = t.http_port};
  if (!t.tls_ca.empty()) {
    ep.tls = TlsOptions{.enabled = true, .ca_file = t.tls_ca};
    auto ctx = TlsContext::Create(ep.tls);
    if (!ctx.ok()) {
      std::fprintf(stderr, "%s\n", std::string(ctx.status().message()).c_str());
      std::exit(2);
    }
    ep.tls_context = *ctx;
  }
  return ep;
}

std::shared_ptr<grpc::ChannelCredentials> GrpcCredentials(const Target& t) {
  if (t.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream f(t.tls_ca);
  std::stringstream pem;
  pem << f.rdbuf();
  return grpc::SslCredentials(grpc::SslCredentialsOptions{.pem_root_certs = pem.str()});
}

class HttpSender : public Sender {
 public:
  explicit HttpSender(const Target& t) : path_(PathOf(t.signal)), client_(HttpEndpoint(t)) {
    headers_ = {{"content-type",
                 t.encoding == Encoding::kJson ? "application/json" : "application/x-protobuf"},
                {"x-glassflow-pipeline-id", t.pipeline}};
    if (t.gzip) {
      gz_ = libdeflate_alloc_compressor(1);  // fast: the generator shares the cores
      headers_.emplace_back("content-encoding", "gzip");
    }
  }
  ~HttpSender() override {
    if (gz_) libdeflate_free_compressor(gz_);
  }

  Outcome Send(const std::string& body) override {
    std::string_view payload = body;
    if (gz_) {
      gzipped_.resize(libdeflate_gzip_compress_bound(gz_, body.size()));
      gzipped_.resize(libdeflate_gzip_compress(gz_, body.data(), body.size(), gzipped_.data(),
                                               gzipped_.size()));
      payload = gzipped_;
    }
    auto r = client_.Send(path_, headers_, payload);
    if (!r.ok()) return {false, "error: " + std::string(r.status().message())};
    return {r->status == 200, "http " + std::to_string(r->status)};
  }

 private:
  const std::string path_;
  clickhouse::HttpClient client_;  // a keep-alive HTTP/1.1 client (HTTPS with tls_ca)
  clickhouse::HttpClient::Headers headers_;
  std::string gzipped_;
  libdeflate_compressor* gz_ = nullptr;
};

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    default: return "OTHER";
  }
}

class GrpcSender : public Sender {
 public:
  GrpcSender(const Target& t, int channel_id) : t_(t), method_(MethodOf(t.signal)) {
    grpc::ChannelArguments args;
    args.SetInt("loadgen.channel", channel_id);  // distinct args: a connection of its own
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(t.host + ":" + std::to_string(t.grpc_port),
                                         GrpcCredentials(t), args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  Outcome Send(const std::string& body) override {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-glassflow-pipeline-id", t_.pipeline);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (t_.gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    grpc::Slice slice(body.data(), body.size());
    grpc::ByteBuffer request(&slice, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub_->UnaryCall(&ctx, method_, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      status = std::move(s);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return {status.ok(), std::string("grpc ") + CodeName(status.error_code())};
  }

 private:
  Target t_;
  std::string method_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

}  // namespace

std::unique_ptr<Sender> MakeHttpSender(const Target& t) { return std::make_unique<HttpSender>(t); }
std::unique_ptr<Sender> MakeGrpcSender(const Target& t, int channel_id) {
  return std::make_unique<GrpcSender>(t, channel_id);
}

}  // namespace sluice::loadgen
