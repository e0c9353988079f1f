#include "receivers/http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "receivers/decompress.h"
#include "receivers/ingest.h"
#include "receivers/status_map.h"

namespace sluice::receivers {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, lowercased: "application/json; charset=utf-8" ->
// "application/json".
std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return Lower(t);
}

Response Answer(const HttpAnswer& a, unsigned version) {
  Response res{static_cast<http::status>(a.status), version};
  res.set(http::field::server, "sluice");
  res.set(http::field::content_type, a.content_type);
  if (a.retry_after_seconds > 0)
    res.set(http::field::retry_after, std::to_string(a.retry_after_seconds));
  res.body() = a.body;
  res.prepare_payload();
  return res;
}

Response Plain(int status, std::string_view text, unsigned version) {
  HttpAnswer a;
  a.status = status;
  a.content_type = "text/plain; charset=utf-8";
  a.body = std::string(text) + "\n";
  return Answer(a, version);
}

// The answer to a request or connection that cannot be served, after which the connection
// closes; a 503 says when to retry.
Response Closing(int status, std::string_view reason) {
  Response res = Plain(status, reason, 11);
  if (status == 503) res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  return res;
}

}  // namespace

struct HttpServer::Impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};
  bool stopped = false;
};

HttpServer::HttpServer(HttpOptions opts, pipeline::Registry& registry, RequestBudget& budget,
                       HttpRoutes routes)
    : impl_(std::make_unique<Impl>()),
      opts_(std::move(opts)),
      registry_(registry),
      budget_(budget),
      routes_(std::move(routes)) {}

HttpServer::~HttpServer() { Stop(); }

namespace {

// Runs IngestAsync and resumes the calling coroutine with its result on its own executor.
net::awaitable<IngestResult> AwaitIngest(pipeline::Registry& registry, Signal signal,
                                         std::optional<std::string_view> pipeline_id,
                                         std::string body, bool json, RequestBudget::Lease lease,
                                         std::function<Status()> precheck) {
  auto ex = co_await net::this_coro::executor;
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(IngestResult)>(
      [&](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        IngestAsync(registry, signal, pipeline_id, std::move(body), json, std::move(lease),
                    std::move(precheck), [ex, h](IngestResult r) {
                      net::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
                    });
      },
      net::use_awaitable);
}

// Whether the client is still there: a connection it closed (or reset) reads as end of
// file without consuming anything. Checked right before a request is stored, so that a
// request the client gave up on is not stored (its retry would be a duplicate).
Status ClientStillThere(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return absl::CancelledError("the client closed the connection");
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    return absl::CancelledError("the client's connection failed");
  return absl::OkStatus();
}

struct Handler {
  const HttpOptions& opts;
  pipeline::Registry& registry;
  const std::atomic<bool>& ready;
  RequestBudget& budget;
  const HttpRoutes& routes;

