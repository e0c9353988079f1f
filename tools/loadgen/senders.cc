#include "loadgen/senders.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <libdeflate.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>

namespace sluice::loadgen {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::string_view PathOf(Signal s) {
  return s == Signal::kLogs ? "/v1/logs" : s == Signal::kTraces ? "/v1/traces" : "/v1/metrics";
}

std::string MethodOf(Signal s) {
  return s == Signal::kLogs     ? "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
         : s == Signal::kTraces ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                                : "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
}

class HttpSender : public Sender {
 public:
  explicit HttpSender(const Target& t) : t_(t), stream_(ioc_) {
    if (t_.gzip) gz_ = libdeflate_alloc_compressor(1);  // fast: the generator shares the cores
  }
  ~HttpSender() override {
    if (gz_) libdeflate_free_compressor(gz_);
  }

  Outcome Send(const std::string& body) override {
    http::request<http::string_body> req{http::verb::post, std::string(PathOf(t_.signal)), 11};
    req.set(http::field::host, t_.host);
    req.set(http::field::content_type,
            t_.encoding == Encoding::kJson ? "application/json" : "application/x-protobuf");
    req.set("x-glassflow-pipeline-id", t_.pipeline);
    if (gz_) {
      req.set(http::field::content_encoding, "gzip");
      std::string& out = req.body();
      out.resize(libdeflate_gzip_compress_bound(gz_, body.size()));
      out.resize(libdeflate_gzip_compress(gz_, body.data(), body.size(), out.data(), out.size()));
    } else {
      req.body() = body;
    }
    req.prepare_payload();
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!open_) {
        tcp::resolver resolver(ioc_);
        auto results = resolver.resolve(t_.host, std::to_string(t_.http_port), ec);
        if (!ec) stream_.connect(results, ec);
        if (ec) return {false, "error: connect: " + ec.message()};
        stream_.socket().set_option(tcp::no_delay(true));
        open_ = true;
      }
      http::write(stream_, req, ec);
      http::response<http::string_body> res;
      if (!ec) http::read(stream_, buffer_, res, ec);
      if (ec) {
        stream_.close();
        open_ = false;
        if (attempt == 0) continue;  // a keep-alive connection the server closed
        return {false, "error: " + ec.message()};
      }
      if (!res.keep_alive()) {
        stream_.close();
        open_ = false;
      }
      const int code = res.result_int();
      return {code == 200, "http " + std::to_string(code)};
    }
    return {false, "error"};
  }

 private:
  Target t_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
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
                                         grpc::InsecureChannelCredentials(), args);
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
