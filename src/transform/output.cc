#include "transform/output.h"

#include <charconv>
#include <cmath>

#include "core/cat.h"
#include "core/text.h"
#include "expr/compiled.h"
#include "expr/ops.h"

namespace sluice::transform {

using expr::Kind;
using expr::Value;

namespace {

std::string Shown(const Value& v) {
  std::string s;
  expr::AppendGoV(v, &s);
  return s;
}

bool CastError(const Value& v, std::string_view to, std::string* error) {
  std::string type(expr::GoTypeName(v));
  *error = Cat("unable to cast ", Shown(v), " of type ", type, " to ", to);
  return false;
}

// Go's strconv.ParseInt(s, 0, 64): sign, base prefixes 0x / 0o / 0b / 0 (octal), '_'
// between digits only with a prefix.
bool ParseIntBase0(std::string_view s, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) neg = s[0] == '-', s.remove_prefix(1);
  if (s.empty()) return false;
  int base = 10;
  bool prefixed = false;
  if (s.size() > 1 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x')
      base = 16, s.remove_prefix(2), prefixed = true;
    else if (p == 'o')
      base = 8, s.remove_prefix(2), prefixed = true;
    else if (p == 'b')
      base = 2, s.remove_prefix(2), prefixed = true;
    else
      base = 8, s.remove_prefix(1), prefixed = true;
  }
  std::string digits;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '_') {
      if (!prefixed) return false;
      continue;
    }
    digits.push_back(s[k]);
  }
  if (digits.empty()) return false;
  uint64_t u;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return false;
  if (u > (neg ? 9223372036854775808ULL : 9223372036854775807ULL)) return false;
  *out = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
  return true;
}

int64_t TruncToInt(double d) {
  const double t = std::trunc(d);
  return t >= -9.2233720368547758e18 && t < 9.2233720368547758e18 ? static_cast<int64_t>(t)
                                                                  : INT64_MIN;
}

}  // namespace

bool ConvertingType(std::string_view t) {
  return t == "string" || t == "int" || t == "int64" || t == "float64" || t == "bool";
}

otlp::FlatType OutputFlatType(std::string_view t) {
  if (t == "int" || t == "int64" || t.starts_with("int")) return otlp::FlatType::kInt;
  if (t == "uint" || t.starts_with("uint")) return otlp::FlatType::kUInt;
  if (t == "float64" || t == "float" || t == "float32") return otlp::FlatType::kFloat;
  if (t == "bool") return otlp::FlatType::kBool;
  if (t == "[]string" || t == "array") return otlp::FlatType::kArray;
  if (t == "map") return otlp::FlatType::kMap;
  return otlp::FlatType::kString;
}

