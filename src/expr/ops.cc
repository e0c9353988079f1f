#include "expr/ops.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "core/text.h"
#include "otlp/anyvalue.h"

namespace sluice::expr {

std::string_view GoTypeName(const Value& v) {
  switch (v.kind) {
    case Kind::kNil: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kArray: return "[]interface {}";
    case Kind::kMap:
    case Kind::kAttrs: return "map[string]interface {}";
    case Kind::kTime: return "time.Time";
    case Kind::kDuration: return "time.Duration";
    case Kind::kAnyMap: return "map[interface {}]interface {}";
    case Kind::kByte: return "uint8";
  }
  return "?";
}

namespace {

// Values built by expressions may nest deeply (`reduce(1..100000, [#acc], [])`): the
// recursive walks below stop at this depth instead of overflowing the stack.
constexpr int kMaxValueDepth = 1000;
thread_local int g_depth = 0;
struct DepthGuard {
  const bool ok;
  DepthGuard() : ok(++g_depth <= kMaxValueDepth) {}
  ~DepthGuard() { --g_depth; }
};

bool DeepEqual(const Value& a, const Value& b);

bool MapsEqual(const Value& a, const Value& b, bool deep) {
  const DepthGuard guard;
  if (!guard.ok) return false;
  if (MapSize(a) != MapSize(b)) return false;
  Arena scratch;
  const Value ma = a.kind == Kind::kAttrs ? MaterializeMap(a, scratch) : a;
  const Value mb = b.kind == Kind::kAttrs ? MaterializeMap(b, scratch) : b;
  for (size_t k = 0; k < ma.n; ++k) {
    Value other;
    if (!MapGet(mb, ma.entries[k].key, scratch, &other)) return false;
    if (deep ? !DeepEqual(ma.entries[k].value, other) : !Equal(ma.entries[k].value, other))
      return false;
  }
  return true;
}

// Go's reflect.DeepEqual over interface values: kinds must match exactly.
bool DeepEqual(const Value& a, const Value& b) {
  const DepthGuard guard;
  if (!guard.ok) return false;
  const bool am = a.kind == Kind::kMap || a.kind == Kind::kAttrs;
  const bool bm = b.kind == Kind::kMap || b.kind == Kind::kAttrs;
  if (am && bm) return MapsEqual(a, b, true);
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNil: return true;
    case Kind::kBool: return a.b == b.b;
    case Kind::kInt:
    case Kind::kByte:
    case Kind::kDuration: return a.i == b.i;
    case Kind::kFloat: return a.f == b.f;
    case Kind::kString: return a.s == b.s;
    case Kind::kTime: return a.i == b.i && a.aux == b.aux;
    case Kind::kArray:
      if (a.n != b.n) return false;
      for (size_t k = 0; k < a.n; ++k)
        if (!DeepEqual(a.items[k], b.items[k])) return false;
      return true;
    default: return false;
  }
}

}  // namespace

bool Equal(const Value& a, const Value& b) {
  if (a.number() && b.number()) {
    if (a.kind == Kind::kFloat || b.kind == Kind::kFloat) return a.AsDouble() == b.AsDouble();
    return a.i == b.i;
  }
  if (a.kind == Kind::kArray && b.kind == Kind::kArray) {
    const DepthGuard guard;
    if (!guard.ok || a.n != b.n) return false;
    for (size_t k = 0; k < a.n; ++k)
      if (!Equal(a.items[k], b.items[k])) return false;
    return true;
  }
  if (a.kind == Kind::kTime && b.kind == Kind::kTime) return a.i == b.i;
  return DeepEqual(a, b);
}

bool Compare(const Value& a, const Value& b, int* out) {
  if (a.number() && b.number()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      *out = a.i < b.i ? -1 : a.i > b.i;
    } else {
      const double x = a.AsDouble(), y = b.AsDouble();
      *out = x < y ? -1 : x > y ? 1 : 0;
      if (x != x || y != y) *out = 2;  // NaN: every comparison false
    }
    return true;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kString: {
      const int c = a.s.compare(b.s);
      *out = c < 0 ? -1 : c > 0;
      return true;
    }
    case Kind::kTime:
    case Kind::kDuration: *out = a.i < b.i ? -1 : a.i > b.i; return true;
    default: return false;
  }
}

