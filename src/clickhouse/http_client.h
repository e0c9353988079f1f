// A minimal blocking HTTP/1.1 client for ClickHouse's HTTP interface: Beast's parser and
// serializer over one TcpStream (a socket with deadlines, no event loop). One connection,
// reused (keep-alive) and re-opened on failure; each exchange ends by the timeout. The transport
// With ep.tls enabled the connection is HTTPS. The transport
// (Send) also serves other HTTP endpoints: the load generator posts OTLP with it. Not thread-safe:
// each inserter thread owns its client.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clickhouse/endpoint.h"
#include "core/status.h"

namespace sluice::clickhouse {

struct HttpResult {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(Endpoint ep, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POST /?<params> with `body`. A transport failure is Unavailable; any HTTP answer,
  // including an error status, is returned as a result.
  StatusOr<HttpResult> Post(std::string_view params, std::string_view body);

  // POST `target` (path and query) with `headers` and `body`, on the kept-alive
  // connection; a reused connection the server closed is re-opened once. A transport
  // failure is Unavailable; any HTTP answer is returned as a result.
  using Headers = std::vector<std::pair<std::string, std::string>>;
  StatusOr<HttpResult> Send(const std::string& target, const Headers& headers,
                            std::string_view body);

  // Runs a statement (sent as the body) and returns its output; ClickHouse errors are
  // classified by StatusFromResponse.
  StatusOr<std::string> Query(std::string_view sql);

  const Endpoint& endpoint() const { return ep_; }
  // An exchange in progress gives up (Unavailable) soon after *cancel becomes true.
  void set_cancel(const std::atomic<bool>* cancel) { cancel_ = cancel; }

 private:
  struct Conn;
  Endpoint ep_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Conn> conn_;
  const std::atomic<bool>* cancel_ = nullptr;
};

// Percent-encodes a URL query parameter value.
std::string UrlEncode(std::string_view s);

}  // namespace sluice::clickhouse
