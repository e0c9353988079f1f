#include "otlp/validate.h"

#include <vector>

#include "core/cat.h"
#include "otlp/anyvalue.h"
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

  Status Walk(const MsgDef& def, std::string_view bytes, int depth) {
    if (depth > kMaxDepth) return absl::InvalidArgumentError("message nesting exceeds 100 levels");
    WireReader r(bytes);
    uint32_t seen_singular = 0;  // bit i: singular message field def.fields[i] seen
    int last_oneof_member = -1;  // field number of the current oneof member
    while (r.Next()) {
      const FieldDef* f = def.Find(r.field());
      if (f == nullptr || !WireTypeMatches(*f, r.wire_type())) {
        if (!r.Skip()) break;
        continue;
      }
      if (f->oneof >= 0) {
        if (last_oneof_member >= 0 && last_oneof_member != static_cast<int>(f->number))
          res_->needs_canonical = true;
        last_oneof_member = static_cast<int>(f->number);
      }
      switch (r.wire_type()) {
        case kVarint: r.Varint(); break;
        case kI64: r.Fixed64(); break;
        case kI32: r.Fixed32(); break;
        case kLen: {
          std::string_view payload = r.Len();
          if (!r.ok()) break;
          if (IsPacked(f->type)) {
            if (!CheckPacked(f->type, payload))
              return absl::InvalidArgumentError(
                  Cat("malformed packed field ", def.name, ".", f->proto_name));
          } else if (f->type == FType::kMessage) {
            if (f->msg->is_key_value && IsSimpleKeyValue(payload)) break;
            if (f->msg->is_any_value && !f->repeated && IsScalarAnyValue(payload)) {
              uint32_t bit = 1u << (f - def.fields.data());
              if (seen_singular & bit) res_->needs_canonical = true;
              seen_singular |= bit;
              break;
            }
            if (!f->repeated) {
              uint32_t bit = 1u << (f - def.fields.data());
              if (seen_singular & bit) res_->needs_canonical = true;
              seen_singular |= bit;
            }
            Status s = Walk(*f->msg, payload, depth + 1);
            if (!s.ok()) return s;
          }
          break;
        }
        default: break;
      }
    }
    if (!r.ok()) return absl::InvalidArgumentError(Cat("malformed protobuf in ", def.name));
    if (def.record != RecordKind::kNone) CountRecord(def, bytes);
    return absl::OkStatus();
  }

 private:
  void CountRecord(const MsgDef& def, std::string_view bytes) {
    std::string_view why;
    if (def.record == RecordKind::kSpan) why = CheckSpan(bytes);
    if (def.name == "NumberDataPoint") why = CheckNumberPoint(bytes);
    if (why.empty()) {
      ++res_->records;
    } else {
      if (res_->rejected++ == 0) res_->first_rejection = std::string(why);
    }
  }
  ValidateResult* res_;
};

// ---- canonicalization (rare path; allocation is fine here)

void Canon(const MsgDef& def, std::string_view bytes, std::string* out);

struct Occurrence {
  uint32_t field;
  uint32_t wt;
  const char* begin;  // whole record: tag + value
  const char* end;
  std::string_view payload;  // LEN payload
};

void Canon(const MsgDef& def, std::string_view bytes, std::string* out) {
  std::vector<Occurrence> occ;
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
  // Final member of each oneof group and where its last uninterrupted run starts.
  int final_member[4] = {-1, -1, -1, -1};
  size_t run_start[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < occ.size(); ++i) {
    const FieldDef* f = def.Find(occ[i].field);
    if (f == nullptr || f->oneof < 0) continue;
    if (final_member[f->oneof] != static_cast<int>(f->number)) {
      final_member[f->oneof] = static_cast<int>(f->number);
      run_start[f->oneof] = i;
    }
  }
  std::vector<bool> done(occ.size(), false);
  for (size_t i = 0; i < occ.size(); ++i) {
    if (done[i]) continue;
    const FieldDef* f = def.Find(occ[i].field);
    if (f == nullptr || !WireTypeMatches(*f, occ[i].wt)) continue;  // unknown: dropped
    if (f->oneof >= 0 &&
        (final_member[f->oneof] != static_cast<int>(f->number) || i < run_start[f->oneof]))
      continue;
    if (f->type == FType::kMessage) {
      std::string merged;
      if (f->repeated) {
        merged = std::string(occ[i].payload);
      } else {
        for (size_t j = i; j < occ.size(); ++j) {
          if (occ[j].field != f->number || occ[j].wt != kLen) continue;
          merged.append(occ[j].payload);
          done[j] = true;
        }
      }
      std::string child;
      Canon(*f->msg, merged, &child);
      PutTag(f->number, kLen, out);
      PutVarint(child.size(), out);
      out->append(child);
      continue;
    }
    // Scalars, strings, packed values: copy the record as it is.
    out->append(occ[i].begin, occ[i].end - occ[i].begin);
  }
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

StatusOr<ValidateResult> Validate(Signal signal, std::string_view request) {
  ValidateResult res;
  Walker w(&res);
  Status s = w.Walk(RequestDef(signal), request, 0);
  if (!s.ok()) return s;
  if (res.needs_canonical) {
    std::string canon = Canonicalize(signal, request);
    ValidateResult again;
    Walker w2(&again);
    s = w2.Walk(RequestDef(signal), canon, 0);
    if (!s.ok()) return s;
    again.needs_canonical = true;
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