namespace {

Value AttrText(std::string_view anyvalue, Arena& arena) {
  std::string_view s;
  if (otlp::AsShortString(anyvalue, &s)) return Value::Str(s);
  const otlp::AnyValueView v = otlp::ParseAnyValue(anyvalue);
  if (v.kind == otlp::AnyValueView::kString) return Value::Str(v.bytes);
  std::string text;
  otlp::AppendAnyValueText(anyvalue, &text);
  return ArenaStr(arena, text);
}

}  // namespace

namespace {
constexpr size_t kIndexFrom = 16;  // maps with more entries get a hash index
uint64_t StrHash(std::string_view s) { return std::hash<std::string_view>{}(s); }
}  // namespace

uint64_t ValueHash(const Value& v) {
  const DepthGuard guard;
  if (!guard.ok) return 0;
  switch (v.kind) {
    case Kind::kNil: return 0x9E37;
    case Kind::kBool: return v.b ? 3 : 5;
    case Kind::kInt:
    case Kind::kByte:
    case Kind::kFloat: {
      double d = v.AsDouble();
      if (d == 0) d = 0;  // -0.0 == 0.0
      return std::hash<double>{}(d);
    }
    case Kind::kString: return StrHash(v.s);
    case Kind::kTime:
    case Kind::kDuration: return std::hash<int64_t>{}(v.i) ^ static_cast<uint64_t>(v.kind);
    case Kind::kArray: {
      uint64_t h = 0x12345 + v.n;
      for (size_t k = 0; k < v.n && k < 8; ++k) h = h * 31 + ValueHash(v.items[k]);
      return h;
    }
    default: return 0x777 + v.n;
  }
}

Value MakeMap(Entry* e, size_t n, Arena& arena, bool last_wins) {
  if (n <= kIndexFrom) {  // small: a scan is faster than hashing
    size_t count = 0;
    for (size_t k = 0; k < n; ++k) {
      size_t j = 0;
      while (j < count && e[j].key != e[k].key) ++j;
      if (j < count) {
        if (last_wins) e[j].value = e[k].value;
        continue;
      }
      e[count++] = e[k];
    }
    return Value::Map(e, count);
  }
  size_t size = 1;
  while (size < 2 * n) size <<= 1;
  uint32_t* index = arena.Make<uint32_t>(size + 1);
  std::memset(index, 0, sizeof(uint32_t) * (size + 1));
  index[0] = static_cast<uint32_t>(size - 1);
  uint32_t* slots = index + 1;
  size_t count = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t at = StrHash(e[k].key) & (size - 1);
    while (slots[at] != 0 && e[slots[at] - 1].key != e[k].key) at = (at + 1) & (size - 1);
    if (slots[at] != 0) {
      if (last_wins) e[slots[at] - 1].value = e[k].value;
      continue;
    }
    e[count] = e[k];
    slots[at] = static_cast<uint32_t>(++count);
  }
  Value m = Value::Map(e, count);
  m.index = index;
  return m;
}

bool MapGet(const Value& m, std::string_view key, Arena& arena, Value* out) {
  if (m.kind == Kind::kMap && m.index) {
    const uint32_t mask = m.index[0];
    const uint32_t* slots = m.index + 1;
    for (size_t at = StrHash(key) & mask; slots[at] != 0; at = (at + 1) & mask)
      if (m.entries[slots[at] - 1].key == key) {
        *out = m.entries[slots[at] - 1].value;
        return true;
      }
    return false;
  }
  if (m.kind == Kind::kAttrs) {
    std::string_view any;
    if (!otlp::FindAttribute(otlp::Repeated{m.s, static_cast<uint32_t>(m.aux)}, key, &any))
      return false;
    *out = AttrText(any, arena);
    return true;
  }
  if (m.kind != Kind::kMap) return false;
  for (size_t k = 0; k < m.n; ++k)
    if (m.entries[k].key == key) {
      *out = m.entries[k].value;
      return true;
    }
  return false;
}

