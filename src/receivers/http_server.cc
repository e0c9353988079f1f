#include "receivers/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/cat.h"
#include "core/log.h"
#include "core/text.h"
#include "core/thread_name.h"
#include "receivers/decompress.h"
#include "receivers/ingest.h"
#include "receivers/listener.h"
#include "receivers/server_tls.h"
#include "receivers/status_map.h"

namespace sluice::receivers {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
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
  for (const auto& [name, value] : a.headers) res.set(name, value);
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
  std::shared_ptr<ListenerStats> stats;
  std::unique_ptr<ServerTls> tls;
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

bool HealthPath(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/livez" || path == "/api/v1/healthz" ||
         path == "/api/v2/healthz";
}

// Whether a browser's Origin header ("http://host:port") names the Host the request was
// sent to.
bool SameOrigin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.starts_with(scheme)) {
      origin.remove_prefix(scheme.size());
      return origin.size() == host.size() &&
             std::equal(origin.begin(), origin.end(), host.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
             });
    }
  return false;  // "null" (a sandboxed page, a file) and anything else
}

// Whether a Host header ("name:port", "[v6]:port") names this machine's loopback.
bool LoopbackHost(std::string_view host) {
  std::string_view name = host;
  if (name.starts_with('[')) {
    name = name.substr(1, name.find(']') == std::string_view::npos ? 0 : name.find(']') - 1);
    return name == "::1";
  }
  name = name.substr(0, name.find(':'));
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.ends_with('.')) lower.pop_back();
  in_addr v4{};
  // Browsers resolve localhost and its subdomains to loopback themselves (RFC 6761).
  return lower == "localhost" || lower.ends_with(".localhost") ||
         (inet_pton(AF_INET, lower.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

// The admin listener's paths served without credentials: the health checks and the
// console's static files (they hold no data; the console asks for the token and sends it
// with its API calls).
bool PublicAdminPath(std::string_view method, std::string_view path) {
  if (HealthPath(path)) return true;
  return (method == "GET" || method == "HEAD") && (path == "/ui" || path.starts_with("/ui/"));
}

struct Handler {
  const HttpOptions& opts;
  pipeline::Registry& registry;
  const std::atomic<bool>& ready;
  RequestBudget& budget;
  const HttpRoutes& routes;
  ListenerStats& stats;

  // A refusal before the routes see the request: OTLP's google.rpc.Status on the OTLP
  // listener, the REST API's {status, code, message} elsewhere (the admin listener).
  HttpAnswer Refusal(const Status& s, bool json) const {
    HttpAnswer a = HttpError(s, json);
    if (routes.otlp) return a;
    std::string body = Cat("{\"status\":", a.status, ",\"code\":");
    AppendJsonString(a.status == 401   ? "unauthorized"
                     : a.status == 403 ? "forbidden"
                     : a.status == 413 ? "request_entity_too_large"
                     : a.status == 429 ? "too_many_requests"
                                       : "error",
                     &body);
    body += ",\"message\":";
    AppendJsonString(std::string(s.message()), &body);
    body += "}";
    a.body = std::move(body);
    a.content_type = "application/problem+json";
    return a;
  }

  // Credentials, checked from the header alone (before the body is read): OK, or the
  // Unauthenticated / PermissionDenied answer, counted. Sets the challenge for a 401.
  Status Authorize(const http::request_parser<http::string_body>& parser,
                   std::string* challenge) const {
    const auto& head = parser.get();
    std::string_view target(head.target().data(), head.target().size());
    target = target.substr(0, target.find('?'));
    const std::string_view method(head.method_string().data(), head.method_string().size());
    const auto auth = routes.auth != nullptr ? routes.auth->Get() : nullptr;
    const bool token = auth != nullptr && auth->enabled();
    if (!routes.otlp) {
      if (Status s = CheckBrowserOrigin(head, method, target, token); !s.ok()) {
        stats.Refuse(Refusal::kForbidden);
        return s;
      }
    }
    if (!token) return absl::OkStatus();
    const bool guarded =
        routes.otlp ? target.starts_with("/v1/") : !PublicAdminPath(method, target);
    if (!guarded) return absl::OkStatus();
    const auto a = head[http::field::authorization];
    std::string_view pipeline_id;
    if (auto it = head.find(std::string(kPipelineHeader)); it != head.end())
      pipeline_id = std::string_view(it->value().data(), it->value().size());
    Status s = auth->Check(std::string_view(a.data(), a.size()), pipeline_id);
    if (absl::IsUnauthenticated(s)) {
      stats.Refuse(Refusal::kUnauthenticated);
      *challenge = auth->challenge();
    } else if (absl::IsPermissionDenied(s)) {
      stats.Refuse(Refusal::kForbidden);
    }
    return s;
  }

  // The admin listener's defences against other sites' pages in an operator's browser,
  // which may send simple requests (a form's POST, an image's GET) with no token, and on
  // loopback none may be needed:
  // - a browser names the page's origin (Origin) and whether it is another site's
  //   (Sec-Fetch-Site): only the listener's own pages (the console) may call it, and other
  //   sites may only link to the console's files;
  // - without a token, a name other than localhost in Host is a page that had its own
  //   name point at this machine (DNS rebinding): refused, as the listener is on loopback.
  // `target` is without its query; `token`: the listener asks for one.
  Status CheckBrowserOrigin(const http::request_parser<http::string_body>::value_type& head,
                            std::string_view method, std::string_view target, bool token) const {
    const auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
    const std::string_view origin = sv(head[http::field::origin]),
                           host = sv(head[http::field::host]);
    if (!origin.empty() && !SameOrigin(origin, host))
      return absl::PermissionDeniedError(
          Cat("a page of another origin (", origin, ") may not call the admin listener"));
    const std::string_view site = sv(head["Sec-Fetch-Site"]);
    if ((site == "cross-site" || site == "same-site") && !PublicAdminPath(method, target))
      return absl::PermissionDeniedError("a page of another site may not call the admin listener");
    if (!token && !host.empty() && !LoopbackHost(host))
      return absl::PermissionDeniedError(
          Cat("the admin listener has no token and answers only to a loopback address or "
              "localhost, not to '",
              host, "'"));
    return absl::OkStatus();
  }

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

tcp::socket& Socket(beast::tcp_stream& s) { return s.socket(); }
tcp::socket& Socket(TlsStream& s) { return beast::get_lowest_layer(s).socket(); }

// The end of a connection: TLS says close_notify (waiting at most a second for the
// client's), then the sending side is shut.
net::awaitable<void> CloseStream(beast::tcp_stream& s) {
  beast::error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}
net::awaitable<void> CloseStream(TlsStream& s) {
  beast::error_code ec;
  beast::get_lowest_layer(s).expires_after(std::chrono::seconds(1));
  co_await s.async_shutdown(net::redirect_error(net::use_awaitable, ec));
  Socket(s).shutdown(tcp::socket::shutdown_send, ec);
}

// Serves one connection's requests until it closes. `sp` is shared with the read deadline,
// which holds the socket weakly.
template <class Stream>
net::awaitable<void> Session(std::shared_ptr<Stream> sp, Handler handler,
                             std::atomic<int>& in_flight) {
  Stream& stream = *sp;
  auto& lowest = beast::get_lowest_layer(stream);
  const std::weak_ptr<tcp::socket> weak_socket(std::shared_ptr<tcp::socket>(sp, &Socket(stream)));
  ReadDeadline deadline(co_await net::this_coro::executor);
  beast::flat_buffer buffer;
  beast::error_code ec;
  // Answers a request that cannot be served and closes: the client learns why instead of
  // seeing a reset.
  auto refuse = [&](int status, std::string_view reason) -> net::awaitable<void> {
    Response res = Closing(status, reason);
    beast::error_code wec;
    lowest.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, wec));
    co_await CloseStream(stream);
  };
  while (true) {
    // Between requests: the connection may stay idle this long.
    if (buffer.size() == 0) {
      deadline.Arm(weak_socket, handler.opts.idle_timeout);
      const size_t n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                                       net::redirect_error(net::use_awaitable, ec));
      deadline.Disarm();
      if (ec) break;  // idle too long, or the client left: nothing to answer
      buffer.commit(n);
    }
    // From its first byte, the whole request must arrive in time.
    deadline.Arm(weak_socket, handler.opts.request_timeout);
    auto timed_out = [&] {
      if (!deadline.passed()) return false;
      handler.stats.Refuse(Refusal::kRequestTimeout);
      return true;
    };
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(handler.opts.max_header_bytes));
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
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    // A declared Content-Length over the limit fails while reading the header.
    const bool declared_too_large = ec == http::error::body_limit;
    if (ec && !declared_too_large) {
      deadline.Disarm();
      if (timed_out()) {
        co_await refuse(408, "the request was not received in time");
      } else if (int status = MalformedStatus(ec)) {
        if (status == 431) handler.stats.Refuse(Refusal::kHeaderTooLarge);
        co_await refuse(status, Cat("malformed HTTP request: ", ec.message()));
      }
      break;
    }
    std::string challenge;
    Status denied = absl::OkStatus();
    if (!declared_too_large) {
      auto [status, reason] = CheckHead(parser);
      if (status != 0) {
        deadline.Disarm();
        if (status == 431) handler.stats.Refuse(Refusal::kHeaderTooLarge);
        handler.CountRefused(
            std::string_view(parser.get().target().data(), parser.get().target().size()), status);
        co_await refuse(status, reason);
        break;
      }
      denied = handler.Authorize(parser, &challenge);
    }
    in_flight++;
    auto& head = parser.get();
    if (!declared_too_large && denied.ok()) {
      bool fits;
      lease = handler.budget.TryLease(parser.content_length().value_or(0), &fits);
      over_budget = !fits;
    }
    if (!declared_too_large && denied.ok() && !over_budget &&
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
    else if (!over_budget && denied.ok())
      co_await http::async_read(stream, buffer, parser,
                                net::redirect_error(net::use_awaitable, ec));
    deadline.Disarm();
    Response res;
    bool keep_alive = true;
    bool drain = false;  // the body was not read: let the client finish sending it
    const bool json =
        MediaType(std::string_view(head[http::field::content_type].data(),
                                   head[http::field::content_type].size())) == "application/json";
    const std::string_view target(head.target().data(), head.target().size());
    if (!denied.ok()) {
      res = Answer(handler.Refusal(denied, json), head.version());
      if (!challenge.empty()) res.set(http::field::www_authenticate, challenge);
      keep_alive = false;
      drain = true;
      handler.CountRefused(target, res.result_int());
    } else if (over_budget) {
      // Not read: the client retries later (429), when other requests have gone through.
      res = Answer(handler.Refusal(Overloaded(Cat("the server holds ", handler.budget.used(),
                                                  " bytes of requests, its limit; retry later")),
                                   json),
                   head.version());
      keep_alive = false;
      drain = true;
      handler.CountRefused(target, 429);
    } else if (ec == http::error::body_limit) {
      Status too_large = absl::ResourceExhaustedError(
          Cat("request body exceeds the limit of ", handler.opts.max_body_bytes, " bytes"));
      res = Answer(handler.Refusal(too_large, json), head.version());
      keep_alive = false;
      drain = true;
      handler.CountRefused(target, 413);
    } else if (ec) {
      in_flight--;
      if (timed_out())
        co_await refuse(408, "the request was not received in time");
      else if (int status = MalformedStatus(ec))
        co_await refuse(status, Cat("malformed HTTP request body: ", ec.message()));
      break;
    } else {
      Request req = parser.release();
      keep_alive = req.keep_alive();
      res = co_await handler.Handle(req, std::move(lease), Socket(stream).native_handle());
    }
    res.keep_alive(keep_alive);
    // The append may have taken a while: the answer gets its own time to be written.
    lowest.expires_after(handler.opts.idle_timeout);
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    lowest.expires_never();
    in_flight--;
    lease.Release();
    if (!ec && drain) {
      // Let the client finish sending so it reads the answer instead of a reset: discard
      // up to 64 MiB for at most 2 s (into a small buffer: no memory is held).
      Socket(stream).shutdown(tcp::socket::shutdown_send, ec);
      std::vector<char> sink(64 * 1024);
      size_t drained = 0;
      lowest.expires_after(std::chrono::seconds(2));
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
  co_await CloseStream(stream);
}

// Answers a connection that cannot be served (out of descriptors, or over the connection
// limit) with 503 before it is closed (it holds a scarce descriptor). What the client has
// sent so far is read first: closing with unread input would reset the connection before
// the client reads the answer. Over TLS no answer can be given before a handshake: the
// connection is only closed.
void Refuse503(tcp::socket& socket, std::string_view why, bool tls) {
  beast::error_code ec;
  socket.non_blocking(true, ec);
  char sink[8192];
  while (!ec && socket.read_some(net::buffer(sink), ec) > 0) {
  }
  ec = {};
  if (!tls) {
    Response res = Closing(503, why);
    http::write(socket, res, ec);
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  while (!ec && socket.read_some(net::buffer(sink), ec) > 0) {
  }
}

// One accepted connection: the TLS handshake if any, then its requests.
net::awaitable<void> Connection(tcp::socket socket, Handler handler, ServerTls* tls,
                                std::atomic<int>& in_flight) {
  if (tls == nullptr) {
    co_await Session(std::make_shared<beast::tcp_stream>(std::move(socket)), handler, in_flight);
    co_return;
  }
  auto ctx = tls->Current();  // this connection's, whatever is reloaded meanwhile
  auto stream = std::make_shared<TlsStream>(std::move(socket), *ctx);
  if (co_await ServerHandshake(*stream, handler.opts.handshake_timeout, handler.stats))
    co_await Session(stream, handler, in_flight);
}

}  // namespace

Status HttpServer::Start() {
  impl_->stats = ListenerStatsFor(opts_.name);
  if (opts_.tls.enabled()) {
    auto tls = ServerTls::Create(opts_.tls, kAlpnHttp11, impl_->stats);
    if (!tls.ok())
      return absl::InvalidArgumentError(Cat(opts_.name, ".tls: ", tls.status().message()));
    impl_->tls = std::move(*tls);
  }
  auto& a = impl_->acceptor;
  if (Status s = Bind(a, opts_.address, opts_.port, opts_.name == "admin" ? "admin" : "HTTP");
      !s.ok())
    return s;
  bound_port_ = a.local_endpoint().port();
  Handler handler{opts_, registry_, ready_, budget_, routes_, *impl_->stats};
  ServerTls* tls = impl_->tls.get();
  auto serve = [this, handler, tls](tcp::socket socket) {
    auto ex = socket.get_executor();
    net::co_spawn(ex, Connection(std::move(socket), handler, tls, impl_->in_flight),
                  [stats = impl_->stats](std::exception_ptr) { stats->connections--; });
  };
  auto refuse = [tls](tcp::socket& socket, std::string_view why) {
    Refuse503(socket, why, tls != nullptr);
  };
  net::co_spawn(impl_->ioc, AcceptLoop(a, *impl_->stats, opts_.max_connections, serve, refuse),
                net::detached);
  if (tls != nullptr && tls->options().reload_interval.count() > 0)
    net::co_spawn(impl_->ioc, WatchTls(*tls), net::detached);
  for (int i = 0; i < std::max(1, opts_.io_threads); ++i)
    impl_->threads.emplace_back([this] {
      NameThisThread("sluice-http");
      impl_->ioc.run();
    });
  return absl::OkStatus();
}

void HttpServer::RefreshTls(bool force) {
  if (impl_->tls) impl_->tls->Refresh(force);
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
