#include "otlp/validate.h"

#include <algorithm>
#include <vector>

#include "core/cat.h"
#include "otlp/anyvalue.h"
#include "otlp/nested_writer.h"
#include "otlp/schema.h"
#include "otlp/wire.h"

namespace sluice::otlp {
namespace {

bool WireTypeMatches(const FieldDef& f, uint32_t wt) {
  if (wt == WireTypeOf(f.type)) return true;
  return IsPacked(f.type) && wt == kLen;
}

bool CheckPacked(FType t, std::string_view payload) {
  if (t == FType::kPackedUInt64) {
    WireReader r(payload);
    while (!r.at_end()) {
      r.Varint();
      if (!r.ok()) return false;
    }
    return true;
  }
  return payload.size() % 8 == 0;
}

bool IsValidId(std::string_view id, size_t len) {
  if (id.size() != len) return false;
  for (char c : id)
    if (c != 0) return true;
  return false;
}

// An AnyValue holding one scalar (string, bool, int or double), or nothing: well-formed and
// canonical as it is. False means "walk it".
bool IsScalarAnyValue(std::string_view v) {
  std::string_view text;
  if (v.empty() || AsShortString(v, &text)) return true;
  const auto tag = static_cast<unsigned char>(v[0]);
  if (tag != 0x10 && tag != 0x18 && tag != 0x21) return false;  // bool, int, double
  WireReader r(v);
  return r.Next() && r.Skip() && r.at_end();
}

// A KeyValue as serializers write it: a short key, then a scalar value (or none).
bool IsSimpleKeyValue(std::string_view kv) {
  std::string_view key, value;
  if (AsShortKeyValue(kv, &key, &value)) return IsScalarAnyValue(value);
  return LoneShortField(kv.data(), kv.data() + kv.size(), 0x0a) != nullptr;  // key only
}

class Walker {
 public:
  explicit Walker(ValidateResult* res) : res_(res) {}

  // Walks the message and everything nested in it with an explicit stack: OTLP values
  // nest without a bound (arrays of arrays), and Go's decoders accept 10,000 levels.
  Status Walk(const MsgDef& root, std::string_view bytes) {
    std::vector<Frame> stack;
    stack.push_back(Frame(root, bytes));
    while (!stack.empty()) {
      Frame& top = stack.back();
      std::string_view child;
      const MsgDef* child_def = nullptr;
      Status s = Step(top, &child_def, &child);
      if (!s.ok()) return s;
      if (child_def != nullptr) {
        if (stack.size() > kMaxDepth)
          return absl::InvalidArgumentError(Cat("message nesting exceeds ", kMaxDepth, " levels"));
        stack.push_back(Frame(*child_def, child));  // `top` is not used after this
        continue;
      }
      if (!top.r.at_end()) continue;
      if (!top.r.ok())
        return absl::InvalidArgumentError(Cat("malformed protobuf in ", top.def->name));
      if (top.def->record != RecordKind::kNone) CountRecord(*top.def, top.bytes);
      stack.pop_back();
    }
    return absl::OkStatus();
  }

 private:
  struct Frame {
    Frame(const MsgDef& d, std::string_view b) : def(&d), bytes(b), r(b) {}
    const MsgDef* def;
    std::string_view bytes;
    WireReader r;
    uint32_t seen_singular = 0;  // bit i: singular message field def.fields[i] seen
    int last_oneof_member = -1;  // field number of the current oneof member
  };

  // Reads fields of `f` until one holds a message to walk (returned in *child_def,
  // *child) or the message ends.
  Status Step(Frame& f, const MsgDef** child_def, std::string_view* child) {
    const MsgDef& def = *f.def;
    WireReader& r = f.r;
    while (r.Next()) {
      const FieldDef* fd = def.Find(r.field());
      if (fd == nullptr || !WireTypeMatches(*fd, r.wire_type())) {
        if (!r.Skip()) break;
        continue;
      }
      if (fd->oneof >= 0) {
        if (f.last_oneof_member >= 0 && f.last_oneof_member != static_cast<int>(fd->number))
          res_->needs_canonical = true;
        f.last_oneof_member = static_cast<int>(fd->number);
      }
      switch (r.wire_type()) {
        case kVarint: r.Varint(); break;
        case kI64: r.Fixed64(); break;
        case kI32: r.Fixed32(); break;
        case kLen: {
          std::string_view payload = r.Len();
          if (!r.ok()) break;
          if (IsPacked(fd->type)) {
            if (!CheckPacked(fd->type, payload))
              return absl::InvalidArgumentError(
                  Cat("malformed packed field ", def.name, ".", fd->proto_name));
          } else if (fd->type == FType::kMessage) {
            if (fd->msg->is_key_value && IsSimpleKeyValue(payload)) break;
            if (!fd->repeated) {
              uint32_t bit = 1u << (fd - def.fields.data());
              if (f.seen_singular & bit) res_->needs_canonical = true;
              f.seen_singular |= bit;
            }
            if (fd->msg->is_any_value && !fd->repeated && IsScalarAnyValue(payload)) break;
            *child_def = fd->msg;
            *child = payload;
            return absl::OkStatus();
          }
          break;
        }
        default: break;
      }
    }
    return absl::OkStatus();
  }

