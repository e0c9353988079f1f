#include "otlp/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "core/cat.h"
#include "otlp/nested_writer.h"
#include "otlp/schema.h"
#include "otlp/validate.h"
#include "otlp/wire.h"
#include "simdjson.h"

namespace sluice::otlp {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(Cat("invalid OTLP/JSON at '", key, "': ", what));
}

// Enum names accepted besides integers (senders must use integers, receivers may accept
// names).
bool EnumByName(std::string_view field, std::string_view name, int64_t* out) {
  struct E {
    std::string_view field, name;
    int64_t value;
  };
  static constexpr E kNames[] = {
      {"kind", "SPAN_KIND_UNSPECIFIED", 0},
      {"kind", "SPAN_KIND_INTERNAL", 1},
      {"kind", "SPAN_KIND_SERVER", 2},
      {"kind", "SPAN_KIND_CLIENT", 3},
      {"kind", "SPAN_KIND_PRODUCER", 4},
      {"kind", "SPAN_KIND_CONSUMER", 5},
      {"code", "STATUS_CODE_UNSET", 0},
      {"code", "STATUS_CODE_OK", 1},
      {"code", "STATUS_CODE_ERROR", 2},
      {"aggregationTemporality", "AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
      {"aggregationTemporality", "AGGREGATION_TEMPORALITY_DELTA", 1},
      {"aggregationTemporality", "AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
  };
  for (const E& e : kNames) {
    if (e.field == field && e.name == name) {
      *out = e.value;
      return true;
    }
  }
  if (field == "severityNumber" && name.starts_with("SEVERITY_NUMBER_")) {
    static constexpr std::string_view kSev[] = {
        "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2",
        "DEBUG3",      "DEBUG4", "INFO",   "INFO2",  "INFO3",  "INFO4",  "WARN",
        "WARN2",       "WARN3",  "WARN4",  "ERROR",  "ERROR2", "ERROR3", "ERROR4",
        "FATAL",       "FATAL2", "FATAL3", "FATAL4"};
    std::string_view rest = name.substr(16);
    for (int64_t i = 0; i < 25; ++i) {
      if (kSev[i] == rest) {
        *out = i;
        return true;
      }
    }
  }
  return false;
}

bool ParseIntText(std::string_view s, bool is_signed, uint64_t* bits) {
  if (s.empty()) return false;
  if (is_signed) {
    int64_t v;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    *bits = static_cast<uint64_t>(v);
  } else {
    uint64_t v;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    *bits = v;
  }
  return true;
}

// Reads an integer given as a JSON number or a decimal string.
bool ReadInt(const element& e, bool is_signed, uint64_t* bits) {
  switch (e.type()) {
    case element_type::INT64: *bits = static_cast<uint64_t>(int64_t(e.get_int64())); return true;
    case element_type::UINT64:
      if (is_signed) return false;
      *bits = uint64_t(e.get_uint64());
      return true;
    case element_type::DOUBLE: {
      double d = double(e.get_double());
      if (d != std::floor(d) || std::isinf(d)) return false;
      if (is_signed ? (d < -9.2233720368547758e18 || d >= 9.2233720368547758e18)
                    : (d < 0 || d >= 1.8446744073709552e19))
        return false;
      *bits = is_signed ? static_cast<uint64_t>(static_cast<int64_t>(d)) : static_cast<uint64_t>(d);
      return true;
    }
    case element_type::STRING:
      return ParseIntText(std::string_view(e.get_string()), is_signed, bits);
    default: return false;
  }
}

bool ReadDouble(const element& e, double* d) {
  switch (e.type()) {
    case element_type::INT64: *d = static_cast<double>(int64_t(e.get_int64())); return true;
    case element_type::UINT64: *d = static_cast<double>(uint64_t(e.get_uint64())); return true;
    case element_type::DOUBLE: *d = double(e.get_double()); return true;
    case element_type::STRING: {
      std::string_view s = e.get_string();
      if (s == "NaN")
        *d = std::numeric_limits<double>::quiet_NaN();
      else if (s == "Infinity")
        *d = std::numeric_limits<double>::infinity();
      else if (s == "-Infinity")
        *d = -std::numeric_limits<double>::infinity();
      else {
        auto r = std::from_chars(s.data(), s.data() + s.size(), *d);
        return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
      }
      return true;
    }
    default: return false;
  }
}

int HexDigit(char c) {
  return (c >= '0' && c <= '9')   ? c - '0'
         : (c >= 'a' && c <= 'f') ? c - 'a' + 10
         : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                  : -1;
}

bool HexDecode(std::string_view hex, std::string* out) {
  if (hex.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// The UTF-16 code unit of the backslash-u escape at json[i], or -1.
int EscapedUnit(std::string_view json, size_t i) {
  if (i + 6 > json.size() || json[i] != '\\' || json[i + 1] != 'u') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    int d = HexDigit(json[k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

bool ReplaceLoneSurrogates(std::string* json) {
  bool changed = false, in_string = false;
  std::string& s = *json;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!in_string) {
      in_string = s[i] == '"';
      continue;
    }
    if (s[i] == '"') {
      in_string = false;
      continue;
    }
    if (s[i] != '\\') continue;
    const int unit = EscapedUnit(s, i);
    if (unit < 0) {
      ++i;  // a two-character escape (or a malformed one, left for the parser to refuse)
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int low = EscapedUnit(s, i + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 11;  // a proper pair
        continue;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF) {
      s.replace(i + 2, 4, "fffd");  // same length: one pass, in place
      changed = true;
    }
    i += 5;
  }
  return changed;
}

namespace {

void PutFixed64(uint64_t v, std::string* out) { out->append(reinterpret_cast<const char*>(&v), 8); }

class Transcoder {
 public:
  explicit Transcoder(std::string* out) : out_(out), w_(out) {}

  // Transcodes the request object. Messages nest without a bound (arrays of arrays), so
  // the walk keeps an explicit stack of open objects instead of recursing, and lengths are
  // written by a NestedWriter (linear whatever the depth).
  Status Request(const MsgDef& def, const element& root) {
    Status s = Push(def, def.name, root, SIZE_MAX);
    while (s.ok() && !stack_.empty()) s = Step();
    if (s.ok()) w_.Finish();
    return s;
  }

 private:
  struct Frame {
    const MsgDef* def;
    simdjson::dom::object::iterator it, end;
    // A repeated message field being walked: its array and key.
    const FieldDef* array_field = nullptr;
    std::string_view array_key;
    simdjson::dom::array::iterator ait, aend;
    size_t handle;  // the NestedWriter handle of this message (SIZE_MAX: the request)
  };

  Status Push(const MsgDef& def, std::string_view key, const element& e, size_t handle) {
    if (stack_.size() > kMaxDepth)
      return Bad(key, Cat("messages nest deeper than ", kMaxDepth, " levels"));
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return Bad(def.name, "expected an object");
    Frame f;
    f.def = &def;
    f.it = obj.begin();
    f.end = obj.end();
    f.handle = handle;
    stack_.push_back(f);
    return absl::OkStatus();
  }

  // One value of field `f`: a message opens a frame, a scalar is written.
  Status Value(const FieldDef& f, std::string_view key, const element& e) {
    if (f.type == FType::kMessage) return Push(*f.msg, key, e, w_.Open(f.number));
    PutTag(f.number, WireTypeOf(f.type), out_);
    return Scalar(f, key, e, out_, false);
  }

  // Advances the innermost open object by one key (or one array element).
  Status Step() {
    Frame& top = stack_.back();
    if (top.array_field != nullptr) {
      if (top.ait == top.aend) {
        top.array_field = nullptr;
        return absl::OkStatus();
      }
      element e = *top.ait;
      ++top.ait;
      if (e.is_null()) return Bad(top.array_key, "null inside an array");
      return Value(*top.array_field, top.array_key, e);  // may push: `top` is done with
    }
    if (top.it == top.end) {
      if (top.handle != SIZE_MAX) w_.Close(top.handle);
      stack_.pop_back();
      return absl::OkStatus();
    }
    auto kv = *top.it;
    ++top.it;
    const FieldDef* f = nullptr;
    for (const FieldDef& cand : top.def->fields) {
      if (cand.json_name == kv.key || cand.proto_name == kv.key) {
        f = &cand;
        break;
      }
    }
    if (f == nullptr || kv.value.is_null()) return absl::OkStatus();  // unknown keys are ignored
    if (!f->repeated) return Value(*f, kv.key, kv.value);
    simdjson::dom::array arr;
    if (kv.value.get_array().get(arr) != simdjson::SUCCESS) return Bad(kv.key, "expected an array");
    if (IsPacked(f->type)) {
      std::string payload;
      for (element e : arr) {
        Status s = Scalar(*f, kv.key, e, &payload, /*packed=*/true);
        if (!s.ok()) return s;
      }
      PutTag(f->number, kLen, out_);
      PutVarint(payload.size(), out_);
      out_->append(payload);
      return absl::OkStatus();
    }
    top.array_field = f;
    top.array_key = kv.key;
    top.ait = arr.begin();
    top.aend = arr.end();
    return absl::OkStatus();
  }

  // Writes the value of a scalar field (without its tag; with its length for LEN types).
  Status Scalar(const FieldDef& f, std::string_view key, const element& e, std::string* out,
                bool packed) {
    uint64_t bits = 0;
    double d = 0;
    switch (f.type) {
      case FType::kString: {
        std::string_view s;
        if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(key, "expected a string");
        PutVarint(s.size(), out);
        out->append(s);
        return absl::OkStatus();
      }
      case FType::kBytes: {
        std::string_view s;
        if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(key, "expected base64");
        std::string raw;
        std::string norm(s);
        for (char& c : norm) {
          if (c == '-') c = '+';
          if (c == '_') c = '/';
        }
        if (!absl::Base64Unescape(norm, &raw)) return Bad(key, "invalid base64");
        PutVarint(raw.size(), out);
        out->append(raw);
        return absl::OkStatus();
      }
      case FType::kHexId: {
        std::string_view s;
        if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(key, "expected a hex string");
        const size_t want = f.json_name == "traceId" ? 32 : 16;
        std::string raw;
        // The spec's form is hex; Go's protojson (and so GlassFlow's documents) writes ids as
        // base64. Their lengths tell them apart: a 16-byte id is 32 hex or 24 base64
        // characters (22 unpadded), an 8-byte one 16 or 12 (11).
        const size_t b64 = want == 32 ? 24 : 12, b64_bare = want == 32 ? 22 : 11;
        if (!s.empty() && (s.size() == b64 || s.size() == b64_bare)) {
          if (!absl::Base64Unescape(absl::string_view(s.data(), s.size()), &raw) ||
              raw.size() != want / 2)
            return Bad(key, Cat("id of ", s.size(), " characters is neither ", want,
                                " hex digits nor valid base64"));
          PutVarint(raw.size(), out);
          out->append(raw);
          return absl::OkStatus();
        }
        if (!s.empty() && s.size() != want)
          return Bad(key, Cat("id must be ", want, " hex digits (or ", b64, " base64 characters)"));
        if (!HexDecode(s, &raw)) return Bad(key, "invalid hex");
        PutVarint(raw.size(), out);
        out->append(raw);
        return absl::OkStatus();
      }
      case FType::kInt32: {
        int64_t v;
        if (e.type() == element_type::STRING &&
            EnumByName(f.json_name, std::string_view(e.get_string()), &v)) {
          bits = static_cast<uint64_t>(v);
        } else if (!ReadInt(e, true, &bits) ||
                   static_cast<int64_t>(bits) != static_cast<int32_t>(bits)) {
          return Bad(key, "expected a 32-bit integer");
        }
        PutVarint(bits, out);  // negative int32 is sign-extended to 10 bytes
        return absl::OkStatus();
      }
      case FType::kUInt32:
        if (!ReadInt(e, false, &bits) || bits > 0xffffffffu) return Bad(key, "expected a uint32");
        PutVarint(bits, out);
        return absl::OkStatus();
      case FType::kSInt32: {
        if (!ReadInt(e, true, &bits) || static_cast<int64_t>(bits) != static_cast<int32_t>(bits))
          return Bad(key, "expected a 32-bit integer");
        int32_t v = static_cast<int32_t>(bits);
        PutVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31), out);
        return absl::OkStatus();
      }
      case FType::kInt64:
        if (!ReadInt(e, true, &bits)) return Bad(key, "expected an int64");
        PutVarint(bits, out);
        return absl::OkStatus();
      case FType::kUInt64:
      case FType::kPackedUInt64:
        if (!ReadInt(e, false, &bits)) return Bad(key, "expected a uint64");
        PutVarint(bits, out);
        return absl::OkStatus();
      case FType::kBool: {
        bool b;
        if (e.get_bool().get(b) != simdjson::SUCCESS) return Bad(key, "expected a boolean");
        PutVarint(b ? 1 : 0, out);
        return absl::OkStatus();
      }
      case FType::kFixed64:
      case FType::kPackedFixed64:
        if (!ReadInt(e, false, &bits)) return Bad(key, "expected a uint64");
        PutFixed64(bits, out);
        return absl::OkStatus();
      case FType::kSFixed64:
        if (!ReadInt(e, true, &bits)) return Bad(key, "expected an int64");
        PutFixed64(bits, out);
        return absl::OkStatus();
      case FType::kDouble:
      case FType::kPackedDouble:
        if (!ReadDouble(e, &d)) return Bad(key, "expected a number");
        std::memcpy(&bits, &d, 8);
        PutFixed64(bits, out);
        return absl::OkStatus();
      case FType::kFixed32: {
        if (!ReadInt(e, false, &bits) || bits > 0xffffffffu) return Bad(key, "expected a uint32");
        uint32_t v = static_cast<uint32_t>(bits);
        out->append(reinterpret_cast<const char*>(&v), 4);
        return absl::OkStatus();
      }
      case FType::kMessage: break;
    }
    (void)packed;
    return Bad(key, "unsupported field type");
  }

  std::string* out_;
  NestedWriter w_;
  std::vector<Frame> stack_;
};

}  // namespace

Status JsonToProto(Signal signal, std::string_view json, std::string* out) {
  // simdjson's default depth limit (1024) is below what 10,000 nested messages take in JSON
  // (an array value is three JSON levels per two messages).
  static constexpr size_t kJsonDepth = 3 * kMaxDepth / 2 + 64;
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto e = p.allocate(1 << 16, kJsonDepth);
    (void)e;
    return p;
  }();
  element doc;
  auto err = parser.parse(json.data(), json.size()).get(doc);
  std::string repaired;
  if (err == simdjson::STRING_ERROR) {
    // simdjson refuses escaped lone surrogates; Go's decoders (the Collector's) read each
    // as U+FFFD. Rare: only then is the text copied and repaired.
    repaired.assign(json);
    if (ReplaceLoneSurrogates(&repaired))
      err = parser.parse(repaired.data(), repaired.size()).get(doc);
  }
  if (err != simdjson::SUCCESS)
    return absl::InvalidArgumentError(Cat("invalid JSON: ", simdjson::error_message(err)));
  Transcoder t(out);
  return t.Request(RequestDef(signal), doc);
}

}  // namespace sluice::otlp
