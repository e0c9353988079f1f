// What the HTTP and gRPC listeners share: binding, the accept loop with its connection limit
// and descriptor reserve, the TLS handshake with its deadline, and a read deadline that
// leaves the socket open (so that a 408 can still be written).
// Used on the listeners' I/O threads; each connection runs on a strand of its own.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "receivers/listener_stats.h"

namespace sluice::receivers {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Opens, binds and listens on address:port (port 0: any).
Status Bind(tcp::acceptor& acceptor, const std::string& address, int port, std::string_view what);

// Accepts until the acceptor closes. Each connection within `max_connections` (counted in
// stats.connections by `serve`'s caller, see below) gets a strand of its own and goes to
// `serve`; over the limit it goes to `refuse` (then closed) and is counted. When accept fails
// for want of descriptors, a reserved descriptor is given up for a moment to take the
// waiting connection and refuse it, instead of spinning or leaving it hanging.
// `serve` owns the connection from then on, and decrements stats.connections when done.
net::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, ListenerStats& stats,
                                const int& max_connections, std::function<void(tcp::socket)> serve,
                                std::function<void(tcp::socket&, std::string_view)> refuse);

// The server side of a TLS handshake within `timeout`; a failure is counted (timeout or
// handshake) and logged (throttled) with OpenSSL's reason. True: the connection is secure.
net::awaitable<bool> ServerHandshake(TlsStream& stream, std::chrono::milliseconds timeout,
                                     ListenerStats& stats);

class ServerTls;
// Checks the TLS files for changes every reload_interval, until the executor stops.
net::awaitable<void> WatchTls(ServerTls& tls);

// A deadline for reads that cancels the socket's pending operations when it passes, leaving
// the socket open. Must be used from the connection's strand; the socket is held weakly, so
// the deadline may outlive it.
class ReadDeadline {
 public:
  explicit ReadDeadline(net::any_io_executor ex)
      : timer_(std::make_shared<net::steady_timer>(ex)) {}
  ~ReadDeadline() { timer_->cancel(); }
  void Arm(std::weak_ptr<tcp::socket> socket, std::chrono::milliseconds after);
  void Disarm() {
    ++*generation_;
    timer_->cancel();
  }
  bool passed() const { return *passed_; }

 private:
  std::shared_ptr<net::steady_timer> timer_;
  std::shared_ptr<bool> passed_ = std::make_shared<bool>(false);
  std::shared_ptr<uint64_t> generation_ = std::make_shared<uint64_t>(0);
};

}  // namespace sluice::receivers