size_t MapSize(const Value& m) {
  if (m.kind == Kind::kAttrs) {
    std::vector<otlp::KeyValueView> items;
    otlp::CollectAttributes(otlp::Repeated{m.s, static_cast<uint32_t>(m.aux)}, &items);
    return items.size();
  }
  return m.n;
}

Value MaterializeMap(const Value& m, Arena& arena) {
  if (m.kind != Kind::kAttrs) return m;
  otlp::AttributeList list(otlp::Repeated{m.s, static_cast<uint32_t>(m.aux)});
  Entry* e = arena.Make<Entry>(list.items().size());
  size_t n = 0;
  for (const auto& kv : list.items()) {
    e[n].key = kv.key;
    e[n].value = AttrText(kv.value, arena);
    ++n;
  }
  return MakeMap(e, n, arena, /*last_wins=*/true);
}

// ---- float formatting (Go's strconv shortest forms)

namespace {

// Shortest round-trip digits of |d| and the decimal point position: d = 0.DIGITS * 10^dp.
void ShortestDigits(double d, std::string* digits, int* dp) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  std::string_view s(buf, r.ptr - buf);
  const size_t e = s.find('e');
  digits->clear();
  for (char c : s.substr(0, e))
    if (c != '.') digits->push_back(c);
  int exp = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+'), s.data() + s.size(), exp);
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
  *dp = exp + 1;
  if (*digits == "0") *dp = 1;
}

bool Special(double d, std::string* out) {
  if (d != d) {
    out->append("NaN");
    return true;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "+Inf" : "-Inf");
    return true;
  }
  return false;
}

void AppendE(double d, const std::string& digits, int dp, std::string* out) {
  if (std::signbit(d)) out->push_back('-');
  out->push_back(digits[0]);
  if (digits.size() > 1) {
    out->push_back('.');
    out->append(digits, 1);
  }
  const int exp = digits == "0" ? 0 : dp - 1;
  out->push_back('e');
  out->push_back(exp < 0 ? '-' : '+');
  const int a = std::abs(exp);
  if (a < 10) out->push_back('0');
  out->append(std::to_string(a));
}

}  // namespace

void AppendFloatF(double d, std::string* out) { AppendDouble(d, out); }

void AppendFloatE(double d, std::string* out) {
  if (Special(d, out)) return;
  std::string digits;
  int dp;
  ShortestDigits(d, &digits, &dp);
  AppendE(d, digits, dp, out);
}

void AppendFloatG(double d, std::string* out) {
  if (Special(d, out)) return;
  std::string digits;
  int dp;
  ShortestDigits(d, &digits, &dp);
  const int exp = dp - 1;
  if (digits == "0") {
    out->append(std::signbit(d) ? "-0" : "0");
    return;
  }
  // Shortest 'g': the exponent form below 1e-4 and from 1e6 (precision 6 for the choice).
  if (exp < -4 || exp >= 6) {
    AppendE(d, digits, dp, out);
    return;
  }
  AppendDouble(d, out);
}

// ---- text forms

