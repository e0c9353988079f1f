#include "core/tcp_stream.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <thread>

namespace sluice {
namespace {

using namespace std::chrono_literals;

// A listening socket on a free loopback port that accepts (kernel backlog) and never
// answers.
struct SilentServer {
  int fd = -1;
  int port = 0;
  SilentServer() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd, 16);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd); }
};

TEST(TcpStream, ReadsEndAtTheDeadline) {
  SilentServer server;
  TcpStream s;
  ASSERT_FALSE(s.Connect("127.0.0.1", server.port, TcpStream::Clock::now() + 2s));
  s.set_deadline(TcpStream::Clock::now() + 150ms);
  char buf[16];
  boost::system::error_code ec;
  const auto t0 = TcpStream::Clock::now();
  EXPECT_EQ(s.read_some(boost::asio::buffer(buf), ec), 0u);
  EXPECT_EQ(ec, boost::system::errc::timed_out);
  EXPECT_LT(TcpStream::Clock::now() - t0, 2s);
}

TEST(TcpStream, ACancelStopsAWaitingRead) {
  SilentServer server;
  TcpStream s;
  ASSERT_FALSE(s.Connect("127.0.0.1", server.port, TcpStream::Clock::now() + 2s));
  std::atomic<bool> cancel{false};
  s.set_cancel(&cancel);
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    cancel = true;
  });
  char buf[16];
  boost::system::error_code ec;
  s.read_some(boost::asio::buffer(buf), ec);
  t.join();
  EXPECT_EQ(ec, boost::system::errc::operation_canceled);
}

TEST(TcpStream, RefusedAndOutOfDescriptorsAreErrorsNotExceptions) {
  TcpStream s;
  int port;
  {
    SilentServer closed;  // a port that was free a moment ago
    port = closed.port;
  }
  EXPECT_TRUE(s.Connect("127.0.0.1", port, TcpStream::Clock::now() + 2s));
  EXPECT_TRUE(s.Connect("no-such-host.invalid", 80, TcpStream::Clock::now() + 2s));
  pid_t pid = fork();
  if (pid == 0) {
    SilentServer server;
    rlimit lim{0, 0};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = 8;
    setrlimit(RLIMIT_NOFILE, &lim);
    std::vector<int> hog;
    for (int fd; (fd = ::dup(0)) >= 0;) hog.push_back(fd);
    TcpStream t;
    _exit(t.Connect("127.0.0.1", server.port, TcpStream::Clock::now() + 1s) ==
                  boost::system::errc::too_many_files_open
              ? 0
              : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace sluice
