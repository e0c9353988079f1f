// GlassFlow's 24 helper functions for stateless transforms (expressions.md §2.6). They
// are "soft": most bad input gives an empty or zero result instead of an error. "str(x)"
// is spf13/cast's ToString with errors swallowed.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include "core/cat.h"
#include "core/text.h"
#include "expr/compiled.h"
#include "expr/ops.h"

namespace sluice::expr {

namespace {

std::string_view Str(CallCtx& c, const Value& v) { return CastString(v, c.arena); }

bool Err(CallCtx& c, std::string msg) {
  *c.error = std::move(msg);
  return false;
}

int Hex(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape. False on a malformed escape.
bool QueryUnescape(std::string_view s, std::string* out) {
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '+') {
      out->push_back(' ');
    } else if (s[k] == '%') {
      if (k + 2 >= s.size() || Hex(s[k + 1]) < 0 || Hex(s[k + 2]) < 0) return false;
      out->push_back(static_cast<char>(Hex(s[k + 1]) * 16 + Hex(s[k + 2])));
      k += 2;
    } else {
      out->push_back(s[k]);
    }
  }
  return true;
}

// url.ParseQuery: a map of key -> string (one value) or array of strings (repeated).
// Any error (a bad escape, a ';') gives the empty map.
Value ParseQuery(CallCtx& c, std::string_view q) {
  std::vector<std::pair<std::string, std::vector<std::string>>> kv;
  std::unordered_map<std::string, size_t> where;  // key -> position in kv
  bool bad = false;
  size_t start = 0;
  while (start <= q.size() && !q.empty()) {
    size_t amp = q.find('&', start);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view part = q.substr(start, amp - start);
    start = amp + 1;
    if (part.find(';') != std::string_view::npos) {
      bad = true;
    } else if (!part.empty()) {
      const size_t eq = part.find('=');
      std::string k, v;
      if (!QueryUnescape(part.substr(0, eq), &k) ||
          (eq != std::string_view::npos && !QueryUnescape(part.substr(eq + 1), &v))) {
        bad = true;
      } else {
        auto [it, fresh] = where.emplace(k, kv.size());
        if (fresh) kv.push_back({k, {}});
        kv[it->second].second.push_back(v);
      }
    }
    if (amp == q.size()) break;
  }
  if (bad) kv.clear();
  Entry* e = c.arena.Make<Entry>(kv.size());
  for (size_t k = 0; k < kv.size(); ++k) {
    e[k].key = c.arena.Copy(kv[k].first);
    if (kv[k].second.size() == 1) {
      e[k].value = ArenaStr(c.arena, kv[k].second[0]);
    } else {
      Value* items = c.arena.Make<Value>(kv[k].second.size());
      for (size_t j = 0; j < kv[k].second.size(); ++j)
        items[j] = ArenaStr(c.arena, kv[k].second[j]);
      e[k].value = Value::Array({items, kv[k].second.size()});
    }
  }
  return MakeMap(e, kv.size(), c.arena, /*last_wins=*/true);
}

bool FnParseQuery(CallCtx& c, std::span<const Value> a, Value* out) {
  *out = a.empty() ? Value::Map(nullptr, 0) : ParseQuery(c, Str(c, a[0]));
  return true;
}
bool FnGetQueryParam(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "getNestedParam requires 2 arguments");
  const Value m = ParseQuery(c, Str(c, a[0]));
  if (!MapGet(m, Str(c, a[1]), c.arena, out)) *out = Value::Str("");
  return true;
}
bool FnUrlDecode(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() != 1) return Err(c, "urlDecode requires exactly 1 argument");
  if (a[0].kind != Kind::kString || a[0].s.empty()) return *out = Value::Str(""), true;
  std::string s;
  if (!QueryUnescape(a[0].s, &s)) return Err(c, Cat("invalid URL escape \"", a[0].s, "\""));
  return *out = ArenaStr(c.arena, s), true;
}

