// One connection to one ClickHouse server over the native TCP protocol (port 9000, or 9440
// with TLS): the handshake, queries whose results come back as TabSeparated text, and
// INSERTs that send a batch as one Native block (compressed with LZ4 or ZSTD frames when
// configured). Opened on first use and re-opened after any failure; a server exception or a
// malformed packet closes it (the stream is then out of step). Not thread-safe: each
// inserter thread owns its connections.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "clickhouse/compressed_frames.h"
#include "clickhouse/native_protocol.h"
#include "clickhouse/rowbinary.h"
#include "core/status.h"
#include "core/tcp_stream.h"
#include "core/tls.h"

namespace sluice::clickhouse {

struct Endpoint;

// How an exchange ended: with the server's answer (ok or an exception), or without one.
struct Outcome {
  Status status;
  bool answered = false;    // false: connection failure or timeout (another host may do)
  uint64_t sent_bytes = 0;  // INSERT data written to the connection (compressed, before TLS)
};

// Why a server may drop a new connection before answering (a TLS port spoken to in plain,
// a client certificate missing or refused): appended to the error.
std::string HandshakeHint(const Endpoint& ep, bool timed_out);

class NativeConnection {
 public:
  NativeConnection(const Endpoint& ep, std::string host, int port,
                   std::chrono::milliseconds timeout);
  ~NativeConnection();

  // Runs a statement; the rows of its result as TabSeparated text.
  StatusOr<std::string> Query(std::string_view sql, Outcome* how = nullptr);
  // INSERT `rows` (RowBinary, of `columns`) with `insert_sql` ("INSERT INTO t (...) VALUES")
  // and the settings given (sent only to servers that take settings: dedup tokens need 22.2).
  Outcome Insert(std::string_view insert_sql, const std::vector<ColumnBinding>& columns,
                 std::string_view rows, uint64_t row_count, const native::Settings& settings);
  // A Ping answered by Pong (opens the connection when closed). Connections idle for 10 s
  // are pinged before use.
  Outcome Ping();

  void set_cancel(const std::atomic<bool>* cancel) { cancel_ = cancel; }
  const native::ServerHello& server() const { return hello_; }
  void Close();

 private:
  Outcome Connect(TcpStream::Clock::time_point deadline);
  Status Write(std::string_view bytes);
  // Reads packets until one of the codes wanted, skipping progress, logs and profile
  // packets; an exception becomes the status (answered).
  Outcome ReadUntil(std::initializer_list<uint64_t> wanted, native::Packet* p,
                    bool keep_cells = false);
  Outcome Fail(const Status& s, bool answered);
  // Sends Cancel and reads what the server still sends, for a second at most.
  void CancelQuery();
  std::string Where() const;

  const Endpoint& ep_;
  const std::string host_;
  const int port_;
  const std::chrono::milliseconds timeout_;
  const std::atomic<bool>* cancel_ = nullptr;
  TcpStream stream_;
  native::PacketReader reader_;
  native::ServerHello hello_;
  uint64_t revision_ = 0;                     // negotiated; 0 while closed
  TcpStream::Clock::time_point last_used_{};  // the end of the last exchange
};

}  // namespace sluice::clickhouse
