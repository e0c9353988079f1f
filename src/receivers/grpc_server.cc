#include "receivers/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "core/cat.h"
#include "core/log.h"
#include "receivers/decompress.h"
#include "receivers/grpc_front.h"
#include "receivers/ingest.h"
#include "receivers/listener_stats.h"
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
// What every call needs: the options, the pipelines, the request memory, the credentials
// and the listener's figures.
struct CallContext {
  const GrpcOptions& opts;
  pipeline::Registry& registry;
  RequestBudget& budget;
  const AuthHolder* auth;
  ListenerStats& stats;
};

std::string_view Metadata(const grpc::GenericCallbackServerContext* ctx, std::string_view key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  return it == md.end() ? std::string_view()
                        : std::string_view(it->second.data(), it->second.size());
}

// Why the call's metadata cannot be served (before its message is read): too large, or
// credentials missing, unknown or not allowed the pipeline. Counted.
Status CheckCall(const grpc::GenericCallbackServerContext* ctx, const CallContext& c) {
  size_t header_bytes = 0;
  for (const auto& [k, v] : ctx->client_metadata()) header_bytes += k.size() + v.size() + 32;
  if (header_bytes > c.opts.max_header_bytes) {
    c.stats.Refuse(Refusal::kHeaderTooLarge);
    return absl::ResourceExhaustedError(Cat("request metadata of ", header_bytes,
                                            " bytes exceeds the limit of ",
                                            c.opts.max_header_bytes));
  }
  if (c.auth == nullptr) return absl::OkStatus();
  const auto auth = c.auth->Get();
  Status s = auth->Check(Metadata(ctx, "authorization"), Metadata(ctx, kPipelineHeader));
  if (absl::IsUnauthenticated(s)) c.stats.Refuse(Refusal::kUnauthenticated);
  if (absl::IsPermissionDenied(s)) c.stats.Refuse(Refusal::kForbidden);
  return s;
}

class ExportReactor : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(grpc::GenericCallbackServerContext* ctx, const CallContext& call)
      : ctx_(ctx),
        registry_(call.registry),
        max_bytes_(call.opts.max_message_bytes),
        budget_(call.budget) {
    signal_ = SignalOfMethod(ctx->method());
    start_ = std::chrono::steady_clock::now();
    if (!signal_) {
      Reply(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, Cat("unknown method ", ctx->method())));
      return;
    }
    if (Status s = CheckCall(ctx, call); !s.ok()) {
      Reply(ToGrpc(s));
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
    auto it = md.find(grpc::string_ref(kPipelineHeader.data(), kPipelineHeader.size()));
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
  explicit ExportService(CallContext call) : call_(call) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new ExportReactor(ctx, call_);
  }

 private:
  const CallContext call_;
};

}  // namespace

struct GrpcServer::Impl {
  std::shared_ptr<ListenerStats> stats;
  std::unique_ptr<GrpcFront> front;
  std::unique_ptr<ExportService> service;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(GrpcOptions opts, pipeline::Registry& registry, RequestBudget& budget,
                       const AuthHolder* auth)
    : impl_(std::make_unique<Impl>()),
      opts_(std::move(opts)),
      registry_(registry),
      budget_(budget),
      auth_(auth) {}

GrpcServer::~GrpcServer() { Stop(); }

Status GrpcServer::Start() {
  gpr_set_log_function(GrpcLog);
  grpc::EnableDefaultHealthCheckService(true);
  impl_->stats = ListenerStatsFor(opts_.name);
  // The port is the front door's (limits, TLS); gRPC gets the connections it lets in.
  impl_->front = std::make_unique<GrpcFront>(opts_, impl_->stats);
  auto port = impl_->front->Bind();
  if (!port.ok()) return port.status();
  bound_port_ = *port;
  impl_->service =
      std::make_unique<ExportService>(CallContext{opts_, registry_, budget_, auth_, *impl_->stats});
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(static_cast<int>(opts_.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, opts_.max_concurrent_streams);
  // gRPC's own bound is above ours, so that ours (counted, with a clear message) is met
  // first; past it gRPC refuses the call itself.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_METADATA_SIZE,
      static_cast<int>(std::min<size_t>(2 * opts_.max_header_bytes + 4096, 1u << 30)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(opts_.idle_timeout.count()));
  builder.RegisterCallbackGenericService(impl_->service.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server) return absl::InternalError("cannot start the gRPC server");
  impl_->front->Start(impl_->server.get());
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

void GrpcServer::RefreshTls(bool force) {
  if (impl_->front) impl_->front->RefreshTls(force);
}

void GrpcServer::Stop() {
  if (!impl_->server) return;
  set_serving(false);
  impl_->front->StopAccepting();
  // Calls in flight finish (their TLS connections still carried by the front), then the
  // front's threads stop.
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->front->Stop();
  impl_->server.reset();
}

}  // namespace sluice::receivers