// Go layouts 2006-01-02 15:04:05.000000, 2006-01-02T15:04:05.000000Z,
// 2006-01-02T15:04:05Z, RFC 3339, tried in order; Unix seconds, 0 when none fits.
int64_t ParseIso(std::string_view s) {
  auto digits = [&](size_t at, size_t n, int* v) {
    if (at + n > s.size()) return false;
    int x = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      x = x * 10 + (s[k] - '0');
    }
    *v = x;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (s.size() < 19 || !digits(0, 4, &y) || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || !digits(11, 2, &h) || s[13] != ':' || !digits(14, 2, &mi) ||
      s[16] != ':' || !digits(17, 2, &se))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return 0;
  size_t k = 19;
  size_t frac = 0;
  if (k < s.size() && s[k] == '.') {
    ++k;
    while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k, ++frac;
    if (frac == 0) return 0;
  }
  int64_t offset = 0;
  const char sep = s[10];
  if (sep == ' ') {
    if (frac != 6 || k != s.size()) return 0;  // only "2006-01-02 15:04:05.000000"
  } else if (sep == 'T') {
    if (k < s.size() && s[k] == 'Z' && k + 1 == s.size()) {
      // Z
    } else if (k + 6 == s.size() && (s[k] == '+' || s[k] == '-') && s[k + 3] == ':') {
      int oh, om;
      if (!digits(k + 1, 2, &oh) || !digits(k + 4, 2, &om) || oh > 23 || om > 59) return 0;
      offset = (oh * 3600 + om * 60) * (s[k] == '-' ? -1 : 1);
    } else {
      return 0;
    }
  } else {
    return 0;
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap)) return 0;
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
}

