#include "clickhouse/native.h"

#include <cstring>
#include <unordered_map>

#include "core/bytes.h"
#include "core/cat.h"
#include "otlp/wire.h"

namespace sluice::clickhouse {

size_t FixedWidth(const Type& t) {
  switch (t.kind) {
    case Type::kUInt8:
    case Type::kInt8:
    case Type::kBool:
    case Type::kEnum8: return 1;
    case Type::kUInt16:
    case Type::kInt16:
    case Type::kDate:
    case Type::kEnum16: return 2;
    case Type::kUInt32:
    case Type::kInt32:
    case Type::kFloat32:
    case Type::kDateTime: return 4;
    case Type::kUInt64:
    case Type::kInt64:
    case Type::kFloat64:
    case Type::kDateTime64: return 8;
    case Type::kUUID: return 16;
    case Type::kFixedString: return static_cast<size_t>(t.param);
    default: return 0;
  }
}

namespace {

// One column being built, as a tree that follows the type: a Nullable keeps its null map
// and its inner column, an Array or Map its end offsets and element columns, a Tuple one
// column per element, a LowCardinality a dictionary and one index per row.
struct Column {
  const Type* type;
  size_t width = 0;               // FixedWidth(*type)
  std::string data;               // scalars: the values back to back (String: length + bytes)
  std::string nulls;              // Nullable: one byte per row
  std::vector<uint64_t> offsets;  // Array / Map: cumulative end offsets
  uint64_t total = 0;
  std::vector<Column> kids;
  // LowCardinality: distinct serialized keys (as the plain inner type), their order, and
  // one index per row. Key 0 is the NULL placeholder when the inner type is Nullable.
  std::unordered_map<std::string, uint32_t> dict;
  std::string keys;
  uint32_t key_count = 0;
  std::vector<uint32_t> indexes;

  explicit Column(const Type& t) : type(&t), width(FixedWidth(t)) {
    Reset();
    switch (t.kind) {
      case Type::kNullable:
      case Type::kArray: kids.emplace_back(t.children[0]); break;
      case Type::kMap:
      case Type::kTuple:
        for (const Type& c : t.children) kids.emplace_back(c);
        break;
      default: break;
    }
  }

  // Points the column at `t`, a type with the same text (so the same tree) as the one it
  // was built for, which may be gone.
  void Rebind(const Type& t) {
    type = &t;
    if (t.kind == Type::kNullable || t.kind == Type::kArray) {
      kids[0].Rebind(t.children[0]);
    } else if (t.kind == Type::kMap || t.kind == Type::kTuple) {
      for (size_t i = 0; i < kids.size(); ++i) kids[i].Rebind(t.children[i]);
    }
  }

  // Empties the column for the next block, keeping its memory.
  void Reset() {
    data.clear();
    nulls.clear();
    offsets.clear();
    total = 0;
    dict.clear();
    keys.clear();
    key_count = 0;
    indexes.clear();
    if (type->kind == Type::kLowCardinality && type->children[0].kind == Type::kNullable) {
      AppendDefault(type->children[0].children[0], &keys);  // key 0: NULL (placeholder)
      key_count = 1;
    }
    for (Column& k : kids) k.Reset();
  }

  static void AppendDefault(const Type& t, std::string* out) {
    if (size_t w = FixedWidth(t)) {
      out->append(w, '\0');
    } else {
      out->push_back('\0');  // String: empty
    }
  }
};

// Reads RowBinary values (varints and length prefixes are protobuf's) into columns.
class Reader {
 public:
  explicit Reader(std::string_view b) : r_(b) {}
  bool ok() const { return r_.ok() && !bad_type_; }
  bool at_end() const { return r_.at_end(); }

  // Reads one RowBinary value of c's type and appends it to c.
  void Value(Column& c) {
    const Type& t = *c.type;
    if (c.width) {
      c.data.append(r_.Raw(c.width));
      return;
    }
    switch (t.kind) {
      case Type::kString: c.data.append(StringBytes()); return;
      case Type::kNullable: {
        const std::string_view flag = r_.Raw(1);
        if (!ok()) return;
        c.nulls.push_back(flag[0]);
        if (flag[0]) {
          Default(c.kids[0]);
        } else {
          Value(c.kids[0]);
        }
        return;
      }
      case Type::kArray: {
        const uint64_t n = r_.Varint();
        c.total += n;
        c.offsets.push_back(c.total);
        Column& e = c.kids[0];
        // Elements of fixed width or String are the same bytes in RowBinary and Native, back
        // to back: one copy for the whole array (attribute maps are Array(String) pairs).
        if (e.width) {
          if (n > r_.remaining() / e.width) return Fail();
          e.data.append(r_.Raw(n * e.width));
          return;
        }
        if (e.type->kind == Type::kString) {
          const char* start = r_.pos();
          for (uint64_t i = 0; i < n && ok(); ++i) r_.Len();
          if (ok()) e.data.append(start, static_cast<size_t>(r_.pos() - start));
          return;
        }
        for (uint64_t i = 0; i < n && ok(); ++i) Value(e);
        return;
      }
      case Type::kMap: {
        const uint64_t n = r_.Varint();
        c.total += n;
        c.offsets.push_back(c.total);
        for (uint64_t i = 0; i < n && ok(); ++i) {
          Value(c.kids[0]);
          Value(c.kids[1]);
        }
        return;
      }
      case Type::kTuple:
        for (Column& k : c.kids) Value(k);
        return;
      case Type::kLowCardinality: {
        const Type* inner = &t.children[0];
        if (inner->kind == Type::kNullable) {
          const std::string_view flag = r_.Raw(1);
          if (!ok()) return;
          if (flag[0]) {
            c.indexes.push_back(0);
            return;
          }
          inner = &inner->children[0];
        }
        const size_t width = FixedWidth(*inner);
        const std::string_view key = width ? r_.Raw(width) : StringBytes();
        if (!ok()) return;
        auto [it, added] = c.dict.try_emplace(std::string(key), c.key_count);
        if (added) {
          c.keys.append(key);
          ++c.key_count;
        }
        c.indexes.push_back(it->second);
        return;
      }
      default: bad_type_ = true; return;  // no such value in a plan's rows
    }
  }

