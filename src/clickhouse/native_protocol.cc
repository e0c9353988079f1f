#include "clickhouse/native_protocol.h"

#include <cstring>

#include "clickhouse/native.h"
#include "clickhouse/type.h"
#include "core/bytes.h"
#include "core/cat.h"

namespace sluice::clickhouse::native {

namespace {

Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(Cat("malformed packet from ClickHouse: ", what));
}

}  // namespace

// --- client messages

void WriteHello(const std::string& database, const std::string& user, const std::string& password,
                std::string* out) {
  ByteWriter w(out);
  w.VarUInt(0);
  w.String(kClientName);
  w.VarUInt(kVersionMajor);
  w.VarUInt(kVersionMinor);
  w.VarUInt(kClientRevision);
  w.String(database);
  w.String(user.empty() ? std::string_view("default") : std::string_view(user));
  w.String(password);
}

void WriteAddendum(uint64_t revision, std::string* out) {
  if (revision < kRevAddendum) return;
  ByteWriter w(out);
  w.String("");  // quota key
}

void WriteQuery(uint64_t rev, std::string_view query_id, std::string_view sql,
                const Settings& settings, bool compressed, std::string* out) {
  ByteWriter w(out);
  w.VarUInt(1);
  w.String(query_id);
  // ClientInfo: an initial query over TCP, with the Hello's name and versions.
  w.U8(1);
  w.String("");                      // initial user
  w.String("");                      // initial query id
  w.String("[::ffff:127.0.0.1]:0");  // initial address: must parse as ip:port
  if (rev >= kRevQueryStartTime) w.Fixed<int64_t>(0);
  w.U8(1);       // interface: TCP
  w.String("");  // os user
  w.String("");  // client host name
  w.String(kClientName);
  w.VarUInt(kVersionMajor);
  w.VarUInt(kVersionMinor);
  w.VarUInt(kClientRevision);
  if (rev >= kRevQuotaKeyInClientInfo) w.String("");
  if (rev >= kRevDistributedDepth) w.VarUInt(0);
  if (rev >= kRevVersionPatch) w.VarUInt(kVersionPatch);
  if (rev >= kRevOpenTelemetry) w.U8(0);
  if (rev >= kRevParallelReplicas) {
    w.VarUInt(0);
    w.VarUInt(0);
    w.VarUInt(0);
  }
  if (rev >= kRevSettingsAsStrings) {
    for (const auto& [name, value] : settings) {
      w.String(name);
      w.VarUInt(1);  // important: an unknown setting is an error, not ignored
      w.String(value);
    }
  }
  w.String("");  // end of settings
  if (rev >= kRevInterserverSecret) w.String("");
  w.VarUInt(2);  // stage: complete
  w.VarUInt(compressed ? 1 : 0);
  w.String(sql);
  if (rev >= kRevParameters) w.String("");  // no parameters
}

void AppendBlockInfo(std::string* out) {
  ByteWriter b(out);
  b.VarUInt(1);  // is_overflows
  b.U8(0);
  b.VarUInt(2);  // bucket_num
  b.Fixed<int32_t>(-1);
  b.VarUInt(0);  // end
}

void WriteData(std::string_view block, bool compressed, Codec codec, std::string* out) {
  out->append(kDataPacketHead);  // the table name stays outside the compressed frames
  std::string empty;
  if (block.empty()) {
    AppendBlockInfo(&empty);
    empty.append(2, '\0');  // no columns, no rows
    block = empty;
  }
  if (compressed) {
    AppendFrames(codec, block, out);
  } else {
    out->append(block);
  }
}

void WritePing(std::string* out) { ByteWriter(out).VarUInt(4); }
void WriteCancel(std::string* out) { ByteWriter(out).VarUInt(3); }

// --- server packets

// Bytes of the packet being read: straight from the stream, or, inside a compressed block,
// from the frames the stream carries, decoded one at a time. Counts what the packet has
// consumed against kMaxPacketBytes. Views returned are valid until the next call.
class PacketReader::Input {
 public:
  Input(PacketReader* r, bool framed) : r_(r), framed_(framed) {}

