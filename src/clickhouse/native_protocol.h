// ClickHouse's native TCP protocol (clickhouse-protocol.md §5): the client's messages
// (Hello, addendum, Query, Data, Ping, Cancel) and a reader of the server's packets that
// takes every packet kind a client may receive and decodes blocks of the common types.
// Server bytes are untrusted: every length is capped, nothing is allocated ahead of bytes
// received, and a malformed packet is an InvalidArgument naming what is wrong (the caller
// closes the connection: packets have no length, so a reader out of step cannot resync).
// Not thread-safe: one reader per connection.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clickhouse/compressed_frames.h"
#include "core/status.h"

namespace sluice::clickhouse::native {

// The revision Sluice announces. Every field is gated on min(this, the server's).
// 54460 is what ch-go and clickhouse-go announce: it has the addendum, settings as strings
// and the custom-serialization byte, and none of the later layout changes.
inline constexpr uint64_t kClientRevision = 54460;
inline constexpr std::string_view kClientName = "Sluice";
inline constexpr uint64_t kVersionMajor = 0, kVersionMinor = 1, kVersionPatch = 0;

// Revisions from which a field exists (DBMS_MIN_* in ClickHouse's ProtocolDefines.h).
inline constexpr uint64_t kRevTimezone = 54058, kRevDisplayName = 54372, kRevVersionPatch = 54401,
                          kRevClientWriteInfo = 54420, kRevSettingsAsStrings = 54429,
                          kRevInterserverSecret = 54441, kRevOpenTelemetry = 54442,
                          kRevDistributedDepth = 54448, kRevQueryStartTime = 54449,
                          kRevParallelReplicas = 54453, kRevCustomSerialization = 54454,
                          kRevAddendum = 54458, kRevParameters = 54459, kRevProgressElapsed = 54460,
                          kRevQuotaKeyInClientInfo = 54060;

enum ServerCode : uint64_t {
  kHello = 0,
  kData = 1,
  kException = 2,
  kProgress = 3,
  kPong = 4,
  kEndOfStream = 5,
  kProfileInfo = 6,
  kTotals = 7,
  kExtremes = 8,
  kTablesStatus = 9,
  kLog = 10,
  kTableColumns = 11,
  kPartUuids = 12,
  kReadTaskRequest = 13,
  kProfileEvents = 14,
  kTimezoneUpdate = 17,
};

struct ServerHello {
  std::string name;
  uint64_t major = 0, minor = 0, patch = 0, revision = 0;
  std::string timezone, display_name;
};

// A block's columns; `cells` holds each column's values as text (one string per row) when
// the reader was asked to keep them.
struct Block {
  uint64_t rows = 0;
  std::vector<std::string> names, types;
  std::vector<std::vector<std::string>> cells;
};

struct Packet {
  uint64_t code = 0;
  ServerHello hello;           // kHello
  int exception_code = 0;      // kException: the outermost code
  std::string exception_text;  // kException: every nested message, outermost first
  Block block;                 // kData, kTotals, kExtremes, kLog, kProfileEvents
  uint64_t written_rows = 0;   // kProgress
};

// --- the client's messages, appended to `out`.
void WriteHello(const std::string& database, const std::string& user, const std::string& password,
                std::string* out);
void WriteAddendum(uint64_t revision, std::string* out);  // nothing below kRevAddendum
// Settings are sent only from kRevSettingsAsStrings (older servers get none; the caller
// must not depend on them there). Each is marked important: a server that does not know
// one fails the query instead of ignoring it.
using Settings = std::vector<std::pair<std::string, std::string>>;
void WriteQuery(uint64_t revision, std::string_view query_id, std::string_view sql,
                const Settings& settings, bool compressed, std::string* out);
// The BlockInfo every block of the TCP protocol starts with (no overflows, no bucket).
void AppendBlockInfo(std::string* out);
// A Data packet: `block` (AppendBlockInfo, then RowBinaryToNative's output; empty means the
// empty block, which ends a stream) framed with `codec` when the query was sent compressed.
void WriteData(std::string_view block, bool compressed, Codec codec, std::string* out);
// The bytes a Data packet starts with, before its block: the code and the table name "".
inline constexpr std::string_view kDataPacketHead{"\x02\x00", 2};
void WritePing(std::string* out);
void WriteCancel(std::string* out);

// --- the server's packets.
class PacketReader {
 public:
  // Appends at least one more byte of the server's stream to *buf, or fails (a transport
  // error, a deadline).
  using Fill = std::function<Status(std::string* buf)>;
  explicit PacketReader(Fill fill) : fill_(std::move(fill)) {}

  // Fields are read as of this revision (min of the two announced) and Data, Totals and
  // Extremes blocks as compressed frames when the query asked for compression.
  void set_revision(uint64_t r) { revision_ = r; }
  void set_compressed(bool c) { compressed_ = c; }
  // Reads one whole packet. With keep_cells, the values of Data blocks are kept as text
  // (strings as they are, integers in decimal; other types as empty text); otherwise
  // blocks are checked and skipped.
  Status Next(Packet* p, bool keep_cells = false);
  // Drops bytes buffered from a previous exchange (a new connection).
  void Reset();

  // Caps on what one server packet may hold.
  static constexpr size_t kMaxString = 64u << 20;
  static constexpr size_t kMaxPacketBytes = 64u << 20;
  static constexpr size_t kMaxFrameBytes = 16u << 20;
  static constexpr uint64_t kMaxColumns = 100000;
  static constexpr int kMaxNested = 64;

 private:
  class Input;
  Status ReadHello(ServerHello* h);
  Status ReadException(Packet* p);
  Status ReadProgress(Packet* p);
  Status ReadBlock(bool framed, Block* b, bool keep_cells);

  Fill fill_;
  uint64_t revision_ = kClientRevision;
  bool compressed_ = false;
  std::string raw_;     // bytes received and not consumed
  size_t raw_pos_ = 0;  // first unconsumed byte of raw_
};

// TabSeparated text of a block's kept cells (escaped as ClickHouse escapes them), as the
// HTTP interface answers a SELECT ... FORMAT TabSeparated.
void AppendTabSeparated(const Block& b, std::string* out);

}  // namespace sluice::clickhouse::native
