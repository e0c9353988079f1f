#include "receivers/listener.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include "core/cat.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "receivers/server_tls.h"

namespace sluice::receivers {

namespace beast = boost::beast;

Status Bind(tcp::acceptor& a, const std::string& address, int port, std::string_view what) {
  beast::error_code ec;
  auto addr = net::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(Cat("bad ", what, " listen address '", address, "'"));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        Cat("cannot listen for ", what, " on ", address, ":", port, ": ", ec.message()));
  return absl::OkStatus();
}

net::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, ListenerStats& stats,
                                const int& max_connections, std::function<void(tcp::socket)> serve,
                                std::function<void(tcp::socket&, std::string_view)> refuse) {
  auto executor = co_await net::this_coro::executor;
  int reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  net::steady_timer pause(executor);
  while (true) {
    if (reserve < 0) reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    beast::error_code ec;
    // Each connection on a strand of its own: its reads, writes and deadline never run at
    // once on the listener's threads.
    tcp::socket socket = co_await acceptor.async_accept(
        net::make_strand(acceptor.get_executor()), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) break;
      if (ec == net::error::no_descriptors ||
          ec == boost::system::errc::too_many_files_open_in_system) {
        SLOG(WARN) << stats.name << " listener: out of file descriptors: refusing connections";
        if (reserve >= 0) {
          ::close(reserve);
          reserve = -1;
          tcp::socket s = acceptor.accept(ec);
          if (!ec) {
            refuse(s, "the server is out of file descriptors; retry later");
            s.close(ec);
          }
          reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        pause.expires_after(std::chrono::milliseconds(reserve >= 0 ? 5 : 50));
        co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      }
      continue;
    }
    if (stats.connections.load() >= max_connections) {
      stats.Refuse(Refusal::kMaxConnections);
      refuse(socket, "too many connections; retry later");
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    stats.connections++;
    stats.accepted++;
    serve(std::move(socket));
  }
  if (reserve >= 0) ::close(reserve);
}

net::awaitable<bool> ServerHandshake(TlsStream& stream, std::chrono::milliseconds timeout,
                                     ListenerStats& stats) {
  static LogThrottle throttle(10, std::chrono::seconds(60));
  beast::error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(timeout);
  co_await stream.async_handshake(net::ssl::stream_base::server,
                                  net::redirect_error(net::use_awaitable, ec));
  lowest.expires_never();
  if (!ec) co_return true;
  const bool timed_out = ec == beast::error::timeout;
  stats.Refuse(timed_out ? Refusal::kHandshakeTimeout : Refusal::kTlsHandshake);
  // OpenSSL's "certificate verify failed" does not say what was wrong with it.
  std::string why = ec.message();
  if (const long v = SSL_get_verify_result(stream.native_handle()); v != X509_V_OK)
    why += Cat(" (client certificate: ", X509_verify_cert_error_string(v), ")");
  uint64_t suppressed = 0;
  if (throttle.Allow(&suppressed)) {
    beast::error_code pec;
    const auto peer = lowest.socket().remote_endpoint(pec);
    SLOG(INFO) << stats.name << " listener: TLS handshake with "
               << (pec ? std::string("a client")
                       : Cat(peer.address().to_string(), ":", peer.port()))
               << (timed_out ? " did not finish in time" : Cat(" failed: ", why))
               << (suppressed ? Cat(" (", suppressed, " more not logged)") : std::string());
  }
  co_return false;
}

net::awaitable<void> WatchTls(ServerTls& tls) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (true) {
    timer.expires_after(tls.options().reload_interval);
    beast::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    tls.Refresh(false);
  }
}

void ReadDeadline::Arm(std::weak_ptr<tcp::socket> socket, std::chrono::milliseconds after) {
  *passed_ = false;
  const uint64_t generation = ++*generation_;
  timer_->expires_after(after);
  timer_->async_wait([timer = timer_, passed = passed_, gen = generation_, generation,
                      socket](const beast::error_code& ec) {
    // Disarmed, re-armed or destroyed (a completion already queued when the deadline was
    // re-armed is stale too).
    if (ec || *gen != generation) return;
    *passed = true;
    if (auto s = socket.lock()) {
      beast::error_code cec;
      s->cancel(cec);
      // A read whose completion was already queued would start the next read with no
      // deadline: reads end from now on (writes still work, so a 408 can be sent).
      s->shutdown(tcp::socket::shutdown_receive, cec);
    }
  });
}

}  // namespace sluice::receivers