  Status Take(size_t n, const char** p) {
    if ((used_ += n) > kMaxPacketBytes) return Bad("a packet larger than 64 MiB");
    if (framed_) {
      while (plain_.size() - plain_pos_ < n)
        if (Status s = NextFrame(); !s.ok()) return s;
      *p = plain_.data() + plain_pos_;
      plain_pos_ += n;
      return absl::OkStatus();
    }
    if (Status s = RawNeed(n); !s.ok()) return s;
    *p = r_->raw_.data() + r_->raw_pos_;
    r_->raw_pos_ += n;
    return absl::OkStatus();
  }

  // Consumes n bytes without keeping them (a column skipped), in bounded pieces.
  Status Skip(uint64_t n) {
    while (n > 0) {
      const size_t piece = static_cast<size_t>(std::min<uint64_t>(n, 1 << 20));
      const char* p;
      if (Status s = Take(piece, &p); !s.ok()) return s;
      n -= piece;
    }
    return absl::OkStatus();
  }

  Status VarUInt(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const char* p;
      if (Status s = Take(1, &p); !s.ok()) return s;
      const uint8_t b = static_cast<uint8_t>(*p);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return absl::OkStatus();
    }
    return Bad("a variable-length integer longer than 10 bytes");
  }

  Status Str(std::string* out, size_t max = kMaxString) {
    uint64_t n;
    if (Status s = VarUInt(&n); !s.ok()) return s;
    if (n > max) return Bad(Cat("a string of ", n, " bytes"));
    const char* p;
    if (Status s = Take(static_cast<size_t>(n), &p); !s.ok()) return s;
    out->assign(p, static_cast<size_t>(n));
    return absl::OkStatus();
  }

  template <class T>
  Status Fixed(T* v) {
    const char* p;
    if (Status s = Take(sizeof(T), &p); !s.ok()) return s;
    std::memcpy(v, p, sizeof(T));
    return absl::OkStatus();
  }

  // Every frame of a compressed block must be consumed with it.
  Status Finish() {
    if (framed_ && plain_pos_ != plain_.size())
      return Bad("a compressed block with bytes after its end");
    return absl::OkStatus();
  }

 private:
  Status RawNeed(size_t n) {
    std::string& raw = r_->raw_;
    while (raw.size() - r_->raw_pos_ < n) {
      if (r_->raw_pos_ > 0 && r_->raw_pos_ * 2 >= raw.size()) {  // drop consumed bytes
        raw.erase(0, r_->raw_pos_);
        r_->raw_pos_ = 0;
      }
      if (Status s = r_->fill_(&raw); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Status NextFrame() {
    if (plain_pos_ > 0) {
      plain_.erase(0, plain_pos_);
      plain_pos_ = 0;
    }
    if (Status s = RawNeed(kFrameHeader); !s.ok()) return s;
    uint32_t compressed, claimed;
    std::memcpy(&compressed, r_->raw_.data() + r_->raw_pos_ + 17, 4);
    std::memcpy(&claimed, r_->raw_.data() + r_->raw_pos_ + 21, 4);
    // ClickHouse writes frames of 1 MiB (max_compress_block_size); a larger claim is not
    // allocated for.
    if (compressed < 9 || compressed > kMaxFrameBytes || claimed > kMaxFrameBytes)
      return Bad("a frame of impossible size");
    const size_t whole = 16 + static_cast<size_t>(compressed);
    if ((used_ += whole) > kMaxPacketBytes) return Bad("a packet larger than 64 MiB");
    if (Status s = RawNeed(whole); !s.ok()) return s;
    auto plain = DecodeFrames(std::string_view(r_->raw_.data() + r_->raw_pos_, whole),
                              kMaxPacketBytes - plain_.size());
    if (!plain.ok()) return plain.status();
    r_->raw_pos_ += whole;
    plain_.append(*plain);
    return absl::OkStatus();
  }

  PacketReader* r_;
  const bool framed_;
  std::string plain_;
  size_t plain_pos_ = 0;
  uint64_t used_ = 0;
};

void PacketReader::Reset() {
  raw_.clear();
  raw_pos_ = 0;
}

Status PacketReader::Next(Packet* p, bool keep_cells) {
  Input in(this, false);
  if (Status s = in.VarUInt(&p->code); !s.ok()) return s;
  switch (p->code) {
    case kHello: return ReadHello(&p->hello);
    case kException: return ReadException(p);
    case kProgress: return ReadProgress(p);
    case kPong:
    case kEndOfStream: return absl::OkStatus();
    case kData:
    case kTotals:
    case kExtremes:
    case kLog:
    case kProfileEvents: {
      std::string table;
      if (Status s = in.Str(&table); !s.ok()) return s;
      // Log and ProfileEvents blocks are never compressed.
      const bool framed = compressed_ && p->code != kLog && p->code != kProfileEvents;
      return ReadBlock(framed, &p->block, keep_cells && p->code == kData);
    }
    case kProfileInfo: {
      uint64_t v;
      uint8_t flag;
      for (int i = 0; i < 3; ++i)
        if (Status s = in.VarUInt(&v); !s.ok()) return s;  // rows, blocks, bytes
      if (Status s = in.Fixed(&flag); !s.ok()) return s;   // applied limit
      if (Status s = in.VarUInt(&v); !s.ok()) return s;    // rows before limit
      return in.Fixed(&flag);                              // calculated rows before limit
    }
    case kTableColumns: {
      std::string table, description;
      if (Status s = in.Str(&table); !s.ok()) return s;
      return in.Str(&description);
    }
    case kTimezoneUpdate: {
      std::string tz;
      return in.Str(&tz, 4096);
    }
    default:
      // 'H' of "HTTP/1.0 400": an HTTP port answered the Hello.
      if (p->code == 'H')
        return absl::FailedPreconditionError(
            "the port answers HTTP, not ClickHouse's native protocol (set http_port, or "
            "protocol: http)");
      return Bad(Cat("unknown packet type ", p->code));
  }
}

Status PacketReader::ReadHello(ServerHello* h) {
  Input in(this, false);
  Status s = in.Str(&h->name, 4096);
  if (s.ok()) s = in.VarUInt(&h->major);
  if (s.ok()) s = in.VarUInt(&h->minor);
  if (s.ok()) s = in.VarUInt(&h->revision);
  if (!s.ok()) return s;
  const uint64_t rev = std::min(h->revision, kClientRevision);
  if (rev >= kRevTimezone) s = in.Str(&h->timezone, 4096);
  if (s.ok() && rev >= kRevDisplayName) s = in.Str(&h->display_name, 4096);
  h->patch = h->revision;
  if (s.ok() && rev >= kRevVersionPatch) s = in.VarUInt(&h->patch);
  return s;
}

Status PacketReader::ReadException(Packet* p) {
  Input in(this, false);
  p->exception_text.clear();
  for (int depth = 0;; ++depth) {
    if (depth == kMaxNested) return Bad("exceptions nested too deeply");
    int32_t code;
    std::string name, message, trace;
    uint8_t nested;
    Status s = in.Fixed(&code);
    if (s.ok()) s = in.Str(&name, 4096);
    if (s.ok()) s = in.Str(&message, 1 << 20);
    if (s.ok()) s = in.Str(&trace, 1 << 20);
    if (s.ok()) s = in.Fixed(&nested);
    if (!s.ok()) return s;
    if (depth == 0) {
      p->exception_code = code;
      // The HTTP interface's form, so that one parser reads the code from both.
      p->exception_text = Cat("Code: ", code, ". ", message);
    } else {
      p->exception_text += Cat(" (caused by Code: ", code, ". ", message, ")");
    }
    if (!nested) return absl::OkStatus();
  }
}

Status PacketReader::ReadProgress(Packet* p) {
  Input in(this, false);
  uint64_t v;
  for (int i = 0; i < 3; ++i)  // read rows, read bytes, total rows to read
    if (Status s = in.VarUInt(&v); !s.ok()) return s;
  if (revision_ >= kRevClientWriteInfo) {
    if (Status s = in.VarUInt(&p->written_rows); !s.ok()) return s;
    if (Status s = in.VarUInt(&v); !s.ok()) return s;
  }
  if (revision_ >= kRevProgressElapsed) return in.VarUInt(&v);
  return absl::OkStatus();
}

namespace {

// A NULL cell: bytes no ClickHouse text value of the queries Sluice runs holds.
const std::string kNullCell("\0\\N\0", 4);

// Columns are read following the type tree: first every serialization-state prefix in
// the tree, then the data.
template <class In>
Status ReadPrefixes(In& in, const Type& t) {
  if (t.kind == Type::kLowCardinality) {
    uint64_t version;
    if (Status s = in.Fixed(&version); !s.ok()) return s;
    if (version != 1) return Bad(Cat("LowCardinality keys version ", version));
  }
  for (const Type& c : t.children)
    if (Status s = ReadPrefixes(in, c); !s.ok()) return s;
  return absl::OkStatus();
}

std::string IntegerText(const Type& t, const char* p) {
  switch (t.kind) {
    case Type::kUInt8:
    case Type::kBool: return std::to_string(LoadFixed<uint8_t>(p));
    case Type::kUInt16:
    case Type::kDate: return std::to_string(LoadFixed<uint16_t>(p));
    case Type::kUInt32:
    case Type::kDateTime: return std::to_string(LoadFixed<uint32_t>(p));
    case Type::kUInt64: return std::to_string(LoadFixed<uint64_t>(p));
    case Type::kInt8:
    case Type::kEnum8: return std::to_string(LoadFixed<int8_t>(p));
    case Type::kInt16:
    case Type::kEnum16: return std::to_string(LoadFixed<int16_t>(p));
    case Type::kInt32: return std::to_string(LoadFixed<int32_t>(p));
    case Type::kInt64:
    case Type::kDateTime64: return std::to_string(LoadFixed<int64_t>(p));
    default: return std::string();  // floats, UUID, FixedString: not needed as text
  }
}

// Reads n values of type t; appends their text to *cells when given.
template <class In>
Status ReadValues(In& in, const Type& t, uint64_t n, std::vector<std::string>* cells,
                  int depth = 0) {
  if (depth > PacketReader::kMaxNested) return Bad("a type nested too deeply");
  if (size_t w = FixedWidth(t)) {
    if (!cells) return in.Skip(n * w);
    for (uint64_t i = 0; i < n; ++i) {
      const char* p;
      if (Status s = in.Take(w, &p); !s.ok()) return s;
      cells->push_back(t.kind == Type::kFixedString ? std::string(p, w) : IntegerText(t, p));
    }
    return absl::OkStatus();
  }
  switch (t.kind) {
    case Type::kString:
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t len;
        if (Status s = in.VarUInt(&len); !s.ok()) return s;
        if (len > PacketReader::kMaxString) return Bad(Cat("a string of ", len, " bytes"));
        if (cells) {
          const char* p;
          if (Status s = in.Take(static_cast<size_t>(len), &p); !s.ok()) return s;
          cells->emplace_back(p, static_cast<size_t>(len));
        } else if (Status s = in.Skip(len); !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    case Type::kNullable: {
      std::string nulls;
      for (uint64_t i = 0; i < n; ++i) {
        const char* p;
        if (Status s = in.Take(1, &p); !s.ok()) return s;
        nulls.push_back(*p);
      }
      const size_t first = cells ? cells->size() : 0;
      if (Status s = ReadValues(in, t.children[0], n, cells, depth + 1); !s.ok()) return s;
      if (cells)
        for (uint64_t i = 0; i < n; ++i)
          if (nulls[i]) (*cells)[first + i] = kNullCell;
      return absl::OkStatus();
    }
    case Type::kArray:
    case Type::kMap: {
      uint64_t last = 0, end = 0;
      for (uint64_t i = 0; i < n; ++i) {
        if (Status s = in.Fixed(&end); !s.ok()) return s;
        if (end < last) return Bad("array offsets that go down");
        last = end;
      }
      if (end > (uint64_t{1} << 32)) return Bad(Cat("an array column of ", end, " elements"));
      for (const Type& c : t.children)
        if (Status s = ReadValues(in, c, end, nullptr, depth + 1); !s.ok()) return s;
      if (cells) cells->resize(cells->size() + n);  // not kept as text
      return absl::OkStatus();
    }
    case Type::kTuple:
      for (const Type& c : t.children)
        if (Status s = ReadValues(in, c, n, nullptr, depth + 1); !s.ok()) return s;
      if (cells) cells->resize(cells->size() + n);  // not kept as text
      return absl::OkStatus();
    case Type::kLowCardinality: {
      const Type& inner =
          t.children[0].kind == Type::kNullable ? t.children[0].children[0] : t.children[0];
      uint64_t done = 0;
      std::vector<std::string> keys;
      while (done < n) {  // one or more granules
        uint64_t flags, count, rows;
        if (Status s = in.Fixed(&flags); !s.ok()) return s;
        const uint64_t width = flags & 0xff;
        if (width > 3 || (flags & (1u << 8))) return Bad("a LowCardinality index type");
        if (flags & (1u << 9)) {
          if (Status s = in.Fixed(&count); !s.ok()) return s;
          if (count > (uint64_t{1} << 32)) return Bad("a LowCardinality dictionary too large");
          keys.clear();
          if (Status s = ReadValues(in, inner, count, cells ? &keys : nullptr, depth + 1); !s.ok())
            return s;
        }
        if (Status s = in.Fixed(&rows); !s.ok()) return s;
        if (rows == 0 || rows > n - done) return Bad("LowCardinality rows past the block");
        const size_t iw = size_t{1} << width;
        for (uint64_t i = 0; i < rows; ++i) {
          const char* p;
          if (Status s = in.Take(iw, &p); !s.ok()) return s;
          if (!cells) continue;
          uint64_t k = 0;
          std::memcpy(&k, p, iw);
          if (k >= keys.size()) return Bad("a LowCardinality index past its dictionary");
          cells->push_back(t.children[0].kind == Type::kNullable && k == 0 ? kNullCell : keys[k]);
        }
        done += rows;
      }
      return absl::OkStatus();
    }
    default: return Bad(Cat("a column of type ", t.text));
  }
}

}  // namespace

Status PacketReader::ReadBlock(bool framed, Block* b, bool keep_cells) {
  Input in(this, framed);
  *b = Block();
  for (int i = 0;; ++i) {  // BlockInfo
    uint64_t field;
    if (Status s = in.VarUInt(&field); !s.ok()) return s;
    if (field == 0) break;
    Status s;
    if (field == 1) {
      uint8_t overflows;
      s = in.Fixed(&overflows);
    } else if (field == 2) {
      int32_t bucket;
      s = in.Fixed(&bucket);
    } else {
      return Bad(Cat("block info field ", field));
    }
    if (!s.ok()) return s;
    if (i > 8) return Bad("a block info that does not end");
  }
  uint64_t columns;
  if (Status s = in.VarUInt(&columns); !s.ok()) return s;
  if (Status s = in.VarUInt(&b->rows); !s.ok()) return s;
  if (columns > kMaxColumns) return Bad(Cat("a block of ", columns, " columns"));
  if (b->rows > (uint64_t{1} << 32)) return Bad(Cat("a block of ", b->rows, " rows"));
  for (uint64_t c = 0; c < columns; ++c) {
    std::string name, type_text;
    if (Status s = in.Str(&name, 1 << 16); !s.ok()) return s;
    if (Status s = in.Str(&type_text, 1 << 16); !s.ok()) return s;
    if (revision_ >= kRevCustomSerialization) {
      uint8_t custom;
      if (Status s = in.Fixed(&custom); !s.ok()) return s;
      if (custom != 0) return Bad(Cat("column ", name, " in a custom serialization"));
    }
    if (b->rows > 0) {
      auto type = ParseType(type_text);
      if (!type.ok()) return Bad(Cat("column ", name, ": ", type.status().message()));
      std::vector<std::string>* cells = nullptr;
      if (keep_cells) cells = &b->cells.emplace_back();
      if (Status s = ReadPrefixes(in, *type); !s.ok()) return s;
      if (Status s = ReadValues(in, *type, b->rows, cells); !s.ok()) return s;
    } else if (keep_cells) {
      b->cells.emplace_back();
    }
    b->names.push_back(std::move(name));
    b->types.push_back(std::move(type_text));
  }
  return in.Finish();
}

void AppendTabSeparated(const Block& b, std::string* out) {
  for (uint64_t r = 0; r < b.rows; ++r) {
    for (size_t c = 0; c < b.cells.size(); ++c) {
      if (c > 0) out->push_back('\t');
      const std::string& v = r < b.cells[c].size() ? b.cells[c][r] : std::string();
      if (v == kNullCell) {
        out->append("\\N");
        continue;
      }
      for (char ch : v) {
        switch (ch) {
          case '\\': out->append("\\\\"); break;
          case '\t': out->append("\\t"); break;
          case '\n': out->append("\\n"); break;
          case '\r': out->append("\\r"); break;
          case '\b': out->append("\\b"); break;
          case '\f': out->append("\\f"); break;
          case '\0': out->append("\\0"); break;
          case '\'': out->append("\\'"); break;
          default: out->push_back(ch);
        }
      }
    }
    out->push_back('\n');
  }
}

}  // namespace sluice::clickhouse::native
