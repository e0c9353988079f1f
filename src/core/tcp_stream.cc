#include "core/tcp_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>

namespace sluice {

namespace errc = boost::system::errc;
using boost::system::error_code;

namespace {
error_code Errno(int e) { return error_code(e, boost::system::system_category()); }
}  // namespace

void TcpStream::Close() {
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
