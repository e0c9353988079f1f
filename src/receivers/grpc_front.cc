#include "receivers/grpc_front.h"

#include <fcntl.h>
#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "core/cat.h"
#include "core/thread_name.h"
#include "receivers/listener.h"
#include "receivers/server_tls.h"

namespace sluice::receivers {
namespace {

namespace beast = boost::beast;
using local = net::local::stream_protocol;

// A TLS connection and the socket pair's end that carries its plaintext to gRPC. Shared by
// the two directions; the last one to finish closes both and counts the connection gone.
struct TlsPipe {
  TlsPipe(tcp::socket s, net::ssl::context& ctx, std::shared_ptr<ListenerStats> st)
      : tls(std::move(s), ctx), plain(tls.get_executor()), stats(std::move(st)) {}
  ~TlsPipe() { stats->connections--; }
  TlsStream tls;
  local::socket plain;
  std::shared_ptr<ListenerStats> stats;
  std::array<char, 16 * 1024> up{}, down{};  // a TLS record at most
};

// Client -> gRPC: decrypted bytes go to the pair; at the client's end (or error), gRPC is
// told by shutting the pair's sending side.
net::awaitable<void> Upstream(std::shared_ptr<TlsPipe> p) {
  beast::error_code ec;
  while (true) {
    const size_t n = co_await p->tls.async_read_some(net::buffer(p->up),
                                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    co_await net::async_write(p->plain, net::buffer(p->up.data(), n),
                              net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
  }
  p->plain.shutdown(local::socket::shutdown_send, ec);
}

// gRPC -> client: bytes from the pair are encrypted to the client; when gRPC closes the
// connection, so does the client's side.
net::awaitable<void> Downstream(std::shared_ptr<TlsPipe> p) {
  beast::error_code ec;
  while (true) {
    const size_t n = co_await p->plain.async_read_some(net::buffer(p->down),
                                                       net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    // A client that stops reading does not hold the connection forever.
    beast::get_lowest_layer(p->tls).expires_after(std::chrono::seconds(60));
    co_await net::async_write(p->tls, net::buffer(p->down.data(), n),
                              net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
  }
  // No close_notify exchange: waiting for the client's could last as long as the client
  // keeps the connection open. Shutting the socket ends Upstream's read at once.
  auto& lowest = beast::get_lowest_layer(p->tls);
  lowest.socket().shutdown(tcp::socket::shutdown_both, ec);
  lowest.socket().cancel(ec);  // ends Upstream's read
}

}  // namespace

struct GrpcFront::Impl {
  GrpcOptions opts;
  std::shared_ptr<ListenerStats> stats;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ServerTls> tls;
  std::vector<std::thread> threads;
  grpc::Server* server = nullptr;
  bool started = false;
  std::atomic<bool> stopped{false};
  // Plain connections handed to gRPC, by descriptor and socket inode. gRPC does not say
  // when it closes one; a descriptor that no longer names the same socket has been closed
  // (a socket's inode is unique while it is open). Checked twice a second.
  std::mutex mu;
  std::vector<std::pair<int, ino_t>> handed;  // guarded by mu

  void Reap() {
    std::lock_guard lock(mu);
    std::erase_if(handed, [&](const std::pair<int, ino_t>& h) {
      struct stat st;
      if (::fstat(h.first, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == h.second) return false;
      stats->connections--;
      return true;
    });
  }

  net::awaitable<void> ReapLoop() {
    net::steady_timer timer(co_await net::this_coro::executor);
    while (true) {
      timer.expires_after(std::chrono::milliseconds(500));
      beast::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      if (ec || stopped) co_return;
      Reap();
    }
  }

  // A plain connection: handed over once its first bytes arrive (a client that connects
  // and sends nothing is closed after the handshake timeout, holding no gRPC state).
  net::awaitable<void> Plain(tcp::socket s) {
    auto socket = std::make_shared<tcp::socket>(std::move(s));
    ReadDeadline deadline(socket->get_executor());
    deadline.Arm(socket, opts.handshake_timeout);
    beast::error_code ec;
    co_await socket->async_wait(tcp::socket::wait_read,
                                net::redirect_error(net::use_awaitable, ec));
    deadline.Disarm();
    if (ec || stopped) {
      if (deadline.passed()) stats->Refuse(Refusal::kHandshakeTimeout);
      stats->connections--;
      co_return;
    }
    const int fd = socket->release(ec);
    if (ec) {
      stats->connections--;
      co_return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct stat st;
    ::fstat(fd, &st);
    {
      std::lock_guard lock(mu);
      handed.emplace_back(fd, st.st_ino);
    }
    grpc::AddInsecureChannelFromFd(server, fd);
  }

  net::awaitable<void> Secure(tcp::socket s) {
    auto ctx = tls->Current();
    auto pipe = std::make_shared<TlsPipe>(std::move(s), *ctx, stats);
    if (!co_await ServerHandshake(pipe->tls, opts.handshake_timeout, *stats) || stopped) co_return;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) co_return;
    beast::error_code ec;
    pipe->plain.assign(local(), pair[0], ec);
    if (ec) {
      ::close(pair[0]);
      ::close(pair[1]);
      co_return;
    }
    grpc::AddInsecureChannelFromFd(server, pair[1]);
    auto ex = pipe->tls.get_executor();
    net::co_spawn(ex, Upstream(pipe), net::detached);
    net::co_spawn(ex, Downstream(std::move(pipe)), net::detached);
  }
};

GrpcFront::GrpcFront(const GrpcOptions& opts, std::shared_ptr<ListenerStats> stats)
    : impl_(std::make_unique<Impl>()) {
  impl_->opts = opts;
  impl_->stats = std::move(stats);
}

GrpcFront::~GrpcFront() { Stop(); }

StatusOr<int> GrpcFront::Bind() {
  if (impl_->opts.tls.enabled()) {
    auto tls = ServerTls::Create(impl_->opts.tls, kAlpnH2, impl_->stats);
    if (!tls.ok()) return absl::InvalidArgumentError(Cat("grpc.tls: ", tls.status().message()));
    impl_->tls = std::move(*tls);
  }
  if (Status s = receivers::Bind(impl_->acceptor, impl_->opts.address, impl_->opts.port, "gRPC");
      !s.ok())
    return s;
  return static_cast<int>(impl_->acceptor.local_endpoint().port());
}

void GrpcFront::Start(grpc::Server* server) {
  Impl* impl = impl_.get();
  impl->server = server;
  impl->started = true;
  auto serve = [impl](tcp::socket socket) {
    auto ex = socket.get_executor();
    if (impl->tls)
      net::co_spawn(ex, impl->Secure(std::move(socket)), net::detached);
    else
      net::co_spawn(ex, impl->Plain(std::move(socket)), net::detached);
  };
  // An HTTP/2 client cannot be told why before its preface: the connection is closed.
  auto refuse = [](tcp::socket&, std::string_view) {};
  net::co_spawn(impl->ioc,
                AcceptLoop(impl->acceptor, *impl->stats, impl->opts.max_connections, serve, refuse),
                net::detached);
  if (!impl->tls) net::co_spawn(impl->ioc, impl->ReapLoop(), net::detached);
  if (impl->tls && impl->tls->options().reload_interval.count() > 0)
    net::co_spawn(impl->ioc, WatchTls(*impl->tls), net::detached);
  for (int i = 0; i < std::max(1, impl->opts.io_threads); ++i)
    impl->threads.emplace_back([impl] {
      NameThisThread("sluice-grpc-in");
      impl->ioc.run();
    });
}

void GrpcFront::StopAccepting() {
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

void GrpcFront::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  StopAccepting();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

void GrpcFront::RefreshTls(bool force) {
  if (impl_->tls) impl_->tls->Refresh(force);
}

}  // namespace sluice::receivers
