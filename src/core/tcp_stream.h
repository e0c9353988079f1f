// A blocking TCP connection with deadlines, for clients that own a thread (the ClickHouse
// inserters): one file descriptor and poll(2), no event loop (an asio io_context costs an
// epoll, an eventfd and a timerfd per client, and throws when descriptors run out).
// Satisfies Beast's SyncReadStream and SyncWriteStream, so Beast's HTTP parser and
// serializer run over it. Every failure is an error code, never an exception.
// With StartTls the same stream runs TLS (OpenSSL over the non-blocking socket, same
// deadlines; OpenSSL writes without MSG_NOSIGNAL, so the process must ignore SIGPIPE, as
// main() does). Not thread-safe: one owner thread.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

typedef struct ssl_st SSL;

namespace sluice {
class TlsContext;
}

namespace sluice {

class TcpStream {
 public:
  using Clock = std::chrono::steady_clock;
  TcpStream() = default;
  ~TcpStream() { Close(); }
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // Resolves and connects (each address in turn) before `deadline`.
  boost::system::error_code Connect(const std::string& host, int port, Clock::time_point deadline);
  void Close();
  bool is_open() const { return fd_ >= 0; }

  // Runs a TLS handshake on the connected socket before `deadline`, presenting `server_name`
  // (SNI when it is a name; checked against the certificate when the context verifies).
  // Returns an empty string, or why the handshake failed (the certificate's fault named).
  std::string StartTls(const TlsContext& tls, const std::string& server_name,
                       Clock::time_point deadline);
  bool is_tls() const { return ssl_ != nullptr; }
  // OpenSSL's reason for the last transfer that failed in TLS (an alert, a bad record);
  // empty after other failures.
  const std::string& tls_error() const { return tls_error_; }

  // Reads and writes fail with timed_out past this point, or with operation_canceled once
  // *cancel is set (checked at least every 100 ms while waiting).
  void set_deadline(Clock::time_point d) { deadline_ = d; }
  void set_cancel(const std::atomic<bool>* cancel) { cancel_ = cancel; }

  // SyncReadStream / SyncWriteStream.
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    return Transfer(Iov(buffers), /*write=*/false, ec);
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {  // the concept needs it; never called
    return OrThrow([&](boost::system::error_code& ec) { return read_some(buffers, ec); });
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    return Transfer(Iov(buffers), /*write=*/true, ec);
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {  // the concept needs it; never called
    return OrThrow([&](boost::system::error_code& ec) { return write_some(buffers, ec); });
  }

 private:
  template <class F>
  static size_t OrThrow(F f) {
    boost::system::error_code ec;
    const size_t n = f(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  std::vector<iovec>& Iov(const Buffers& buffers) {
    iov_.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && iov_.size() < 64; ++it) {
      auto b = boost::asio::buffer(*it);
      if (b.size() > 0)
        iov_.push_back({const_cast<void*>(static_cast<const void*>(b.data())), b.size()});
    }
    return iov_;
  }
  size_t Transfer(std::vector<iovec>& iov, bool write, boost::system::error_code& ec);
  // Waits until the socket is ready for `events`; an error past the deadline or on cancel.
  boost::system::error_code Wait(short events);

  size_t TlsTransfer(std::vector<iovec>& iov, bool write, boost::system::error_code& ec);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool ssl_fatal_ = false;  // a fatal TLS error happened: no close_notify
  std::string tls_error_;
  Clock::time_point deadline_ = Clock::time_point::max();
  const std::atomic<bool>* cancel_ = nullptr;
  std::vector<iovec> iov_;
};

}  // namespace sluice
