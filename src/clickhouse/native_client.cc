#include "clickhouse/native_client.h"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "clickhouse/endpoint.h"
#include "clickhouse/errors.h"
#include "clickhouse/native.h"
#include "core/cat.h"

namespace sluice::clickhouse {

namespace {
Status Transport(std::string_view where, std::string_view what) {
  return absl::UnavailableError(Cat("ClickHouse ", where, ": ", what));
}
}  // namespace

std::string HandshakeHint(const Endpoint& ep, bool timed_out) {
  // ClickHouse's HTTP server waits for a whole request line and never answers the Hello.
  if (timed_out)
    return " (no answer to the native protocol's Hello: is it an HTTP port? then "
           "set http_port, or protocol: http)";
  if (!ep.tls.enabled) return " (is it a TLS port? then set secure: true)";
  if (ep.tls.cert_file.empty())
    return " (does the server require a client certificate? then set tls_cert_file)";
  return " (is the client certificate one the server trusts?)";
}

NativeConnection::NativeConnection(const Endpoint& ep, std::string host, int port,
                                   std::chrono::milliseconds timeout)
    : ep_(ep),
      host_(std::move(host)),
      port_(port),
      timeout_(timeout),
      reader_([this](std::string* buf) -> Status {
        char chunk[64 << 10];
        boost::system::error_code ec;
        const size_t n = stream_.read_some(boost::asio::buffer(chunk), ec);
        if (ec)
          return Transport(Where(),
                           Cat("read: ", ec.message(), stream_.tls_error().empty() ? "" : " (",
                               stream_.tls_error(), stream_.tls_error().empty() ? "" : ")"));
        buf->append(chunk, n);
        return absl::OkStatus();
      }) {}

NativeConnection::~NativeConnection() = default;

std::string NativeConnection::Where() const { return Cat(host_, ":", port_, " (native)"); }

void NativeConnection::Close() {
  stream_.Close();
  reader_.Reset();
  revision_ = 0;
}

Outcome NativeConnection::Fail(const Status& s, bool answered) {
  Close();
  return {s, answered};
}

Status NativeConnection::Write(std::string_view bytes) {
  boost::system::error_code ec;
  boost::asio::write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return Transport(Where(), Cat("write: ", ec.message()));
  return absl::OkStatus();
}

Outcome NativeConnection::Connect(TcpStream::Clock::time_point deadline) {
  if (revision_ != 0 && stream_.is_open()) {
    // A connection idle for a while may have been closed by the server (or a middlebox):
    // a Ping finds out before a batch is sent into it, and a new connection replaces it.
    const auto now = TcpStream::Clock::now();
    if (now - last_used_ < std::chrono::seconds(10)) return {absl::OkStatus(), true};
    stream_.set_deadline(std::min(deadline, now + std::chrono::seconds(5)));
    stream_.set_cancel(cancel_);
    std::string ping;
    native::WritePing(&ping);
    native::Packet p;
    if (Write(ping).ok() && ReadUntil({native::kPong}, &p).status.ok()) {
      last_used_ = now;
      return {absl::OkStatus(), true};
    }
  }
  Close();
  stream_.set_cancel(cancel_);
  if (auto ec = stream_.Connect(host_, port_, deadline))
    return {Transport(Where(), Cat("connect: ", ec.message())), false};
  if (ep_.tls.enabled) {
    if (!ep_.tls_context)  // never plaintext (with the password in the Hello) instead
      return Fail(absl::FailedPreconditionError("TLS requested without a TLS context"), false);
    const std::string& name = ep_.tls.server_name.empty() ? host_ : ep_.tls.server_name;
    if (std::string why = stream_.StartTls(*ep_.tls_context, name, deadline); !why.empty())
      return Fail(Transport(Where(), why), false);
  }
  // A server answers the Hello at once: a shorter wait tells a port that never will.
  const auto hello_deadline =
      std::min(deadline, TcpStream::Clock::now() + std::chrono::seconds(10));
  stream_.set_deadline(hello_deadline);
  std::string hello;
  native::WriteHello(ep_.database, ep_.user, ep_.password, &hello);
  if (Status s = Write(hello); !s.ok())
    return Fail(absl::UnavailableError(Cat(s.message(), HandshakeHint(ep_, false))), false);
  reader_.set_revision(native::kClientRevision);
  reader_.set_compressed(false);
  native::Packet p;
  if (Status s = reader_.Next(&p); !s.ok()) {
    // A plain client on a TLS port, or a client certificate refused, shows up here.
    if (absl::IsUnavailable(s)) {
      const bool timed_out = TcpStream::Clock::now() >= hello_deadline;
      s = absl::UnavailableError(Cat(s.message(), HandshakeHint(ep_, timed_out)));
    }
    return Fail(absl::UnavailableError(s.message()), false);
  }
  if (p.code == native::kException)
    return Fail(StatusFromException(p.exception_code, p.exception_text), true);
  if (p.code != native::kHello)
    return Fail(absl::UnavailableError(
                    Cat("ClickHouse ", Where(), " answered the handshake with packet ", p.code)),
                false);
  hello_ = p.hello;
  revision_ = std::min(hello_.revision, native::kClientRevision);
  reader_.set_revision(revision_);
  std::string addendum;
  native::WriteAddendum(revision_, &addendum);
  if (!addendum.empty())
    if (Status s = Write(addendum); !s.ok()) return Fail(s, false);
  last_used_ = TcpStream::Clock::now();
  return {absl::OkStatus(), true};
}

Outcome NativeConnection::ReadUntil(std::initializer_list<uint64_t> wanted, native::Packet* p,
                                    bool keep_cells) {
  while (true) {
    if (Status s = reader_.Next(p, keep_cells); !s.ok()) {
      // Timed out or cancelled while the server works: ask it to stop the query (it may
      // still be running an INSERT's blocks) before the connection goes.
      if (absl::IsUnavailable(s) && stream_.is_open()) CancelQuery();
      // No answer, or bytes that are not one (a corrupted frame, a packet out of step):
      // the connection's fault, never the rows'. Retried, on another host when there is one.
      return Fail(absl::UnavailableError(s.message()), false);
    }
    if (p->code == native::kException)
      return Fail(StatusFromException(p->exception_code, p->exception_text), true);
    for (uint64_t w : wanted)
      if (p->code == w) return {absl::OkStatus(), true};
    switch (p->code) {
      case native::kProgress:
      case native::kProfileInfo:
      case native::kProfileEvents:
      case native::kLog:
      case native::kTableColumns:
      case native::kTotals:
      case native::kExtremes:
      case native::kTimezoneUpdate: continue;
      default:
        return Fail(absl::UnavailableError(
                        Cat("ClickHouse ", Where(), " sent packet ", p->code, " out of turn")),
                    false);
    }
  }
}

StatusOr<std::string> NativeConnection::Query(std::string_view sql, Outcome* how) {
  const auto deadline = TcpStream::Clock::now() + timeout_;
  Outcome o = Connect(deadline);
  auto done = [&](Outcome r) {
    if (how) *how = r;
    return r.status;
  };
  if (!o.status.ok()) return done(o);
  stream_.set_deadline(deadline);
  stream_.set_cancel(cancel_);
  std::string out;
  native::WriteQuery(revision_, "", sql, {}, false, &out);
  native::WriteData("", false, Codec::kNone, &out);  // no external tables
  reader_.set_compressed(false);
  if (Status s = Write(out); !s.ok()) return done(Fail(s, false));
  std::string text;
  native::Packet p;
  while (true) {
    o = ReadUntil({native::kData, native::kEndOfStream}, &p, /*keep_cells=*/true);
    if (!o.status.ok()) return done(o);
    if (p.code == native::kEndOfStream) break;
    if (text.size() > (64u << 20))
      return done(Fail(absl::ResourceExhaustedError("a query result over 64 MiB"), true));
    native::AppendTabSeparated(p.block, &text);
  }
  if (how) *how = {absl::OkStatus(), true};
  last_used_ = TcpStream::Clock::now();
  return text;
}

Outcome NativeConnection::Insert(std::string_view insert_sql,
                                 const std::vector<ColumnBinding>& columns, std::string_view rows,
                                 uint64_t row_count, const native::Settings& settings) {
  const auto deadline = TcpStream::Clock::now() + timeout_;
  Outcome o = Connect(deadline);
  if (!o.status.ok()) return o;
  stream_.set_deadline(deadline);
  stream_.set_cancel(cancel_);
  const bool compressed = ep_.compression != Codec::kNone;
  thread_local std::string out;
  out.clear();
  native::WriteQuery(revision_, "", insert_sql,
                     revision_ >= native::kRevSettingsAsStrings ? settings : native::Settings{},
                     compressed, &out);
  native::WriteData("", compressed, ep_.compression, &out);
  reader_.set_compressed(compressed);
  if (Status s = Write(out); !s.ok()) return Fail(s, false);
  native::Packet p;
  // The server answers with the table's header block (names and types, no rows).
  o = ReadUntil({native::kData}, &p);
  if (!o.status.ok()) return o;
  // The batch as one block, kept per thread (batches are megabytes: reused, not regrown).
  thread_local std::string block;
  block.clear();
  native::AppendBlockInfo(&block);
  if (Status s = RowBinaryToNative(columns, rows, row_count, &block,
                                   revision_ >= native::kRevCustomSerialization);
      !s.ok())
    return Fail(s, true);  // never: the rows were encoded for these columns
  out.clear();
  Status s;
  uint64_t sent = 0;
  if (compressed) {
    native::WriteData(block, true, ep_.compression, &out);
    native::WriteData("", true, ep_.compression, &out);  // end of data
    sent = out.size();
    s = Write(out);
  } else {
    // Sent from the block itself, in one gathered write: no copy.
    native::WriteData("", false, ep_.compression, &out);
    const std::array<boost::asio::const_buffer, 3> parts = {
        boost::asio::buffer(native::kDataPacketHead.data(), native::kDataPacketHead.size()),
        boost::asio::buffer(block), boost::asio::buffer(out)};
    sent = parts[0].size() + parts[1].size() + parts[2].size();
    boost::system::error_code ec;
    boost::asio::write(stream_, parts, ec);
    if (ec) s = Transport(Where(), Cat("write: ", ec.message()));
  }
  if (!s.ok()) {
    // The server may have refused the data and said why before closing: read it (past
    // any progress or log packets), for a moment.
    stream_.set_cancel(nullptr);
    stream_.set_deadline(TcpStream::Clock::now() + std::chrono::seconds(2));
    native::Packet why;
    for (int i = 0; i < 100 && reader_.Next(&why).ok(); ++i)
      if (why.code == native::kException)
        return Fail(StatusFromException(why.exception_code, why.exception_text), true);
    return Fail(s, false);
  }
  o = ReadUntil({native::kEndOfStream}, &p);
  // Every byte was sent and the server took longer than the timeout: it is alive and
  // working (the INSERT may still land), not down; retried later, not failed over at once.
  if (!o.answered && TcpStream::Clock::now() >= deadline) o.answered = true;
  o.sent_bytes = sent;
  last_used_ = TcpStream::Clock::now();
  return o;
}

void NativeConnection::CancelQuery() {
  stream_.set_cancel(nullptr);
  stream_.set_deadline(TcpStream::Clock::now() + std::chrono::seconds(1));
  std::string out;
  native::WriteCancel(&out);
  if (!Write(out).ok()) return;
  native::Packet p;
  while (reader_.Next(&p).ok() && p.code != native::kEndOfStream && p.code != native::kException) {
  }
}

Outcome NativeConnection::Ping() {
  const auto deadline = TcpStream::Clock::now() + timeout_;
  Outcome o = Connect(deadline);
  if (!o.status.ok()) return o;
  stream_.set_deadline(deadline);
  std::string out;
  native::WritePing(&out);
  if (Status s = Write(out); !s.ok()) return Fail(s, false);
  native::Packet p;
  return ReadUntil({native::kPong}, &p);
}

}  // namespace sluice::clickhouse