  void CountRecord(const MsgDef& def, std::string_view bytes) {
    std::string_view why;
    if (def.record == RecordKind::kSpan) why = CheckSpan(bytes);
    if (def.name == "NumberDataPoint") why = CheckNumberPoint(bytes);
    if (why.empty()) {
      ++res_->records;
    } else {
      ++res_->rejected;
      auto& reasons = res_->rejections;
      auto it = std::find_if(reasons.begin(), reasons.end(),
                             [&](const auto& r) { return r.first == why; });
      if (it == reasons.end())
        reasons.emplace_back(why, 1);
      else
        ++it->second;
    }
  }
  ValidateResult* res_;
};

// ---- canonicalization (rare path; allocation is fine here, but it stays linear and
// iterative like the walk: a merged message is a list of segments, not a copy)

struct Occurrence {
  uint32_t field;
  uint32_t wt;
  const char* begin;  // whole record: tag + value
  const char* end;
  std::string_view payload;  // LEN payload
};

// One message being rewritten: the occurrences of its fields (from every segment merged
// into it), which of them are settled, and where its length goes.
struct CanonFrame {
  const MsgDef* def = nullptr;
  std::vector<Occurrence> occ;
  std::vector<bool> done;
  size_t next = 0;
  int final_member[4] = {-1, -1, -1, -1};  // final member of each oneof group
  size_t run_start[4] = {0, 0, 0, 0};      // where its last uninterrupted run starts
  size_t handle = SIZE_MAX;                // NestedWriter handle (none for the request)

  CanonFrame(const MsgDef& d, const std::vector<std::string_view>& segments) : def(&d) {
    for (std::string_view bytes : segments) {
      WireReader r(bytes);
      const char* begin = bytes.data();
      while (r.Next()) {
        Occurrence o{r.field(), r.wire_type(), begin, nullptr, {}};
        if (r.wire_type() == kLen) {
          o.payload = r.Len();
        } else {
          r.Skip();
        }
        o.end = r.pos();
        occ.push_back(o);
        begin = r.pos();
      }
    }
    done.assign(occ.size(), false);
    for (size_t i = 0; i < occ.size(); ++i) {
      const FieldDef* f = def->Find(occ[i].field);
      if (f == nullptr || f->oneof < 0) continue;
      if (final_member[f->oneof] != static_cast<int>(f->number)) {
        final_member[f->oneof] = static_cast<int>(f->number);
        run_start[f->oneof] = i;
      }
    }
  }
};

void Canon(const MsgDef& root, std::string_view bytes, std::string* out) {
  NestedWriter w(out);
  std::vector<CanonFrame> stack;
  std::vector<std::string_view> segments{bytes};
  stack.emplace_back(root, segments);
  while (!stack.empty()) {
    CanonFrame& top = stack.back();
    if (top.next == top.occ.size()) {
      if (top.handle != SIZE_MAX) w.Close(top.handle);
      stack.pop_back();
      continue;
    }
    const size_t i = top.next++;
    if (top.done[i]) continue;
    const Occurrence& o = top.occ[i];
    const FieldDef* f = top.def->Find(o.field);
    if (f == nullptr || !WireTypeMatches(*f, o.wt)) continue;  // unknown: dropped
    if (f->oneof >= 0 &&
        (top.final_member[f->oneof] != static_cast<int>(f->number) || i < top.run_start[f->oneof]))
      continue;
    if (f->type != FType::kMessage) {
      // Scalars, strings, packed values: copy the record as it is.
      out->append(o.begin, o.end - o.begin);
      continue;
    }
    segments.clear();
    if (f->repeated) {
      segments.push_back(o.payload);
    } else {  // every occurrence of a singular message merges into one
      for (size_t j = i; j < top.occ.size(); ++j) {
        if (top.occ[j].field != f->number || top.occ[j].wt != kLen) continue;
        segments.push_back(top.occ[j].payload);
        top.done[j] = true;
      }
    }
    const size_t handle = w.Open(f->number);
    stack.emplace_back(*f->msg, segments);  // `top` is not used after this
    stack.back().handle = handle;
  }
  w.Finish();
}

}  // namespace

std::string_view CheckSpan(std::string_view span) {
  std::string_view trace_id, span_id;
  WireReader r(span);
  while (r.Next()) {
    if ((r.field() == 1 || r.field() == 2) && r.wire_type() == kLen) {
      (r.field() == 1 ? trace_id : span_id) = r.Len();
    } else {
      r.Skip();
    }
  }
  if (!IsValidId(trace_id, 16))
    return "span with an invalid trace_id (must be 16 bytes, not all zero)";
  if (!IsValidId(span_id, 8)) return "span with an invalid span_id (must be 8 bytes, not all zero)";
  return {};
}

std::string_view CheckNumberPoint(std::string_view point) {
  WireReader r(point);
  bool has_value = false;
  while (r.Next()) {
    if ((r.field() == 4 || r.field() == 6) && r.wire_type() == kI64) has_value = true;
    r.Skip();
  }
  if (!has_value) return "number data point without a value (as_double or as_int)";
  return {};
}

std::string ValidateResult::RejectionMessage() const {
  std::string m = Cat(rejected, " record(s) rejected: ");
  for (size_t i = 0; i < rejections.size(); ++i)
    m += Cat(i ? "; " : "", rejections[i].first, " (", rejections[i].second, ")");
  return m;
}

StatusOr<ValidateResult> Validate(Signal signal, std::string_view request, std::string* canonical) {
  ValidateResult res;
  Walker w(&res);
  Status s = w.Walk(RequestDef(signal), request);
  if (!s.ok()) return s;
  if (res.needs_canonical) {
    std::string canon = Canonicalize(signal, request);
    ValidateResult again;
    Walker w2(&again);
    s = w2.Walk(RequestDef(signal), canon);
    if (!s.ok()) return s;
    again.needs_canonical = true;
    if (canonical != nullptr) *canonical = std::move(canon);
    return again;
  }
  return res;
}

std::string Canonicalize(Signal signal, std::string_view request) {
  std::string out;
  Canon(RequestDef(signal), request, &out);
  return out;
}

}  // namespace sluice::otlp