 private:
  // The placeholder a Nullable's inner column holds for a NULL row.
  void Default(Column& c) {
    const Type& t = *c.type;
    switch (t.kind) {
      case Type::kArray:
      case Type::kMap: c.offsets.push_back(c.total); return;
      case Type::kTuple:
        for (Column& k : c.kids) Default(k);
        return;
      default: Column::AppendDefault(t, &c.data); return;
    }
  }

  // A String value with its length prefix, as raw bytes.
  std::string_view StringBytes() {
    const char* start = r_.pos();
    r_.Len();
    return ok() ? std::string_view(start, static_cast<size_t>(r_.pos() - start))
                : std::string_view();
  }

  void Fail() { bad_type_ = true; }

  otlp::WireReader r_;
  bool bad_type_ = false;
};

// The serialization-state prefixes of the whole type tree come before any data.
void WritePrefixes(const Column& c, ByteWriter& w) {
  if (c.type->kind == Type::kLowCardinality) w.Fixed<uint64_t>(1);  // shared dictionaries
  for (const Column& k : c.kids) WritePrefixes(k, w);
}

void WriteData(const Column& c, ByteWriter& w) {
  switch (c.type->kind) {
    case Type::kNullable:
      w.Bytes(c.nulls);
      WriteData(c.kids[0], w);
      return;
    case Type::kArray:
    case Type::kMap:
      w.Bytes(c.offsets.data(), c.offsets.size() * sizeof(uint64_t));
      for (const Column& k : c.kids) WriteData(k, w);
      return;
    case Type::kTuple:
      for (const Column& k : c.kids) WriteData(k, w);
      return;
    case Type::kLowCardinality: {
      // Index width by dictionary size; HasAdditionalKeys | NeedUpdateDictionary.
      const int width = c.key_count <= 0x100 ? 0 : c.key_count <= 0x10000 ? 1 : 2;
      w.Fixed<uint64_t>(static_cast<uint64_t>(width) | (1u << 9) | (1u << 10));
      w.Fixed<uint64_t>(c.key_count);
      w.Bytes(c.keys);
      w.Fixed<uint64_t>(c.indexes.size());
      for (uint32_t i : c.indexes) {
        if (width == 0) {
          w.U8(static_cast<uint8_t>(i));
        } else if (width == 1) {
          w.Fixed<uint16_t>(static_cast<uint16_t>(i));
        } else {
          w.Fixed<uint32_t>(i);
        }
      }
      return;
    }
    default: w.Bytes(c.data); return;
  }
}

}  // namespace

Status RowBinaryToNative(const std::vector<ColumnBinding>& columns, std::string_view bytes,
                         uint64_t rows, std::string* out, bool custom_flag) {
  // Column buffers are kept per thread and reused (an inserter sends one block after
  // another to the same table): no allocation, no page faults, no growth copies once warm.
  thread_local std::vector<Column> cols;
  thread_local std::vector<std::string> types;
  bool same = cols.size() == columns.size();
  for (size_t i = 0; same && i < columns.size(); ++i) same = types[i] == columns[i].type.text;
  if (same) {
    for (size_t i = 0; i < cols.size(); ++i) {
      cols[i].Rebind(columns[i].type);
      cols[i].Reset();
    }
  } else {
    cols.clear();
    types.clear();
    cols.reserve(columns.size());
    for (const ColumnBinding& b : columns) {
      cols.emplace_back(b.type);
      types.push_back(b.type.text);
    }
  }
  Reader r(bytes);
  for (uint64_t i = 0; i < rows && r.ok(); ++i)
    for (Column& c : cols) r.Value(c);
  if (!r.ok() || !r.at_end())
    return absl::InvalidArgumentError(
        Cat("RowBinary rows do not match their ", columns.size(), " columns"));
  ByteWriter w(out);
  w.VarUInt(cols.size());
  w.VarUInt(rows);
  for (size_t i = 0; i < cols.size(); ++i) {
    w.String(columns[i].column);
    w.String(columns[i].type.text);
    if (custom_flag) w.U8(0);
    if (rows == 0) continue;
    WritePrefixes(cols[i], w);
    WriteData(cols[i], w);
  }
  return absl::OkStatus();
}

}  // namespace sluice::clickhouse
