#include "core/tcp_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>

#include "core/cat.h"
#include "core/tls.h"

namespace sluice {

namespace errc = boost::system::errc;
using boost::system::error_code;

namespace {
error_code Errno(int e) { return error_code(e, boost::system::system_category()); }
}  // namespace

void TcpStream::Close() {
  if (ssl_ != nullptr) {
    // One non-blocking attempt at close_notify (never waits); not after a fatal error.
    if (!ssl_fatal_) SSL_shutdown(ssl_);
    ssl_fatal_ = false;
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

error_code TcpStream::Wait(short events) {
  while (true) {
    if (cancel_ && cancel_->load(std::memory_order_relaxed))
      return errc::make_error_code(errc::operation_canceled);
    const auto now = Clock::now();
    if (now >= deadline_) return errc::make_error_code(errc::timed_out);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now).count() + 1;
    pollfd p{fd_, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Errno(errno);
    }
    if (rc > 0) return {};  // ready, or an error/hang-up the next call reports
  }
}

size_t TcpStream::Transfer(std::vector<iovec>& iov, bool write, error_code& ec) {
  ec = {};
  if (fd_ < 0) {
    ec = boost::asio::error::not_connected;
    return 0;
  }
  if (iov.empty()) return 0;
  tls_error_.clear();
  if (ssl_ != nullptr) return TlsTransfer(iov, write, ec);
  while (true) {
    ssize_t n;
    if (write) {
      msghdr m{};
      m.msg_iov = iov.data();
      m.msg_iovlen = iov.size();
      n = ::sendmsg(fd_, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      n = ::readv(fd_, iov.data(), static_cast<int>(iov.size()));
    }
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0 && !write) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ec = Wait(write ? POLLOUT : POLLIN);
      if (ec) return 0;
      continue;
    }
    ec = Errno(n < 0 ? errno : EIO);
    return 0;
  }
}

size_t TcpStream::TlsTransfer(std::vector<iovec>& iov, bool write, error_code& ec) {
  // One buffer at a time: a TLS record carries one buffer's bytes (write_some semantics).
  void* data = iov[0].iov_base;
  const int len = static_cast<int>(std::min<size_t>(iov[0].iov_len, 1 << 30));
  while (true) {
    ERR_clear_error();
    errno = 0;
    const int n = write ? SSL_write(ssl_, data, len) : SSL_read(ssl_, data, len);
    if (n > 0) return static_cast<size_t>(n);
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      ec = Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
      if (ec) return 0;
      continue;
    }
    if (err != SSL_ERROR_ZERO_RETURN) ssl_fatal_ = true;
    if (err == SSL_ERROR_ZERO_RETURN) {
      ec = boost::asio::error::eof;
    } else if (err == SSL_ERROR_SYSCALL && errno != 0) {
      ec = Errno(errno);
    } else {
      tls_error_ = TakeOpenSslErrors();
      ec = boost::asio::error::connection_reset;  // a TLS protocol failure: the stream is lost
    }
    return 0;
  }
}

std::string TcpStream::StartTls(const TlsContext& tls, const std::string& server_name,
                                Clock::time_point deadline) {
  if (fd_ < 0) return "not connected";
  ERR_clear_error();
  ssl_ = SSL_new(tls.ctx());
  if (ssl_ == nullptr) return TakeOpenSslErrors();
  SSL_set_fd(ssl_, fd_);
  in6_addr ip6;
  in_addr ip4;
  const bool is_ip = inet_pton(AF_INET, server_name.c_str(), &ip4) == 1 ||
                     inet_pton(AF_INET6, server_name.c_str(), &ip6) == 1;
  if (!is_ip && !server_name.empty()) SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  if (tls.options().verify && !server_name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
    if (set != 1) {  // fail closed: never a handshake that checks no name
      Close();
      return Cat("TLS: cannot check the server's name '", server_name, "'");
    }
  }
  const Clock::time_point saved = deadline_;
  deadline_ = deadline;
  std::string why;
  while (true) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl_);
    if (rc == 1) break;
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (error_code ec = Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)) {
        why = Cat("TLS handshake: ", ec.message());
        break;
      }
      continue;
    }
    ssl_fatal_ = true;
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      why = Cat("TLS: the server's certificate is not trusted: ",
                X509_verify_cert_error_string(verify));
    } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      why = "TLS handshake: the server closed the connection (does this port speak TLS?)";
    } else {
      why = Cat("TLS handshake: ", TakeOpenSslErrors());
    }
    break;
  }
  deadline_ = saved;
  if (!why.empty()) Close();
  return why;
}

error_code TcpStream::Connect(const std::string& host, int port, Clock::time_point deadline) {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    return boost::asio::error::host_not_found;
  error_code last = boost::asio::error::host_not_found;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = Errno(errno);  // EMFILE among others: an error, not an exception
      continue;
    }
    fd_ = fd;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const Clock::time_point saved = deadline_;
    deadline_ = deadline;
    error_code ec;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        ec = Errno(errno);
      } else if (!(ec = Wait(POLLOUT))) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) ec = Errno(err);
      }
    }
    deadline_ = saved;
    if (!ec) {
      ::freeaddrinfo(res);
      return {};
    }
    last = ec;
    Close();
  }
  ::freeaddrinfo(res);
  return last;
}

}  // namespace sluice
