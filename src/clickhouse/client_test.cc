#include "clickhouse/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "clickhouse/native_protocol.h"
#include "clickhouse/native_testing.h"
#include "core/bytes.h"

namespace sluice::clickhouse {
namespace {

using native::Str;

// A socket bound to a free loopback port, and that port.
int BindLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A stand-in for a ClickHouse 18.16 server speaking the native protocol, one connection at a
// time: answers the Hello, Ping, and an INSERT (the header block, then EndOfStream once the
// empty block that ends the data has arrived), or an exception when told to.
class FakeServer {
 public:
  explicit FakeServer(bool refuse_queries = false) : refuse_(refuse_queries) {
    fd_ = BindLoopback(&port_);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int inserts() const { return inserts_; }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[65536];
      bool hello = false, in_insert = false;
      while (true) {
        const ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        std::string reply;
        if (!hello) {  // the client's Hello arrives whole in one small write
          hello = true;
          in.clear();
          reply = native::ServerHello1816("UTC", "fake");
        } else if (!in_insert && in == "\x04") {
          in.clear();
          reply = "\x04";
        } else if (!in_insert && in[0] == '\x01') {
          in.clear();
          if (refuse_) {
            ByteWriter w(&reply);
            w.U8(2);
            w.Fixed<int32_t>(60);
            w.Bytes(Str("DB::Exception"));
            w.Bytes(Str("DB::Exception: Table default.t doesn't exist."));
            w.Bytes(Str(""));
            w.U8(0);
          } else {
            in_insert = true;  // the header block: no columns checked by the client
            reply = std::string("\x01", 1) + Str("") +
                    std::string("\x01\x00\x02\xff\xff\xff\xff\x00", 8) + std::string("\x00\x00", 2);
          }
        } else if (in_insert && in.size() >= 12 &&
                   in.compare(
                       in.size() - 12, 12,
                       std::string("\x02\x00\x01\x00\x02\xff\xff\xff\xff\x00\x00\x00", 12)) == 0) {
          in.clear();
          in_insert = false;
          ++inserts_;
          reply = std::string("\x03\x00\x00\x00", 4) + "\x05";  // Progress, EndOfStream
        }
        if (!reply.empty() && ::write(c, reply.data(), reply.size()) < 0) break;
      }
      ::close(c);
    }
  }

  const bool refuse_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> inserts_{0};
  std::thread thread_;
};

int ClosedPort() {
  int port;
  ::close(BindLoopback(&port));  // bound, never listened: connections are refused
  return port;
}

InsertPlan OneColumnPlan() {
  InsertPlan plan;
  ColumnBinding b;
  b.column = "n";
  b.type = *ParseType("UInt64");
  plan.columns.push_back(b);
  plan.insert_into = "INSERT INTO `default`.`t` (`n`)";
  return plan;
}

Endpoint Native(std::vector<int> ports) {
  Endpoint ep;
  ep.protocol = Protocol::kNative;
  ep.compression = Codec::kNone;
  ep.host = "127.0.0.1";
  ep.port = ports[0];
  for (size_t i = 1; i < ports.size(); ++i) ep.more.push_back({"127.0.0.1", ports[i]});
  return ep;
}

TEST(Client, InsertsFailOverToTheHostThatAnswers) {
  ResetHostHealthForTesting();
  FakeServer server;
  const int dead = ClosedPort();
  Client client(Native({dead, server.port()}), std::chrono::seconds(5));
  const InsertPlan plan = OneColumnPlan();
  std::string rows(16, '\0');  // two UInt64 rows
  for (int i = 0; i < 4; ++i) {
    Outcome o = client.Insert(plan, rows, 2, "");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_TRUE(o.answered);
    EXPECT_GT(o.sent_bytes, rows.size());
  }
  EXPECT_EQ(server.inserts(), 4);
  EXPECT_FALSE(HostIsUp({"127.0.0.1", dead}, Protocol::kNative));
  EXPECT_TRUE(HostIsUp({"127.0.0.1", server.port()}, Protocol::kNative));
  bool listed = false;
  for (const HostState& h : HostStates())
    if (h.host == "127.0.0.1:" + std::to_string(dead)) listed = !h.up && h.protocol == "native";
  EXPECT_TRUE(listed);
}

TEST(Client, NoHostAnsweringIsUnavailableWithoutAnAnswer) {
  ResetHostHealthForTesting();
  Client client(Native({ClosedPort(), ClosedPort()}), std::chrono::seconds(2));
  Outcome o = client.Insert(OneColumnPlan(), std::string(8, '\0'), 1, "");
  EXPECT_TRUE(absl::IsUnavailable(o.status)) << o.status;
  EXPECT_FALSE(o.answered);
  EXPECT_NE(o.status.message().find("Connection refused"), std::string::npos) << o.status;
}

TEST(Client, AnExceptionIsAnAnswerClassifiedByItsCode) {
  ResetHostHealthForTesting();
  FakeServer server(/*refuse_queries=*/true);
  Client client(Native({server.port()}), std::chrono::seconds(5));
  Outcome o = client.Insert(OneColumnPlan(), std::string(8, '\0'), 1, "");
  EXPECT_TRUE(o.answered);
  EXPECT_TRUE(absl::IsInvalidArgument(o.status)) << o.status;
  EXPECT_NE(o.status.message().find("Code: 60"), std::string::npos) << o.status;
  auto q = client.Query("SELECT 1");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("doesn't exist"), std::string::npos);
}

TEST(NativeConnection, PingsAndReopens) {
  FakeServer server;
  Endpoint ep = Native({server.port()});
  NativeConnection c(ep, "127.0.0.1", server.port(), std::chrono::seconds(5));
  EXPECT_TRUE(c.Ping().status.ok());
  EXPECT_EQ(c.server().revision, 54412u);
  EXPECT_EQ(c.server().display_name, "fake");
  c.Close();
  EXPECT_TRUE(c.Ping().status.ok());  // a new connection and handshake
}

}  // namespace
}  // namespace sluice::clickhouse
