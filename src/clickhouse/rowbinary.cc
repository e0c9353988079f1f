#include "clickhouse/rowbinary.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "core/cat.h"
#include "core/text.h"
#include "otlp/anyvalue.h"

namespace sluice::clickhouse {
namespace {

using otlp::FlatType;
using otlp::Value;
using otlp::VKind;

Status Conv(const Type& t, std::string_view what) {
  return absl::InvalidArgumentError(Cat("cannot write ", what, " to column type ", t.text));
}

std::string& Scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

// The text form of a value, for string-like columns. Returns a view that is valid until
// the next call on this thread.
std::string_view TextOf(const Value& v) {
  if (v.kind == VKind::kStr || v.kind == VKind::kEnum) return v.s;
  std::string& s = Scratch();
  otlp::AppendValueText(v, &s);
  return s;
}

// A String column's bytes for an AnyValue, written straight from the request (the common
// case of map columns: no Value, no dispatch, no scratch copy for string values).
void PutAnyText(ByteWriter& w, std::string_view anyvalue) {
  if (std::string_view s; otlp::AsShortString(anyvalue, &s)) return w.String(s);
  const otlp::AnyValueView a = otlp::ParseAnyValue(anyvalue);
  if (a.kind == otlp::AnyValueView::kString) return w.String(a.bytes);
  std::string& s = Scratch();
  otlp::AppendAnyValueText(anyvalue, &s);
  w.String(s);
}
bool IsPlainString(const Type& t) {
  return t.kind == Type::kString ||
         (t.kind == Type::kLowCardinality && t.children[0].kind == Type::kString);
}

// Normalizes AnyValue (attribute look-ups, log bodies) to a scalar value kind.
Value Scalarize(const Value& v) {
  if (v.kind != VKind::kAny) return v;
  otlp::AnyValueView a = otlp::ParseAnyValue(v.s);
  Value o;
  switch (a.kind) {
    case otlp::AnyValueView::kString:
      o.kind = VKind::kStr;
      o.s = a.bytes;
      return o;
    case otlp::AnyValueView::kBool:
      o.kind = VKind::kBool;
      o.b = a.b;
      return o;
    case otlp::AnyValueView::kInt:
      o.kind = VKind::kI64;
      o.i = a.i;
      return o;
    case otlp::AnyValueView::kDouble:
      o.kind = VKind::kF64;
      o.d = a.d;
      return o;
    case otlp::AnyValueView::kEmpty: return o;  // null
    default: return v;                          // arrays, kvlists, bytes keep their text form
  }
}

// Integer columns take whole numbers only, from numbers and numeric strings alike: 12,
// 12.0, "12", "12.0" and "1.2e1" are 12; 12.5, "12.5", NaN and "abc" are rejected, never
// rounded. Whether the number fits the column is checked by the caller.
enum class WholeResult { kOk, kNotNumber, kNotWhole };

WholeResult WholeFromDouble(double d, __int128* out) {
  if (!std::isfinite(d) || d != std::trunc(d)) return WholeResult::kNotWhole;
  // Beyond 2^64 nothing fits any column; clamping keeps the conversion defined.
  if (d >= 18446744073709551616.0 || d < -9223372036854775808.0) {
    *out = d > 0 ? (static_cast<__int128>(1) << 65) : -(static_cast<__int128>(1) << 65);
    return WholeResult::kOk;
  }
  *out = d < 0 ? static_cast<__int128>(static_cast<int64_t>(d))
               : static_cast<__int128>(static_cast<uint64_t>(d));
  return WholeResult::kOk;
}

WholeResult ToWhole(const Value& v, __int128* out) {
  switch (v.kind) {
    case VKind::kU64:
    case VKind::kTime: *out = v.u; return WholeResult::kOk;
    case VKind::kI64:
    case VKind::kEnum: *out = v.i; return WholeResult::kOk;
    case VKind::kBool: *out = v.b ? 1 : 0; return WholeResult::kOk;
    case VKind::kF64: return WholeFromDouble(v.d, out);
    case VKind::kNull: *out = 0; return WholeResult::kOk;
    case VKind::kStr: {
      std::string_view s = v.s;
      const char* end = s.data() + s.size();
      int64_t i;
      if (auto r = std::from_chars(s.data(), end, i); r.ec == std::errc() && r.ptr == end) {
        *out = i;
        return WholeResult::kOk;
      }
      uint64_t u;
      if (auto r = std::from_chars(s.data(), end, u); r.ec == std::errc() && r.ptr == end) {
        *out = u;
        return WholeResult::kOk;
      }
      double d;
      if (auto r = std::from_chars(s.data(), end, d);
          r.ec == std::errc() && r.ptr == end && !s.empty())
        return WholeFromDouble(d, out);
      return WholeResult::kNotNumber;
    }
    default: return WholeResult::kNotNumber;
  }
}

// The value as it appears in an error message: its text, cut at 64 bytes.
std::string Shown(const Value& v) {
  std::string_view t = TextOf(v);
  if (v.kind == VKind::kStr) return Cat("'", t.substr(0, 64), t.size() > 64 ? "...'" : "'");
  return std::string(t.substr(0, 64));
}

bool ToDouble(const Value& v, double* d) {
  switch (v.kind) {
    case VKind::kU64:
    case VKind::kTime: *d = static_cast<double>(v.u); return true;
    case VKind::kI64:
    case VKind::kEnum: *d = static_cast<double>(v.i); return true;
    case VKind::kF64: *d = v.d; return true;
    case VKind::kBool: *d = v.b ? 1 : 0; return true;
    case VKind::kNull: *d = 0; return true;
    case VKind::kStr: {
      auto r = std::from_chars(v.s.data(), v.s.data() + v.s.size(), *d);
      return r.ec == std::errc() && r.ptr == v.s.data() + v.s.size() && !v.s.empty();
    }
    default: return false;
  }
}

// Unix nanoseconds of a date-time-like value. Numbers are Unix seconds.
bool ToNanos(const Value& v, int64_t* ns) {
  switch (v.kind) {
    case VKind::kTime: *ns = static_cast<int64_t>(v.u); return true;
    case VKind::kU64: *ns = static_cast<int64_t>(v.u) * 1000000000; return true;
    case VKind::kI64: *ns = v.i * 1000000000; return true;
    case VKind::kF64: *ns = static_cast<int64_t>(v.d * 1e9); return true;
    case VKind::kNull: *ns = 0; return true;
    case VKind::kStr: return ParseDateTime(v.s, ns);
    default: return false;
  }
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool HexNibble(char c, int* n) {
  if (c >= '0' && c <= '9')
    *n = c - '0';
  else if (c >= 'a' && c <= 'f')
    *n = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F')
    *n = c - 'A' + 10;
  else
    return false;
  return true;
}

bool ParseUuid(std::string_view s, uint8_t out[16]) {
  int k = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '-') {
      ++i;
      continue;
    }
    int hi, lo;
    if (k >= 16 || i + 1 >= s.size() || !HexNibble(s[i], &hi) || !HexNibble(s[i + 1], &lo))
      return false;
    out[k++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return k == 16;
}

// Writes the value when it is within T's range.
template <class T>
bool PutInt(ByteWriter& w, __int128 v) {
  if (v < static_cast<__int128>(std::numeric_limits<T>::min()) ||
      v > static_cast<__int128>(std::numeric_limits<T>::max()))
    return false;
  w.Fixed<T>(static_cast<T>(v));
  return true;
}

Status EncodeMap(const Value& v, const Type& t, ByteWriter& w, bool as_tuples);

Status EncodeStructElement(const Value& arr, std::string_view elem, const Type& t, ByteWriter& w);

}  // namespace

Status EncodeValue(const Value& in, const Type& t, ByteWriter& w) {
  if (t.kind == Type::kNullable) {
    if (in.kind == VKind::kNull) {
      w.U8(1);
      return absl::OkStatus();
    }
    w.U8(0);
    return EncodeValue(in, t.children[0], w);
  }
  if (t.kind == Type::kLowCardinality) return EncodeValue(in, t.children[0], w);
  // Only scalar AnyValues are converted, out of line; everything else is used in place
  // (copying or zeroing a Value here costs more than the encoding in this hottest function).
  if (in.kind == VKind::kAny && t.kind != Type::kString && t.kind != Type::kFixedString)
    if (const Value scalar = Scalarize(in); scalar.kind != VKind::kAny)
      return EncodeValue(scalar, t, w);
  const Value& v = in;

  switch (t.kind) {
    case Type::kString:
      switch (v.kind) {  // the common kinds written straight from the request
        case VKind::kNull: w.VarUInt(0); return absl::OkStatus();
        case VKind::kStr:
        case VKind::kEnum: w.String(v.s); return absl::OkStatus();
        case VKind::kAny: PutAnyText(w, v.s); return absl::OkStatus();
        case VKind::kId:
          if (v.s.size() <= 32) {  // trace and span ids: hex straight into the row
            char hex[64];
            WriteHex(v.s, hex);
            w.String(std::string_view(hex, 2 * v.s.size()));
            return absl::OkStatus();
          }
          break;
        default: break;
      }
      w.String(TextOf(v));
      return absl::OkStatus();
    case Type::kFixedString: {
      std::string_view s = v.kind == VKind::kNull ? std::string_view() : TextOf(v);
      if (s.size() > static_cast<size_t>(t.param)) return Conv(t, "a value longer than its size");
      w.Bytes(s);
      for (size_t i = s.size(); i < static_cast<size_t>(t.param); ++i) w.U8(0);
      return absl::OkStatus();
    }
    case Type::kUInt8:
    case Type::kUInt16:
    case Type::kUInt32:
    case Type::kUInt64:
    case Type::kInt8:
    case Type::kInt16:
    case Type::kInt32:
    case Type::kInt64: {
      __int128 n = 0;
      switch (ToWhole(v, &n)) {
        case WholeResult::kOk: break;
        case WholeResult::kNotNumber:
          return absl::InvalidArgumentError(
              Cat(Shown(v), " is not a number (column type ", t.text, ")"));
        case WholeResult::kNotWhole:
          return absl::InvalidArgumentError(
              Cat(Shown(v), " is not a whole number (column type ", t.text, ")"));
      }
      bool fits;
      switch (t.kind) {
        case Type::kUInt8: fits = PutInt<uint8_t>(w, n); break;
        case Type::kUInt16: fits = PutInt<uint16_t>(w, n); break;
        case Type::kUInt32: fits = PutInt<uint32_t>(w, n); break;
        case Type::kUInt64: fits = PutInt<uint64_t>(w, n); break;
        case Type::kInt8: fits = PutInt<int8_t>(w, n); break;
        case Type::kInt16: fits = PutInt<int16_t>(w, n); break;
        case Type::kInt32: fits = PutInt<int32_t>(w, n); break;
        default: fits = PutInt<int64_t>(w, n); break;
      }
      if (!fits) return absl::InvalidArgumentError(Cat(Shown(v), " does not fit ", t.text));
      return absl::OkStatus();
    }
    case Type::kFloat32:
    case Type::kFloat64: {
      double d;
      if (!ToDouble(v, &d)) return Conv(t, "a non-numeric value");
      if (t.kind == Type::kFloat32)
        w.Fixed<float>(static_cast<float>(d));
      else
        w.Fixed<double>(d);
      return absl::OkStatus();
    }
    case Type::kBool: {
      bool b;
      if (v.kind == VKind::kBool)
        b = v.b;
      else if (v.kind == VKind::kStr && (v.s == "true" || v.s == "false"))
        b = v.s == "true";
      else {
        double d;
        if (!ToDouble(v, &d)) return Conv(t, "a non-boolean value");
        b = d != 0;
      }
      w.U8(b ? 1 : 0);
      return absl::OkStatus();
    }
    case Type::kDate:
    case Type::kDateTime:
    case Type::kDateTime64: {
      int64_t ns;
      if (!ToNanos(v, &ns)) return Conv(t, "a value that is not a date-time");
      if (t.kind == Type::kDate) {
        w.Fixed<uint16_t>(static_cast<uint16_t>(FloorDiv(ns, 86400000000000ll)));
      } else if (t.kind == Type::kDateTime) {
        w.Fixed<uint32_t>(static_cast<uint32_t>(FloorDiv(ns, 1000000000ll)));
      } else {
        int64_t div = 1;
        for (int k = t.param; k < 9; ++k) div *= 10;
        w.Fixed<int64_t>(FloorDiv(ns, div));
      }
      return absl::OkStatus();
    }
    case Type::kUUID: {
      uint8_t b[16] = {};
      if (v.kind == VKind::kId && v.s.size() == 16) {
        std::memcpy(b, v.s.data(), 16);
      } else if (v.kind != VKind::kNull && !ParseUuid(TextOf(v), b)) {
        return Conv(t, "a value that is not a UUID");
      }
      for (int k = 7; k >= 0; --k) w.U8(b[k]);
      for (int k = 15; k >= 8; --k) w.U8(b[k]);
      return absl::OkStatus();
    }
    case Type::kEnum8:
    case Type::kEnum16: {
      int value = 0;
      bool found = false;
      if (v.kind == VKind::kStr || v.kind == VKind::kEnum || v.kind == VKind::kAny) {
        std::string_view name = TextOf(v);
        for (const auto& [label, n] : t.enum_values) {
          if (label == name) {
            value = n;
            found = true;
          }
        }
      }
      if (!found) {
        __int128 n;
        if (v.kind != VKind::kStr && ToWhole(v, &n) == WholeResult::kOk) {
          for (const auto& e : t.enum_values) {
            if (e.second == n) {
              value = e.second;
              found = true;
            }
          }
        }
      }
      if (!found) return Conv(t, "a value that is not one of the enum's");
      if (t.kind == Type::kEnum8)
        w.Fixed<int8_t>(static_cast<int8_t>(value));
      else
        w.Fixed<int16_t>(static_cast<int16_t>(value));
      return absl::OkStatus();
    }
    case Type::kMap: return EncodeMap(v, t, w, false);
    case Type::kArray: {
      const Type& elem = t.children[0];
      switch (v.kind) {
        case VKind::kNull: w.VarUInt(0); return absl::OkStatus();
        case VKind::kPackedU64:
        case VKind::kPackedF64: {
          w.VarUInt(v.packed.Count());
          Status st;
          const bool dbl = v.kind == VKind::kPackedF64;
          v.packed.ForEach([&](uint64_t bits) {
            if (!st.ok()) return;
            Value e;
            if (dbl) {
              e.kind = VKind::kF64;
              std::memcpy(&e.d, &bits, 8);
            } else {
              e.kind = VKind::kU64;
              e.u = bits;
            }
            st = EncodeValue(e, elem, w);
          });
          return st;
        }
        case VKind::kStructs: {
          w.VarUInt(v.rep.Count());
          Status st;
          v.rep.ForEach([&](std::string_view e) {
            if (st.ok()) st = EncodeStructElement(v, e, elem, w);
          });
          return st;
        }
        case VKind::kAttrs:
          if (elem.Base().kind == Type::kTuple && elem.Base().children.size() == 2)
            return EncodeMap(v, t, w, true);
          return Conv(t, "a map");
        case VKind::kList: {  // a transform's computed array
          if (v.list_keys) {
            if (elem.Base().kind == Type::kTuple && elem.Base().children.size() == 2)
              return EncodeMap(v, t, w, true);
            return Conv(t, "a map");
          }
          w.VarUInt(v.list_size);
          for (size_t k = 0; k < v.list_size; ++k)
            if (Status st = EncodeValue(v.list[k], elem, w); !st.ok()) return st;
          return absl::OkStatus();
        }
        default: return Conv(t, "a scalar value");
      }
    }
    case Type::kTuple: return Conv(t, "a value (tuples are written only inside arrays)");
    case Type::kNullable:
    case Type::kLowCardinality:
    case Type::kNested: break;
  }
  return Conv(t, "a value");
}

namespace {

Status EncodeMap(const Value& v, const Type& t, ByteWriter& w, bool as_tuples) {
  if (v.kind == VKind::kNull) {
    w.VarUInt(0);
    return absl::OkStatus();
  }
  const Type& kt = as_tuples ? t.children[0].Base().children[0] : t.children[0];
  const Type& vt = as_tuples ? t.children[0].Base().children[1] : t.children[1];
  if (v.kind == VKind::kList && v.list_keys) {  // a transform's computed map
    w.VarUInt(v.list_size);
    for (size_t k = 0; k < v.list_size; ++k) {
      Status st = EncodeValue(Value::Str(v.list_keys[k]), kt, w);
      if (st.ok()) st = EncodeValue(v.list[k], vt, w);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  if (v.kind != VKind::kAttrs) return Conv(t, "a value that is not a map");
  const otlp::AttributeList list(v.rep);
  w.VarUInt(list.items().size());
  if (IsPlainString(kt) && IsPlainString(vt)) {
    for (const auto& kv : list.items()) {
      w.String(kv.key);
      PutAnyText(w, kv.value);
    }
    return absl::OkStatus();
  }
  Status st;
  for (const auto& kv : list.items()) {
    st = EncodeValue(Value::Str(kv.key), kt, w);
    if (st.ok()) st = EncodeValue(Value::Any(kv.value), vt, w);
    if (!st.ok()) break;
  }
  return st;
}

// One element of an array-of-objects field written as a Tuple (members matched by name),
// a Map(String, String) of member texts, or a String holding the element as JSON.
Status EncodeStructElement(const Value& arr, std::string_view elem, const Type& t, ByteWriter& w) {
  auto members = otlp::MembersOf(arr.element);
  const Type& base = t.Base();
  if (base.kind == Type::kTuple) {
    for (size_t c = 0; c < base.children.size(); ++c) {
      const int found = otlp::FindMember(arr.element, base.names[c]);
      if (found < 0) return Conv(t, Cat("an object without member '", base.names[c], "'"));
      Status st = EncodeValue(otlp::ExtractMember(arr.element, found, elem), base.children[c], w);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  if (base.kind == Type::kString) {
    Value one;
    one.kind = VKind::kStructs;
    one.element = arr.element;
    std::string json;
    // Write a single element by wrapping it: reuse the array writer on a one-item view.
    std::string item;
    otlp::PutTag(1, otlp::kLen, &item);
    otlp::PutVarint(elem.size(), &item);
    item.append(elem);
    one.rep = otlp::Repeated{item, 1};
    otlp::AppendValueJson(one, &json);
    std::string_view body(json);
    body = body.substr(1, body.size() - 2);  // strip [ ]
    w.String(body);
    return absl::OkStatus();
  }
  return Conv(t, "an object");
}

}  // namespace

// EncodeBinding without the column and field in its errors.
Status EncodeBindingValue(const ColumnBinding& b, const otlp::RecordCtx& ctx, ByteWriter& w,
                          RowScratch* scratch);

Status EncodeBinding(const ColumnBinding& b, const otlp::RecordCtx& ctx, ByteWriter& w,
                     RowScratch* scratch) {
  Status s = EncodeBindingValue(b, ctx, w, scratch);
  if (s.ok()) return s;
  // Which column and field: the dead letter and the log must say where the value was.
  return absl::Status(
      s.code(),
      Cat("column '", b.column, "' from '", b.path.field->name,
          b.path.keyed() ? Cat("' attribute '", b.path.key) : std::string(), "': ", s.message()));
}

Status EncodeBindingValue(const ColumnBinding& b, const otlp::RecordCtx& ctx, ByteWriter& w,
                          RowScratch* scratch) {
  Value v = otlp::ExtractPath(b.path, ctx);
  // `flags` is a bit set whose low byte is the W3C trace flags: a UInt8 column (ClickStack's
  // TraceFlags) takes that byte, as the Collector's exporter writes it, not a range error.
  if (b.part == Part::kWhole && b.path.field->id == otlp::FieldId::kFlags &&
      v.kind == VKind::kU64 && b.type.Base().kind == Type::kUInt8)
    v.u &= 0xFF;
  switch (b.part) {
    case Part::kWhole: return EncodeValue(v, b.type, w);
    case Part::kMember: {
      const Type& elem = b.type.Base().children[0];
      if (v.kind != VKind::kStructs) {
        w.VarUInt(0);
        return absl::OkStatus();
      }
      w.VarUInt(v.rep.Count());
      Status st;
      v.rep.ForEach([&](std::string_view e) {
        if (st.ok()) st = EncodeValue(otlp::ExtractMember(v.element, b.path.member, e), elem, w);
      });
      return st;
    }
    case Part::kMapKeys:
    case Part::kMapValues: {
      const Type& elem = b.type.Base().children[0];
      if (v.kind != VKind::kAttrs) {
        w.VarUInt(0);
        return absl::OkStatus();
      }
      std::optional<otlp::AttributeList> own;
      const std::vector<otlp::KeyValueView>* items;
      if (scratch) {
        if (scratch->map_data != v.rep.msg.data() || scratch->map_size != v.rep.msg.size() ||
            scratch->map_field != v.rep.field) {
          otlp::CollectAttributes(v.rep, &scratch->map);
          scratch->map_data = v.rep.msg.data();
          scratch->map_size = v.rep.msg.size();
          scratch->map_field = v.rep.field;
        }
        items = &scratch->map;
      } else {
        items = &own.emplace(v.rep).items();
      }
      w.VarUInt(items->size());
      if (IsPlainString(elem)) {
        for (const auto& kv : *items) {
          if (b.part == Part::kMapKeys)
            w.String(kv.key);
          else
            PutAnyText(w, kv.value);
        }
        return absl::OkStatus();
      }
      Status st;
      for (const auto& kv : *items) {
        st = EncodeValue(b.part == Part::kMapKeys ? Value::Str(kv.key) : Value::Any(kv.value), elem,
                         w);
        if (!st.ok()) break;
      }
      return st;
    }
  }
  return absl::OkStatus();
}

Status CheckCompatible(const ColumnBinding& b) {
  const Type& base = b.type.Base();
  const FlatType ft = b.path.type;
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(Cat("field '", b.path.field->name,
                                          b.path.keyed() ? "." + b.path.key : std::string(), "' (",
                                          otlp::FlatTypeName(ft), ") cannot be written to column '",
                                          b.column, "' of type ", b.type.text, ": ", why));
  };
  if (b.part != Part::kWhole) {
    if (base.kind != Type::kArray) return bad("expected an Array column");
    return absl::OkStatus();
  }
  switch (base.kind) {
    case Type::kString:
    case Type::kFixedString: return absl::OkStatus();  // every value has a text form
    case Type::kMap:
      if (ft != FlatType::kMap) return bad("only map fields fit Map columns");
      return absl::OkStatus();
    case Type::kArray: {
      if (ft == FlatType::kMap) {
        const Type& e = base.children[0].Base();
        if (e.kind == Type::kTuple && e.children.size() == 2) return absl::OkStatus();
        return bad("a map fits Array(Tuple(K, V)) only");
      }
      if (ft != FlatType::kArray) return bad("only array fields fit Array columns");
      return absl::OkStatus();
    }
    case Type::kTuple:
    case Type::kNested: return bad("map Nested columns by their sub-columns");
    default:
      if (ft == FlatType::kMap || ft == FlatType::kArray)
        return bad("maps and arrays need a String, Map or Array column");
      return absl::OkStatus();
  }
}

}  // namespace sluice::clickhouse