bool FnParseISO8601(CallCtx& c, std::span<const Value> a, Value* out) {
  *out = Value::Int(a.empty() ? 0 : ParseIso(Str(c, a[0])));
  return true;
}
bool FnToDate(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return *out = Value::Int(0), true;
  int64_t secs;
  const Value& v = a[0];
  if (v.kind == Kind::kTime) {
    secs = (v.i - ((v.i % 1000000000 + 1000000000) % 1000000000)) / 1000000000 + v.aux;
  } else if (v.kind == Kind::kInt || v.kind == Kind::kByte) {
    secs = v.i;
  } else if (v.kind == Kind::kFloat) {
    secs = static_cast<int64_t>(v.f);
  } else {
    return *out = Value::Int(0), true;
  }
  int64_t days = secs / 86400;
  if (secs % 86400 < 0) --days;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return *out = ArenaStr(c.arena, buf), true;
}
bool FnToString(CallCtx& c, std::span<const Value> a, Value* out) {
  return *out = Value::Str(a.empty() ? "" : Str(c, a[0])), true;
}
bool FnContainsStr(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "containsStr requires 2 arguments");
  const std::string_view s = Str(c, a[0]);
  return *out = Value::Bool(!s.empty() && s.find(Str(c, a[1])) != std::string_view::npos), true;
}
bool FnHasPrefix(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "hasPrefix requires 2 arguments");
  const std::string_view s = Str(c, a[0]);
  return *out = Value::Bool(!s.empty() && s.starts_with(Str(c, a[1]))), true;
}
bool FnHasSuffix(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "hasSuffix requires 2 arguments");
  const std::string_view s = Str(c, a[0]);
  return *out = Value::Bool(!s.empty() && s.ends_with(Str(c, a[1]))), true;
}
bool FnUpper(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "upper requires 1 argument");
  return *out = Value::Str(CaseMap(Str(c, a[0]), true, c.arena)), true;
}
bool FnLower(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "lower requires 1 argument");
  return *out = Value::Str(CaseMap(Str(c, a[0]), false, c.arena)), true;
}
bool FnTrim(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "trim requires 1 argument");
  return *out = Value::Str(TrimSpace(Str(c, a[0]))), true;
}
bool FnSplit(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "split requires 2 arguments");
  const std::string_view s = Str(c, a[0]);
  if (s.empty()) return *out = Value::Str(""), true;
  return *out = SplitGo(s, Str(c, a[1]), -1, false, c.arena), true;
}
bool FnJoin(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "join requires 2 arguments");
  if (a[0].kind != Kind::kArray) return *out = Value::Str(""), true;
  const std::string_view sep = Str(c, a[1]);
  std::string s;
  for (size_t k = 0; k < a[0].n; ++k) {
    if (k) s.append(sep);
    s.append(Str(c, a[0].items[k]));
  }
  return *out = ArenaStr(c.arena, s), true;
}
bool FnReplace(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 3) return Err(c, "replace requires 3 arguments");
  const std::string_view s = Str(c, a[0]);
  if (s.empty()) return *out = Value::Str(""), true;
  return *out = Value::Str(ReplaceGo(s, Str(c, a[1]), Str(c, a[2]), -1, c.arena)), true;
}
bool FnToInt(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "toInt requires 1 argument");
  const std::string_view s = Str(c, a[0]);
  if (s.empty()) return *out = Value::Int(0), true;
  int64_t v = 0;
  const char* b = s.data() + (s[0] == '+');
  auto r = std::from_chars(b, s.data() + s.size(), v);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size() && b != s.data() + s.size() &&
      !(b < s.data() + s.size() && *b == '-' && s[0] == '+'))
    return *out = Value::Int(v), true;
  double d;
  if (!ParseFloatGo(s, &d)) return *out = Value::Int(0), true;
  const double f = std::floor(d);
  *out =
      Value::Int(f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 ? static_cast<int64_t>(f)
                                                                          : INT64_MIN);
  return true;
}
bool FnToFloat(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "toFloat requires 1 argument");
  double d = 0;
  if (!ParseFloatGo(Str(c, a[0]), &d)) d = 0;
  return *out = Value::Float(d), true;
}
bool FnParseUserAgent(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.size() < 2) return Err(c, "parseUserAgent requires 2 arguments");
  const std::string_view raw = Str(c, a[0]);
  if (raw.empty()) return *out = Value::Str(""), true;
  const std::string_view ua = CaseMap(raw, false, c.arena);
  auto has = [&](std::string_view x) { return ua.find(x) != std::string_view::npos; };
  const std::string_view field = Str(c, a[1]);
  std::string_view r = "";
  if (field == "device") {
    if (has("ipad") || (has("android") && !has("mobile")))
      r = "Tablet";
    else if (has("mobile") || has("iphone") || has("android"))
      r = "Mobile";
    else
      r = "Desktop";
  } else if (field == "browser") {
    if (has("edg/"))
      r = "Edge";
    else if (has("chrome") || has("crios"))
      r = "Chrome";
    else if (has("firefox") || has("fxios"))
      r = "Firefox";
    else if (has("safari") && !has("chrome"))
      r = "Safari";
    else
      r = "Unknown";
  } else if (field == "os") {
    if (has("iphone") || has("ipad") || has("ipod"))
      r = "iOS";
    else if (has("android"))
      r = "Android";
    else if (has("windows"))
      r = "Windows";
    else if (has("mac os") || has("macintosh"))
      r = "macOS";
    else if (has("linux"))
      r = "Linux";
    else
      r = "Unknown";
  }
  return *out = Value::Str(r), true;
}
bool FnWaterfall(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "waterfall requires at least 1 argument");
  std::span<const Value> cands = a[0].kind == Kind::kArray ? a[0].array() : a;
  for (const Value& v : cands) {
    if (v.nil() || (v.kind == Kind::kString && v.s.empty())) continue;
    if (v.kind == Kind::kString) return *out = v, true;
    std::string s;
    AppendGoV(v, &s);
    return *out = ArenaStr(c.arena, s), true;
  }
  return *out = Value::Str(""), true;
}
bool FnExtractPathType(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "extractPathType requires 1 argument");
  const std::string_view p = Str(c, a[0]);
  *out = Value::Str(p == "/g/collect"      ? "collect"
                    : p == "/_/set_cookie" ? "set_cookie"
                                           : "unknown");
  return true;
}
bool KeyTest(CallCtx& c, std::span<const Value> a, Value* out, bool prefix) {
  if (a.size() < 2)
    return Err(c, prefix ? "hasKeyPrefix requires 2 arguments" : "hasAnyKey requires 2 arguments");
  const Value m = MaterializeMap(a[0], c.arena);
  if (m.kind != Kind::kMap || a[1].kind != Kind::kArray) return *out = Value::Bool(false), true;
  for (const Value& p : a[1].array()) {
    const std::string_view want = Str(c, p);
    for (size_t k = 0; k < m.n; ++k) {
      if (prefix ? m.entries[k].key.starts_with(want) : (!want.empty() && m.entries[k].key == want))
        return *out = Value::Bool(true), true;
    }
  }
  return *out = Value::Bool(false), true;
}
bool FnHasKeyPrefix(CallCtx& c, std::span<const Value> a, Value* out) {
  return KeyTest(c, a, out, true);
}
bool FnHasAnyKey(CallCtx& c, std::span<const Value> a, Value* out) {
  return KeyTest(c, a, out, false);
}
bool FnKeys(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a.empty()) return Err(c, "keys requires 1 argument");
  const Value m = MaterializeMap(a[0], c.arena);
  if (m.kind != Kind::kMap) return *out = Value::Array({}), true;
  Value* items = c.arena.Make<Value>(m.n);
  for (size_t k = 0; k < m.n; ++k) items[k] = Value::Str(m.entries[k].key);
  std::sort(items, items + m.n, [](const Value& x, const Value& y) { return x.s < y.s; });
  return *out = Value::Array({items, m.n}), true;
}