void AppendGoV(const Value& v, std::string* out) {
  const DepthGuard guard;
  if (!guard.ok) {
    out->append("...");
    return;
  }
  switch (v.kind) {
    case Kind::kNil: out->append("<nil>"); return;
    case Kind::kBool: out->append(v.b ? "true" : "false"); return;
    case Kind::kInt:
    case Kind::kByte: AppendInt(v.i, out); return;
    case Kind::kFloat: AppendFloatG(v.f, out); return;
    case Kind::kString: out->append(v.s); return;
    case Kind::kArray:
      out->push_back('[');
      for (size_t k = 0; k < v.n; ++k) {
        if (k) out->push_back(' ');
        AppendGoV(v.items[k], out);
      }
      out->push_back(']');
      return;
    case Kind::kMap:
    case Kind::kAttrs:
    case Kind::kAnyMap: {
      Arena scratch;
      const Value m = MaterializeMap(v, scratch);
      std::vector<std::pair<std::string, const Value*>> items;
      for (size_t k = 0; k < m.n; ++k) {
        std::string key;
        if (m.kind == Kind::kAnyMap)
          AppendGoV(m.entries[k].kv, &key);
        else
          key = std::string(m.entries[k].key);
        items.emplace_back(std::move(key), &m.entries[k].value);
      }
      std::sort(items.begin(), items.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->append("map[");
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out->push_back(' ');
        out->append(items[k].first);
        out->push_back(':');
        AppendGoV(*items[k].second, out);
      }
      out->push_back(']');
      return;
    }
    case Kind::kTime: {
      // 2006-01-02 15:04:05.999999999 -0700 MST
      const int64_t local = v.i + static_cast<int64_t>(v.aux) * 1000000000;
      int64_t days = local / 86400000000000LL;
      int64_t rem = local % 86400000000000LL;
      if (rem < 0) rem += 86400000000000LL, --days;
      int64_t y;
      unsigned mo, d;
      CivilFromDays(days, &y, &mo, &d);
      char buf[64];
      const int64_t secs = rem / 1000000000, nanos = rem % 1000000000;
      snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(y),
               mo, d, static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
               static_cast<long long>(secs % 60));
      out->append(buf);
      if (nanos) {
        snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(nanos));
        std::string f(buf);
        while (f.back() == '0') f.pop_back();
        out->append(f);
      }
      const int off = v.aux;
      snprintf(buf, sizeof buf, " %c%02d%02d %s", off < 0 ? '-' : '+', std::abs(off) / 3600,
               std::abs(off) / 60 % 60, off == 0 ? "UTC" : "");
      out->append(buf);
      if (off != 0) out->pop_back();
      return;
    }
    case Kind::kDuration: {
      // Go's Duration.String: 1h30m0s, 1.5s, 500ms, 0s
      int64_t d = v.i;
      if (d == 0) {
        out->append("0s");
        return;
      }
      std::string s;
      const bool neg = d < 0;
      uint64_t u = neg ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
      auto frac = [](uint64_t val, int prec, std::string* o) {
        std::string f;
        bool print = false;
        for (int k = 0; k < prec; ++k) {
          const uint64_t digit = val % 10;
          print = print || digit != 0;
          if (print) f.insert(f.begin(), static_cast<char>('0' + digit));
          val /= 10;
        }
        if (print) o->append("." + f);
        return val;
      };
      if (u < 1000000000ULL) {
        int prec;
        const char* unit;
        if (u < 1000) {
          s = std::to_string(u) + "ns";
          out->append((neg ? "-" : "") + s);
          return;
        } else if (u < 1000000) {
          prec = 3, unit = "µs";
        } else {
          prec = 6, unit = "ms";
        }
        std::string f;
        const uint64_t whole = frac(u, prec, &f);
        out->append((neg ? "-" : "") + std::to_string(whole) + f + unit);
        return;
      }
      std::string f;
      uint64_t secs = frac(u, 9, &f);
      std::string r = std::to_string(secs % 60) + f + "s";
      secs /= 60;
      if (secs > 0) {
        r = std::to_string(secs % 60) + "m" + r;
        secs /= 60;
        if (secs > 0) r = std::to_string(secs) + "h" + r;
      }
      out->append((neg ? "-" : "") + r);
      return;
    }
  }
}

bool AppendCastString(const Value& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNil: return true;
    case Kind::kFloat: AppendFloatF(v.f, out); return true;
    case Kind::kArray:
    case Kind::kMap:
    case Kind::kAttrs:
    case Kind::kAnyMap: return false;
    case Kind::kDuration: AppendGoV(v, out); return true;
    default: AppendGoV(v, out); return true;
  }
}

