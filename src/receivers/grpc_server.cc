#include "receivers/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"
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

// gRPC core is told not to inflate messages (GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION off:
// libdeflate inflates gzip about 4x faster than core's zlib, and it is one copy fewer), and the
// grpc-encoding header does not reach the application, so the coding is recognized by the
// message's first bytes, which an Export request (field 1, length-delimited: 0x0a) never
// starts with: gzip (1f 8b), zlib-wrapped deflate (a CMF/FLG pair divisible by 31), a zstd
// frame (28 b5 2f fd) and a snappy framed stream (ff 06 00 00 "sNaPpY"); the last two are
// codings core does not know, which the Collector's exporters offer.
std::string_view SniffedCoding(std::string_view body) {
  static constexpr std::string_view kGzip("\x1f\x8b", 2);
  static constexpr std::string_view kZstd("\x28\xb5\x2f\xfd", 4);
  static constexpr std::string_view kSnappyFramed("\xff\x06\x00\x00sNaPpY", 10);
  if (body.starts_with(kGzip)) return "gzip";
  if (body.starts_with(kZstd)) return "zstd";
  if (body.starts_with(kSnappyFramed)) return "x-snappy-framed";
  if (body.size() >= 2) {
    const unsigned cmf = static_cast<uint8_t>(body[0]), flg = static_cast<uint8_t>(body[1]);
    if ((cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf << 8 | flg) % 31 == 0 && !(flg & 0x20))
      return "deflate";
  }
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

// A request header's value; none when the client did not send it.
std::optional<std::string_view> Metadata(const grpc::GenericServerContext& ctx,
                                         std::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

// Why the call's metadata cannot be served (before its message is read): too large, or
// credentials missing, unknown or not allowed the pipeline. Counted.
Status CheckCall(const grpc::GenericServerContext& ctx, const CallContext& c) {
  size_t header_bytes = 0;
  for (const auto& [k, v] : ctx.client_metadata()) header_bytes += k.size() + v.size() + 32;
  if (header_bytes > c.opts.max_header_bytes) {
    c.stats.Refuse(Refusal::kHeaderTooLarge);
    return absl::ResourceExhaustedError(Cat("request metadata of ", header_bytes,
                                            " bytes exceeds the limit of ",
                                            c.opts.max_header_bytes));
  }
  if (c.auth == nullptr) return absl::OkStatus();
  const auto auth = c.auth->Get();
  Status s = auth->Check(Metadata(ctx, "authorization").value_or(std::string_view()),
                         Metadata(ctx, kPipelineHeader).value_or(std::string_view()));
  if (absl::IsUnauthenticated(s)) c.stats.Refuse(Refusal::kUnauthenticated);
  if (absl::IsPermissionDenied(s)) c.stats.Refuse(Refusal::kForbidden);
  return s;
}

// One completion queue and the thread that drives it: the thread polls the connections
// itself (gRPC's epoll runs inside Next), reads, checks and hands a request to the log
// without waking another thread. (gRPC's callback API, used before, passes every event
// through its own pool of threads; against it this cut the receive CPU by a fifth and the
// context switches per request from 21 to 17; docs/performance.md.)
struct CallQueue {
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  std::thread thread;
};

// One unary Export call on the completion-queue API. Its events (matched, message read,
// answer sent, call done) arrive on its queue's thread, one at a time. The answer is
// started by whoever completes the append: the commit thread once the request is durable
// (no gRPC thread waits on the disk), or the queue's thread for a refusal. The call frees
// itself once the answer is sent (or abandoned) and gRPC reports the call done.
class ExportCall {
 public:
  enum class Step { kMatched, kRead, kAnswered, kDone };
  struct Tag {
    ExportCall* call;
    Step step;
  };

  // Asks gRPC for the next call on `cq`; the stopping flag is read before asking again.
  ExportCall(const CallContext& c, grpc::AsyncGenericService* service,
             grpc::ServerCompletionQueue* cq, const std::atomic<bool>* stopping)
      : c_(c), service_(service), cq_(cq), stopping_(stopping) {
    ctx_.AsyncNotifyWhenDone(&done_tag_);
    service_->RequestCall(&ctx_, &stream_, cq_, cq_, &matched_tag_);
  }

  // On the queue's thread.
  void Proceed(Step step, bool ok) {
    switch (step) {
      case Step::kMatched:
        if (!ok) {  // the server is shutting down: no call, and no done event to wait for
          delete this;
          return;
        }
        if (!stopping_->load()) new ExportCall(c_, service_, cq_, stopping_);
        Start();
        return;
      case Step::kRead: OnRead(ok); return;
      case Step::kAnswered: answered_ = true; break;
      case Step::kDone:
        // Done before the answer went out: the client cancelled, or its deadline passed.
        if (!answering_.load()) cancelled_.store(true);
        done_ = true;
        break;
    }
    if (answered_ && done_) delete this;
  }

 private:
  void Start() {
    start_ = std::chrono::steady_clock::now();
    signal_ = SignalOfMethod(ctx_.method());
    if (!signal_) {
      Reply(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, Cat("unknown method ", ctx_.method())));
      return;
    }
    if (Status s = CheckCall(ctx_, c_); !s.ok()) {
      Reply(ToGrpc(s));
      return;
    }
    if (c_.budget.full()) {  // not read: the client retries later
      Reply(ToGrpc(Overloaded(Cat("the server holds ", c_.budget.used(),
                                  " bytes of requests, its limit; retry later"))));
      return;
    }
    stream_.Read(&request_, &read_tag_);
  }

  void OnRead(bool ok) {
    if (!ok) {
      Reply(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    const std::optional<std::string_view> pipeline_id = Metadata(ctx_, kPipelineHeader);
    std::vector<grpc::Slice> slices;
    if (!request_.Dump(&slices).ok()) {
      Reply(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request"));
      return;
    }
    size_t total = 0;
    for (const auto& s : slices) total += s.size();
    // gRPC has read the message already: it counts from now on, fitting or not.
    RequestBudget::Lease lease = c_.budget.Hold(total);
    std::string body;
    body.reserve(total);
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    slices.clear();
    request_.Clear();
    if (auto coding = SniffedCoding(body); !coding.empty()) {
      auto plain = Decompress(coding, body, c_.opts.max_message_bytes);
      // The deflate guess can also match a (malformed) uncompressed message: one that does
      // not inflate goes on as it is, to be judged as protobuf.
      const bool guessed = coding == "deflate" && absl::IsInvalidArgument(plain.status());
      if (!plain.ok() && !guessed) {
        Reply(ToGrpc(plain.status()));
        return;
      }
      if (plain.ok()) {
        body = std::move(*plain);
        lease.Resize(body.size());
      }
    }
    // Right before the append: a call the client cancelled, or whose deadline passed, is
    // not stored (the client retries it: storing it too would make a duplicate).
    auto precheck = [this, deadline = ctx_.deadline()]() -> Status {
      if (cancelled_.load()) return absl::CancelledError("the client cancelled the call");
      if (std::chrono::system_clock::now() > deadline)
        return absl::DeadlineExceededError("the call's deadline passed before it was stored");
      return absl::OkStatus();
    };
    IngestAsync(c_.registry, *signal_, pipeline_id, std::move(body), false, std::move(lease),
                std::move(precheck), [this](IngestResult r) { Answer(std::move(r)); });
  }

  // On the commit thread (or the queue's, for a request refused before the log).
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
    answering_.store(true);
    stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, &answered_tag_);
  }

  // Finishes the call with an error status, counting it.
  void Reply(const grpc::Status& s) {
    Count(s.error_code());
    answering_.store(true);
    stream_.Finish(s, &answered_tag_);
  }
  void Count(int code) {
    RecordRequest(c_.registry, routed_, pipeline::Transport::kGrpc, code,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    routed_.pipeline.reset();  // the call may outlive a removed pipeline
  }

  const CallContext& c_;
  grpc::AsyncGenericService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  const std::atomic<bool>* const stopping_;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  Tag matched_tag_{this, Step::kMatched}, read_tag_{this, Step::kRead},
      answered_tag_{this, Step::kAnswered}, done_tag_{this, Step::kDone};
  std::chrono::steady_clock::time_point start_;
  IngestResult routed_;
  std::optional<Signal> signal_;
  grpc::ByteBuffer request_, response_;
  std::atomic<bool> answering_{false}, cancelled_{false};  // read by the commit thread
  bool answered_ = false, done_ = false;                   // the queue's thread only
};

void DriveQueue(grpc::ServerCompletionQueue* cq) {
  NameThisThread("sluice-grpc");
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<ExportCall::Tag*>(tag);
    t->call->Proceed(t->step, ok);
  }
}

}  // namespace

struct GrpcServer::Impl {
  std::shared_ptr<ListenerStats> stats;
  std::unique_ptr<GrpcFront> front;
  std::unique_ptr<CallContext> call;
  grpc::AsyncGenericService service;
  std::vector<CallQueue> queues;
  std::atomic<bool> stopping{false};
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
  impl_->call =
      std::make_unique<CallContext>(CallContext{opts_, registry_, budget_, auth_, *impl_->stats});
  grpc::ServerBuilder builder;
  // The limit applies to the message as sent; the decompressed size is bounded by
  // Decompress with the same limit.
  builder.SetMaxReceiveMessageSize(static_cast<int>(opts_.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, opts_.max_concurrent_streams);
  // gRPC's own bound is above ours, so that ours (counted, with a clear message) is met
  // first; past it gRPC refuses the call itself.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_METADATA_SIZE,
      static_cast<int>(std::min<size_t>(2 * opts_.max_header_bytes + 4096, 1u << 30)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(opts_.idle_timeout.count()));
  builder.RegisterAsyncGenericService(&impl_->service);
  // A queue and its thread per core (at least two, so one long validation does not hold
  // every call), each with a few calls asked for ahead.
  const size_t queues = std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 8);
  impl_->queues.resize(queues);
  for (auto& q : impl_->queues) q.cq = builder.AddCompletionQueue();
  impl_->server = builder.BuildAndStart();
  if (!impl_->server) return absl::InternalError("cannot start the gRPC server");
  for (auto& q : impl_->queues) {
    for (int i = 0; i < 4; ++i)
      new ExportCall(*impl_->call, &impl_->service, q.cq.get(), &impl_->stopping);
    q.thread = std::thread(DriveQueue, q.cq.get());
  }
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
  // Calls in flight finish (their TLS connections still carried by the front; the queues'
  // threads still turning), no new call is asked for, then the queues drain and the
  // front's threads stop.
  impl_->stopping.store(true);
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  for (auto& q : impl_->queues) q.cq->Shutdown();
  for (auto& q : impl_->queues)
    if (q.thread.joinable()) q.thread.join();
  impl_->front->Stop();
  impl_->server.reset();
  impl_->queues.clear();
}

}  // namespace sluice::receivers