bool ConvertOutput(const Value& in, std::string_view type, expr::Arena& arena, Value* out,
                   std::string* error) {
  if (type == "string") {
    std::string s;
    if (in.kind == Kind::kString) return *out = in, true;
    if (!expr::AppendCastString(in, &s)) return CastError(in, "string", error);
    return *out = expr::ArenaStr(arena, s), true;
  }
  if (type == "int" || type == "int64") {
    switch (in.kind) {
      case Kind::kInt:
      case Kind::kByte:
      case Kind::kDuration: return *out = Value::Int(in.i), true;
      case Kind::kFloat: return *out = Value::Int(TruncToInt(in.f)), true;
      case Kind::kBool: return *out = Value::Int(in.b ? 1 : 0), true;
      case Kind::kNil: return *out = Value::Int(0), true;
      case Kind::kString: {
        std::string_view s = in.s;
        if (s.empty()) return *out = Value::Int(0), true;
        // A decimal's fraction is dropped ("12.5" -> 12), then base prefixes apply.
        if (const size_t dot = s.find('.'); dot != std::string_view::npos) {
          bool digits = dot + 1 < s.size() || dot > 0;
          for (size_t k = dot + 1; k < s.size(); ++k)
            digits = digits && std::isdigit(static_cast<unsigned char>(s[k]));
          if (digits) s = s.substr(0, dot);
        }
        int64_t v;
        if (!ParseIntBase0(s, &v)) return CastError(in, "int64", error);
        return *out = Value::Int(v), true;
      }
      default: return CastError(in, "int64", error);
    }
  }
  if (type == "float64") {
    switch (in.kind) {
      case Kind::kInt:
      case Kind::kByte:
      case Kind::kFloat: return *out = Value::Float(in.AsDouble()), true;
      case Kind::kBool: return *out = Value::Float(in.b ? 1 : 0), true;
      case Kind::kNil: return *out = Value::Float(0), true;
      case Kind::kString: {
        if (in.s.empty()) return *out = Value::Float(0), true;
        double d;
        if (!expr::ParseFloatGo(in.s, &d)) return CastError(in, "float64", error);
        return *out = Value::Float(d), true;
      }
      default: return CastError(in, "float64", error);
    }
  }
  if (type == "bool") {
    switch (in.kind) {
      case Kind::kBool: return *out = in, true;
      case Kind::kNil: return *out = Value::Bool(false), true;
      case Kind::kInt:
      case Kind::kByte:
      case Kind::kFloat: return *out = Value::Bool(in.AsDouble() != 0), true;
      case Kind::kString: {
        static const char* kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char* kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
        for (const char* t : kTrue)
          if (in.s == t) return *out = Value::Bool(true), true;
        for (const char* f : kFalse)
          if (in.s == f) return *out = Value::Bool(false), true;
        return CastError(in, "bool", error);
      }
      default: return CastError(in, "bool", error);
    }
  }
  *out = in;  // []string and every other type: passed through as is
  return true;
}

bool ToOtlpValue(const Value& v, expr::Arena& arena, otlp::Value* out, std::string* error,
                 int depth) {
  *out = otlp::Value{};
  switch (v.kind) {
    case Kind::kNil: return true;
    case Kind::kBool: *out = otlp::Value::Bool(v.b); return true;
    case Kind::kInt:
    case Kind::kByte:
    case Kind::kDuration: *out = otlp::Value::I64(v.i); return true;
    case Kind::kFloat:
      if (std::isnan(v.f) || std::isinf(v.f)) {
        std::string t;
        expr::AppendFloatG(v.f, &t);
        *error = Cat("json: unsupported value: ", t);
        return false;
      }
      *out = otlp::Value::F64(v.f);
      return true;
    case Kind::kString: *out = otlp::Value::Str(v.s); return true;
    case Kind::kTime: *out = otlp::Value::Time(static_cast<uint64_t>(v.i)); return true;
    case Kind::kAttrs:
      out->kind = otlp::VKind::kAttrs;
      out->rep = otlp::Repeated{v.s, static_cast<uint32_t>(v.aux)};
      return true;
    case Kind::kAnyMap:
      *error = "json: unsupported type: map[interface {}]interface {}";
      return false;
    case Kind::kArray:
    case Kind::kMap: {
      if (depth > 100) {
        *error = "json: value nested too deeply";
        return false;
      }
      otlp::Value* items = arena.Make<otlp::Value>(v.n);
      for (size_t k = 0; k < v.n; ++k) {
        const Value& e = v.kind == Kind::kArray ? v.items[k] : v.entries[k].value;
        new (&items[k]) otlp::Value();
        if (!ToOtlpValue(e, arena, &items[k], error, depth + 1)) return false;
      }
      out->kind = otlp::VKind::kList;
      out->list = items;
      out->list_size = v.n;
      if (v.kind == Kind::kMap) {
        std::string_view* keys = arena.Make<std::string_view>(v.n);
        for (size_t k = 0; k < v.n; ++k) keys[k] = v.entries[k].key;
        out->list_keys = keys;
      }
      return true;
    }
  }
  return true;
}

}  // namespace sluice::transform