std::string_view CastString(const Value& v, Arena& arena) {
  if (v.kind == Kind::kString) return v.s;
  std::string s;
  if (!AppendCastString(v, &s)) return {};
  return arena.Copy(s);
}

namespace {

void AppendJsonText(std::string_view s, std::string* out) {
  std::string tmp;
  AppendJsonString(s, &tmp);
  // encoding/json also escapes <, > and & (HTML safety) and U+2028 / U+2029.
  for (size_t k = 0; k < tmp.size(); ++k) {
    const char c = tmp[k];
    if (c == '<')
      out->append("\\u003c");
    else if (c == '>')
      out->append("\\u003e");
    else if (c == '&')
      out->append("\\u0026");
    else if (c == '\xE2' && k + 2 < tmp.size() && tmp[k + 1] == '\x80' &&
             (tmp[k + 2] == '\xA8' || tmp[k + 2] == '\xA9')) {
      out->append(tmp[k + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      k += 2;
    } else {
      out->push_back(c);
    }
  }
}

void AppendJsonFloat(double d, std::string* out) {
  const double a = std::fabs(d);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string e;
    AppendFloatE(d, &e);
    // Go's encoder writes e-07 as e-7.
    const size_t p = e.find('e');
    if (p != std::string::npos && p + 3 < e.size() + 1 && e[p + 2] == '0' && e.size() - p == 4)
      e.erase(p + 2, 1);
    out->append(e);
    return;
  }
  AppendDouble(d, out);
}

}  // namespace

bool AppendJson(const Value& v, std::string* out, std::string* error, bool indent, int depth) {
  if (depth > kMaxValueDepth) {
    *error = "json: value nested too deeply";
    return false;
  }
  auto newline = [&](int d) {
    if (!indent) return;
    out->push_back('\n');
    out->append(static_cast<size_t>(d) * 2, ' ');
  };
  switch (v.kind) {
    case Kind::kNil: out->append("null"); return true;
    case Kind::kBool: out->append(v.b ? "true" : "false"); return true;
    case Kind::kInt:
    case Kind::kByte:
    case Kind::kDuration: AppendInt(v.i, out); return true;
    case Kind::kFloat:
      if (v.f != v.f || std::isinf(v.f)) {
        std::string t;
        AppendFloatG(v.f, &t);
        *error = "json: unsupported value: " + t;
        return false;
      }
      AppendJsonFloat(v.f, out);
      return true;
    case Kind::kString: AppendJsonText(v.s, out); return true;
    case Kind::kTime: {
      std::string t;
      AppendRfc3339Nano(static_cast<uint64_t>(v.i), &t);
      AppendJsonText(t, out);
      return true;
    }
    case Kind::kArray:
      if (v.n == 0) {
        out->append("[]");
        return true;
      }
      out->push_back('[');
      for (size_t k = 0; k < v.n; ++k) {
        if (k) out->push_back(',');
        newline(depth + 1);
        if (!AppendJson(v.items[k], out, error, indent, depth + 1)) return false;
      }
      newline(depth);
      out->push_back(']');
      return true;
    case Kind::kAnyMap:
      *error = "json: unsupported type: map[interface {}]interface {}";
      return false;
    case Kind::kMap:
    case Kind::kAttrs: {
      Arena scratch;
      const Value m = MaterializeMap(v, scratch);
      if (m.n == 0) {
        out->append("{}");
        return true;
      }
      std::vector<const Entry*> items;
      for (size_t k = 0; k < m.n; ++k) items.push_back(&m.entries[k]);
      std::sort(items.begin(), items.end(),
                [](const Entry* a, const Entry* b) { return a->key < b->key; });
      out->push_back('{');
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out->push_back(',');
        newline(depth + 1);
        AppendJsonText(items[k]->key, out);
        out->append(indent ? ": " : ":");
        if (!AppendJson(items[k]->value, out, error, indent, depth + 1)) return false;
      }
      newline(depth);
      out->push_back('}');
      return true;
    }
  }
  return true;
}

}  // namespace sluice::expr
