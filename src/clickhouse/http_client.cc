#include "clickhouse/http_client.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "clickhouse/errors.h"
#include "clickhouse/native_client.h"
#include "core/cat.h"
#include "core/tcp_stream.h"

namespace sluice::clickhouse {

namespace beast = boost::beast;
namespace http = beast::http;

// One blocking connection with deadlines: a socket and poll(2), no event loop, so a client
// costs one descriptor and a failed system call is an error, never an exception.
struct HttpClient::Conn {
  TcpStream stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(Endpoint ep, std::chrono::milliseconds timeout)
    : ep_(std::move(ep)), timeout_(timeout), conn_(std::make_unique<Conn>()) {}

HttpClient::~HttpClient() = default;

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

StatusOr<HttpResult> HttpClient::Post(std::string_view params, std::string_view body) {
  Headers headers = {{"X-ClickHouse-User", ep_.user}};
  if (!ep_.password.empty()) headers.emplace_back("X-ClickHouse-Key", ep_.password);
  return Send(Cat("/?", params), headers, body);
}

StatusOr<HttpResult> HttpClient::Send(const std::string& target, const Headers& headers,
                                      std::string_view body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto deadline = TcpStream::Clock::now() + timeout_;
    const bool reused = conn_->stream.is_open();
    if (!reused) {
      if (auto ec = conn_->stream.Connect(ep_.host, ep_.port, deadline))
        return absl::UnavailableError(Cat("connect ", ep_.host, ":", ep_.port, ": ", ec.message()));
      if (ep_.tls.enabled) {
        if (!ep_.tls_context)  // never plaintext (with the password) instead
          return absl::FailedPreconditionError("TLS requested without a TLS context");
        const std::string& name = ep_.tls.server_name.empty() ? ep_.host : ep_.tls.server_name;
        if (std::string why = conn_->stream.StartTls(*ep_.tls_context, name, deadline);
            !why.empty())
          return absl::UnavailableError(Cat("ClickHouse ", ep_.host, ":", ep_.port, ": ", why));
      }
      conn_->buffer.clear();
    }
    conn_->stream.set_deadline(deadline);
    conn_->stream.set_cancel(cancel_);
    // The body is sent from the caller's bytes (a batch can be tens of MiB: no copy).
    http::request<http::span_body<const char>> req{http::verb::post, target, 11};
    req.set(http::field::host, ep_.host);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(true);
    req.body() = beast::span<const char>(body.data(), body.size());
    req.prepare_payload();
    beast::error_code ec;
    http::write(conn_->stream, req, ec);
    // The server may answer (an error) before reading the whole body: still read.
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code rec;
    http::read(conn_->stream, conn_->buffer, parser, rec);
    if (rec) {
      conn_->stream.Close();
      // A reused keep-alive connection may have been closed by the server: retry once (not
      // after a timeout or a cancel, which would only double the wait).
      const bool timed_out =
          rec == boost::system::errc::timed_out || rec == boost::system::errc::operation_canceled;
      if (attempt == 0 && reused && !timed_out) continue;
      return absl::UnavailableError(
          Cat("HTTP exchange with ", ep_.host, ":", ep_.port, " failed: ", rec.message(),
              conn_->stream.tls_error().empty() ? "" : Cat(" (", conn_->stream.tls_error(), ")"),
              reused || timed_out ? "" : HandshakeHint(ep_, false)));
    }
    HttpResult res;
    res.status = static_cast<int>(parser.get().result_int());
    res.body = std::move(parser.get().body());
    if (!parser.get().keep_alive()) conn_->stream.Close();
    return res;
  }
  return absl::UnavailableError(Cat("HTTP exchange with ", ep_.host, ":", ep_.port, " failed"));
}

StatusOr<std::string> HttpClient::Query(std::string_view sql) {
  auto r = Post(Cat("database=", UrlEncode(ep_.database)), sql);
  if (!r.ok()) return r.status();
  if (r->status != 200 || r->body.rfind("Code: ", 0) == 0)
    return StatusFromResponse(r->status, r->body);
  return std::move(r->body);
}

}  // namespace sluice::clickhouse