constexpr Type U = Type::kUnknown;

// Registered without signatures: any argument count compiles (checked when called), and
// results are of unknown type, as expr.Function without types gives.
const Function kHelpers[] = {
    {"parseQuery", 0, -1, true, U, FnParseQuery},
    {"getQueryParam", 0, -1, true, U, FnGetQueryParam},
    {"getNestedParam", 0, -1, true, U, FnGetQueryParam},
    {"urlDecode", 0, -1, true, U, FnUrlDecode},
    {"parseISO8601", 0, -1, true, U, FnParseISO8601},
    {"toDate", 0, -1, true, U, FnToDate},
    {"toString", 0, -1, true, U, FnToString},
    {"containsStr", 0, -1, true, U, FnContainsStr},
    {"hasPrefix", 0, -1, true, U, FnHasPrefix},
    {"hasSuffix", 0, -1, true, U, FnHasSuffix},
    {"upper", 0, -1, true, U, FnUpper},
    {"lower", 0, -1, true, U, FnLower},
    {"trim", 0, -1, true, U, FnTrim},
    {"split", 0, -1, true, U, FnSplit},
    {"join", 0, -1, true, U, FnJoin},
    {"replace", 0, -1, true, U, FnReplace},
    {"toInt", 0, -1, true, U, FnToInt},
    {"toFloat", 0, -1, true, U, FnToFloat},
    {"parseUserAgent", 0, -1, true, U, FnParseUserAgent},
    {"waterfall", 0, -1, true, U, FnWaterfall},
    {"extractPathType", 0, -1, true, U, FnExtractPathType},
    {"hasKeyPrefix", 0, -1, true, U, FnHasKeyPrefix},
    {"hasAnyKey", 0, -1, true, U, FnHasAnyKey},
    {"keys", 0, -1, true, U, FnKeys},
};

}  // namespace

std::span<const Function> HelperFunctions() { return kHelpers; }

}  // namespace sluice::expr