  // `lease` holds the body's share of the request memory; `fd` is the connection's socket.
  net::awaitable<Response> Handle(Request& req, RequestBudget::Lease lease, int fd) {
    const unsigned v = req.version();
    std::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    target = target.substr(0, q);
    if (routes.otlp && target.starts_with("/v1/")) {
      // Every OTLP request is counted, with its wire status and duration, in the metrics of
      // the pipeline it reached (or the server's when it reached none).
      const auto start = std::chrono::steady_clock::now();
      IngestResult routed;
      Response r = co_await HandleOtlp(req, std::move(lease), fd, target, &routed);
      RecordRequest(
          registry, routed, pipeline::Transport::kHttp, r.result_int(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      co_return r;
    }
    if (target == "/readyz" && !ready.load()) {
      HttpAnswer a;
      a.status = 503;
      a.content_type = "application/json";
      a.body = "{\"status\":\"not ready\",\"reason\":\"the server is starting or stopping\"}";
      co_return Answer(a, v);
    }
    HttpAnswer a;
    if (routes.handle &&
        routes.handle(std::string_view(req.method_string().data(), req.method_string().size()),
                      target, query, req.body(), &a)) {
      Response r = Answer(a, v);
      if (req.method() == http::verb::head) {  // the headers of a GET, without its body
        const size_t n = r.body().size();
        r.body().clear();
        r.content_length(n);
      }
      co_return r;
    }
    co_return Plain(404, Cat("no such path: ", target), v);
  }

  // Counts an OTLP request refused before it reached Handle (over the request memory, too
  // large, a header that cannot be served): in the server's unrouted requests.
  void CountRefused(std::string_view target, int status) const {
    if (routes.otlp && target.starts_with("/v1/"))
      RecordRequest(registry, IngestResult{}, pipeline::Transport::kHttp, status, 0.0);
  }

  net::awaitable<Response> HandleOtlp(Request& req, RequestBudget::Lease lease, int fd,
                                      std::string_view target, IngestResult* routed) {
    const unsigned v = req.version();
    Signal signal;
    if (target == "/v1/logs")
      signal = Signal::kLogs;
    else if (target == "/v1/metrics")
      signal = Signal::kMetrics;
    else if (target == "/v1/traces")
      signal = Signal::kTraces;
    else
      co_return Plain(404, Cat("no such path: ", target), v);
    if (req.method() != http::verb::post) {
      Response r = Plain(405, "method not allowed: OTLP/HTTP takes POST", v);
      r.set(http::field::allow, "POST");
      co_return r;
    }
    const std::string media = MediaType(std::string_view(req[http::field::content_type].data(),
                                                         req[http::field::content_type].size()));
    bool json;
    if (media == "application/x-protobuf")
      json = false;
    else if (media == "application/json")
      json = true;
    else
      co_return Plain(415,
                      Cat("unsupported Content-Type '", media,
                          "': use application/x-protobuf or application/json"),
                      v);

    std::optional<std::string_view> pipeline_id;
    auto it = req.find(std::string(kPipelineHeader));
    if (it != req.end()) pipeline_id = std::string_view(it->value().data(), it->value().size());

    auto enc = req[http::field::content_encoding];
    auto body =
        Decompress(std::string_view(enc.data(), enc.size()), req.body(), opts.max_body_bytes);
    if (!body.ok()) co_return Answer(HttpError(body.status(), json), v);
    req.body().clear();
    req.body().shrink_to_fit();
    lease.Resize(body->size());  // inflated: in memory already, counted from now on

    IngestResult& r = *routed;
    r = co_await AwaitIngest(registry, signal, pipeline_id, std::move(*body), json,
                             std::move(lease), [fd] { return ClientStillThere(fd); });
    if (!r.status.ok()) co_return Answer(HttpError(r.status, json), v);
    co_return Answer(HttpSuccess(signal, r.rejected, r.partial_message, json), v);
  }
};

// The answer to a request that cannot be parsed (then the connection closes): 431 for
// oversized headers, 400 for the rest; 0 when the client went away or timed out (nothing
// to answer).
int MalformedStatus(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == beast::error::timeout || ec == net::error::eof || ec == net::error::connection_reset ||
      ec == net::error::operation_aborted || ec == net::error::broken_pipe)
    return 0;
  // Beast's parse errors (bad method, target, version, field, length, chunk, ...).
  if (ec.category() == beast::error_code(http::error::bad_method).category()) return 400;
  return 0;
}

// Why a parsed header cannot be served, as a status and reason (0: fine). The parser takes
// a Transfer-Encoding whose last coding is chunked as chunked; other codings would be
// silently ignored, so they are refused. Very many header fields are refused like long ones.
std::pair<int, std::string> CheckHead(const http::request_parser<http::string_body>& parser) {
  const auto& head = parser.get();
  size_t fields = 0;
  for (auto it = head.begin(); it != head.end(); ++it)
    if (++fields > 256) return {431, "too many header fields (more than 256)"};
  auto te = head.find(http::field::transfer_encoding);
  if (te != head.end()) {
    std::string_view v(te->value().data(), te->value().size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (!beast::iequals(beast::string_view(v.data(), v.size()), "chunked"))
      return {501, Cat("Transfer-Encoding '", v,
                       "' is not supported: send the body chunked or sized, and compress it with "
                       "Content-Encoding")};
    if (head.find(http::field::content_length) != head.end())
      return {400, "both Content-Length and Transfer-Encoding"};
  }
  return {0, ""};
}

net::awaitable<void> Session(tcp::socket socket, Handler handler, std::atomic<int>& in_flight) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  beast::error_code ec;
  // Answers a request that cannot be served and closes: the client learns why instead of
  // seeing a reset.
  auto refuse = [&](int status, std::string_view reason) -> net::awaitable<void> {
    Response res = Closing(status, reason);
    beast::error_code wec;
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, wec));
    stream.socket().shutdown(tcp::socket::shutdown_send, wec);
  };
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(handler.opts.max_body_bytes);
    // The body's bytes count against the server's request memory before they are read: a
    // declared length at once, chunks as they are announced.
    RequestBudget::Lease lease;
    bool over_budget = false;
    auto on_chunk = [&](std::uint64_t size, beast::string_view, beast::error_code& cec) {
      if (!lease.TryGrow(size)) {
        over_budget = true;
        cec = net::error::no_buffer_space;
      }
    };
    parser.on_chunk_header(on_chunk);
    stream.expires_after(handler.opts.idle_timeout);
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    // A declared Content-Length over the limit fails while reading the header.
    const bool declared_too_large = ec == http::error::body_limit;
    if (ec && !declared_too_large) {
      if (int status = MalformedStatus(ec))
        co_await refuse(status, Cat("malformed HTTP request: ", ec.message()));
      break;
    }
    if (!declared_too_large) {
      auto [status, reason] = CheckHead(parser);
      if (status != 0) {
        handler.CountRefused(
            std::string_view(parser.get().target().data(), parser.get().target().size()), status);
        co_await refuse(status, reason);
        break;
      }
    }
    in_flight++;
    auto& head = parser.get();
    if (!declared_too_large) {
      bool fits;
      lease = handler.budget.TryLease(parser.content_length().value_or(0), &fits);
      over_budget = !fits;
    }
    if (!declared_too_large && !over_budget &&
        beast::iequals(head[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, head.version()};
      co_await http::async_write(stream, cont, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        in_flight--;
        break;
      }
    }
    if (declared_too_large)
      ec = http::error::body_limit;
    else if (!over_budget)
      co_await http::async_read(stream, buffer, parser,
                                net::redirect_error(net::use_awaitable, ec));
    Response res;
    bool keep_alive = true;
    const bool json =
        MediaType(std::string_view(head[http::field::content_type].data(),
                                   head[http::field::content_type].size())) == "application/json";
    if (over_budget) {
      // Not read: the client retries later (429), when other requests have gone through.
      res = Answer(HttpError(Overloaded(Cat("the server holds ", handler.budget.used(),
                                            " bytes of requests, its limit; retry later")),
                             json),
                   head.version());
      keep_alive = false;
      handler.CountRefused(std::string_view(head.target().data(), head.target().size()), 429);
    } else if (ec == http::error::body_limit) {
      Status too_large = absl::ResourceExhaustedError(
          Cat("request body exceeds the limit of ", handler.opts.max_body_bytes, " bytes"));
      res = Answer(HttpError(too_large, json), head.version());
      keep_alive = false;  // the rest of the body is not read
      handler.CountRefused(std::string_view(head.target().data(), head.target().size()), 413);
    } else if (ec) {
      in_flight--;
      if (int status = MalformedStatus(ec))
        co_await refuse(status, Cat("malformed HTTP request body: ", ec.message()));
      break;
    } else {
      Request req = parser.release();
      keep_alive = req.keep_alive();
      res = co_await handler.Handle(req, std::move(lease), stream.socket().native_handle());
    }
    res.keep_alive(keep_alive);
    // The append may have taken a while: the answer gets its own time to be written.
    stream.expires_after(handler.opts.idle_timeout);
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    in_flight--;
    lease.Release();
    if (!ec && !keep_alive && (res.result_int() == 413 || over_budget)) {
      // Let the client finish sending so it reads the answer instead of a reset: discard
      // up to 64 MiB for at most 2 s (into a small buffer: no memory is held).
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      std::vector<char> sink(64 * 1024);
      size_t drained = 0;
      stream.expires_after(std::chrono::seconds(2));
      while (drained < (64u << 20)) {
        size_t n = co_await stream.async_read_some(net::buffer(sink),
                                                   net::redirect_error(net::use_awaitable, ec));
        if (ec) break;
        drained += n;
      }
      co_return;
    }
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// Answers a connection that cannot be served (out of descriptors, or over the connection
// limit) with 503 and closes it at once (it holds a scarce descriptor). What the client has
// sent so far is read first: closing with unread input would reset the connection before
// the client reads the answer.
void Refuse503(tcp::socket& socket, std::string_view why) {
  beast::error_code ec;
  socket.non_blocking(true, ec);
  char sink[8192];
  while (!ec && socket.read_some(net::buffer(sink), ec) > 0) {
  }
  ec = {};
  Response res = Closing(503, why);
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  while (!ec && socket.read_some(net::buffer(sink), ec) > 0) {
  }
  socket.close(ec);
}

net::awaitable<void> Listen(tcp::acceptor& acceptor, Handler handler, std::atomic<int>& in_flight,
                            std::atomic<int>& connections) {
  auto executor = co_await net::this_coro::executor;
  // A descriptor held in reserve: when accept fails for want of descriptors, it is given
  // up for a moment to take the waiting connection and tell it 503 (instead of leaving it
  // hanging, or spinning on accept).
  int reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  net::steady_timer pause(executor);
  while (true) {
    if (reserve < 0) reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    beast::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) break;
      if (ec == net::error::no_descriptors ||
          ec == boost::system::errc::too_many_files_open_in_system) {
        SLOG(WARN) << "out of file descriptors: answering 503";
        if (reserve >= 0) {
          ::close(reserve);
          reserve = -1;
          tcp::socket s = acceptor.accept(ec);
          if (!ec) Refuse503(s, "the server is out of file descriptors; retry later");
          reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        pause.expires_after(std::chrono::milliseconds(reserve >= 0 ? 5 : 50));
        co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      }
      continue;
    }
    if (connections.load() >= handler.opts.max_connections) {
      Refuse503(socket, "too many connections; retry later");
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    connections++;
    net::co_spawn(executor, Session(std::move(socket), handler, in_flight),
                  [&connections](std::exception_ptr) { connections--; });
  }
  if (reserve >= 0) ::close(reserve);
}

}  // namespace

Status HttpServer::Start() {
  beast::error_code ec;
  auto addr = net::ip::make_address(opts_.address, ec);
  if (ec) return absl::InvalidArgumentError(Cat("bad HTTP listen address '", opts_.address, "'"));
  tcp::endpoint ep(addr, static_cast<unsigned short>(opts_.port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        Cat("cannot listen on ", opts_.address, ":", opts_.port, ": ", ec.message()));
  bound_port_ = a.local_endpoint().port();
  Handler handler{opts_, registry_, ready_, budget_, routes_};
  net::co_spawn(impl_->ioc, Listen(a, handler, impl_->in_flight, impl_->connections),
                net::detached);
  for (int i = 0; i < std::max(1, opts_.io_threads); ++i)
    impl_->threads.emplace_back([this] {
      NameThisThread("sluice-http");
      impl_->ioc.run();
    });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  for (int i = 0; i < 50 && impl_->in_flight.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

}  // namespace sluice::receivers
