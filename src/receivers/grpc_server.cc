#include "receivers/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "core/cat.h"
#include "core/log.h"
#include "receivers/decompress.h"
#include "receivers/ingest.h"
#include "receivers/status_map.h"

namespace sluice::receivers {
namespace {

std::optional<Signal> SignalOfMethod(const std::string& method) {
  if (method == "/opentelemetry.proto.collector.logs.v1.LogsService/Export") return Signal::kLogs;
  if (method == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
    return Signal::kMetrics;
  if (method == "/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    return Signal::kTraces;
  return std::nullopt;
}

// gRPC core inflates gzip and deflate itself. Other message encodings it does not know
// (zstd and snappy, which the Collector's exporters offer) reach the application still
// compressed, and the grpc-encoding header that names them does not reach it at all. Both
// are recognized by their magic bytes, which an Export request (field 1 first) never starts
// with: a zstd frame (28 b5 2f fd) and a snappy framed stream (ff 06 00 00 "sNaPpY").
std::string_view SniffedCoding(std::string_view body) {
  static constexpr std::string_view kZstd("\x28\xb5\x2f\xfd", 4);
  static constexpr std::string_view kSnappyFramed("\xff\x06\x00\x00sNaPpY", 10);
  if (body.starts_with(kZstd)) return "zstd";
  if (body.starts_with(kSnappyFramed)) return "x-snappy-framed";
  return {};
}

// gRPC core's own log lines go to the server log. It reports each zstd or snappy message as
// "invalid grpc-encoding" although the call then works (see SniffedCoding): those are not
// logged.
void GrpcLog(gpr_log_func_args* args) {
  std::string_view m(args->message);
  if (m.find("key=grpc-encoding") != std::string_view::npos) return;
  if (args->severity == GPR_LOG_SEVERITY_ERROR)
    SLOG(ERROR) << "grpc: " << m;
  else
    SLOG(DEBUG) << "grpc: " << m;
}

grpc::Status ToGrpc(const Status& s) {
  GrpcAnswer a = GrpcError(s);
  return grpc::Status(static_cast<grpc::StatusCode>(a.code), a.message, a.details);
}

// One unary Export call: read the request, answer once, done. The answer comes from the
// commit thread once the request is durable: no gRPC thread waits on the disk.
class ExportReactor : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(grpc::GenericCallbackServerContext* ctx, pipeline::Registry& registry,
                size_t max_bytes, RequestBudget& budget)
      : ctx_(ctx), registry_(registry), max_bytes_(max_bytes), budget_(budget) {
    signal_ = SignalOfMethod(ctx->method());
    start_ = std::chrono::steady_clock::now();
    if (!signal_) {
      Reply(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, Cat("unknown method ", ctx->method())));
      return;
    }
    if (budget_.full()) {  // not read: the client retries later
      Reply(ToGrpc(Overloaded(
          Cat("the server holds ", budget_.used(), " bytes of requests, its limit; retry later"))));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Reply(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    std::optional<std::string_view> pipeline_id;
    const auto& md = ctx_->client_metadata();
    auto it = md.find(std::string(kPipelineHeader));
    if (it != md.end()) pipeline_id = std::string_view(it->second.data(), it->second.size());
    std::string body;
    std::vector<grpc::Slice> slices;
    if (!request_.Dump(&slices).ok()) {
      Reply(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request"));
      return;
    }
    size_t total = 0;
    for (const auto& s : slices) total += s.size();
    // gRPC has read the message already: it counts from now on, fitting or not.
    RequestBudget::Lease lease = budget_.Hold(total);
    body.reserve(total);
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    slices.clear();
    request_.Clear();
    if (auto coding = SniffedCoding(body); !coding.empty()) {
      auto plain = Decompress(coding, body, max_bytes_);
      if (!plain.ok()) {
        Reply(ToGrpc(plain.status()));
        return;
      }
      body = std::move(*plain);
      lease.Resize(body.size());
    }
    // Right before the append: a call the client cancelled, or whose deadline passed, is
    // not stored (the client retries it: storing it too would make a duplicate).
    auto precheck = [ctx = ctx_, deadline = ctx_->deadline()]() -> Status {
      if (ctx->IsCancelled()) return absl::CancelledError("the client cancelled the call");
      if (std::chrono::system_clock::now() > deadline)
        return absl::DeadlineExceededError("the call's deadline passed before it was stored");
      return absl::OkStatus();
    };
    IngestAsync(registry_, *signal_, pipeline_id, std::move(body), false, std::move(lease),
                std::move(precheck), [this](IngestResult r) { Answer(std::move(r)); });
  }

  void OnDone() override { delete this; }

 private:
  void Answer(IngestResult r) {
    routed_ = std::move(r);
    const IngestResult& res = routed_;
    if (!res.status.ok()) {
      Reply(ToGrpc(res.status));
      return;
    }
    std::string resp = ExportResponseProto(res.rejected, res.partial_message);
    grpc::Slice slice(resp);
    response_ = grpc::ByteBuffer(&slice, 1);
    Count(0);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  // Finishes the call with an error status, counting it.
  void Reply(const grpc::Status& s) {
    Count(s.error_code());
    Finish(s);
  }
  void Count(int code) {
    RecordRequest(registry_, routed_, pipeline::Transport::kGrpc, code,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    routed_.pipeline.reset();  // the reactor may outlive a removed pipeline
  }

  grpc::GenericCallbackServerContext* ctx_;
  std::chrono::steady_clock::time_point start_;
  IngestResult routed_;
  pipeline::Registry& registry_;
  const size_t max_bytes_;  // after decompression
  RequestBudget& budget_;
  std::optional<Signal> signal_;
  grpc::ByteBuffer request_, response_;
};

class ExportService : public grpc::CallbackGenericService {
 public:
  ExportService(pipeline::Registry& registry, size_t max_bytes, RequestBudget& budget)
      : registry_(registry), max_bytes_(max_bytes), budget_(budget) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new ExportReactor(ctx, registry_, max_bytes_, budget_);
  }

 private:
  pipeline::Registry& registry_;
  const size_t max_bytes_;
  RequestBudget& budget_;
};

}  // namespace

struct GrpcServer::Impl {
  std::unique_ptr<ExportService> service;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(GrpcOptions opts, pipeline::Registry& registry, RequestBudget& budget)
    : impl_(std::make_unique<Impl>()),
      opts_(std::move(opts)),
      registry_(registry),
      budget_(budget) {}

GrpcServer::~GrpcServer() { Stop(); }

Status GrpcServer::Start() {
  gpr_set_log_function(GrpcLog);
  grpc::EnableDefaultHealthCheckService(true);
  impl_->service = std::make_unique<ExportService>(registry_, opts_.max_message_bytes, budget_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(Cat(opts_.address, ":", opts_.port), grpc::InsecureServerCredentials(),
                           &bound_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(opts_.max_message_bytes));
  builder.RegisterCallbackGenericService(impl_->service.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound_port_ == 0)
    return absl::UnavailableError(
        Cat("cannot listen for gRPC on ", opts_.address, ":", opts_.port));
  set_serving(false);
  return absl::OkStatus();
}

void GrpcServer::set_serving(bool serving) {
  if (impl_->server && impl_->server->GetHealthCheckService()) {
    auto* health = impl_->server->GetHealthCheckService();
    health->SetServingStatus(serving);  // the server as a whole ("")
    for (const char* service : {"opentelemetry.proto.collector.logs.v1.LogsService",
                                "opentelemetry.proto.collector.metrics.v1.MetricsService",
                                "opentelemetry.proto.collector.trace.v1.TraceService"})
      health->SetServingStatus(service, serving);
  }
}

void GrpcServer::Stop() {
  if (!impl_->server) return;
  set_serving(false);
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace sluice::receivers
