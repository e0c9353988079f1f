// expr's builtin functions (expressions.md §1.8) other than the predicates (eval.cc) and
// the date functions (timefns.cc).
#include <absl/strings/escaping.h>
#include <locale.h>
#include <simdjson.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <clocale>
#include <cmath>
#include <unordered_map>

#include "core/cat.h"
#include "core/text.h"
#include "expr/compiled.h"
#include "expr/ops.h"

namespace sluice::expr {

bool NeedString(CallCtx& c, std::string_view fn, const Value& v, std::string_view* out) {
  if (v.kind == Kind::kString) {
    *out = v.s;
    return true;
  }
  *c.error = Cat("interface conversion: interface {} is ",
                 v.nil() ? std::string_view("nil") : GoTypeName(v), ", not string");
  (void)fn;
  return false;
}

bool NeedInt(CallCtx& c, std::string_view fn, const Value& v, int64_t* out) {
  if (v.kind == Kind::kInt || v.kind == Kind::kByte) {
    *out = v.i;
    return true;
  }
  *c.error = Cat("cannot use ", GoTypeName(v), " as argument (type int) to call ", fn);
  return false;
}

namespace {

bool Err(CallCtx& c, std::string msg) {
  *c.error = std::move(msg);
  return false;
}

// ---- UTF-8 and case mapping (per rune, Unicode simple mapping from the C.UTF-8 locale)

uint32_t DecodeRune(std::string_view s, size_t* k) {
  const unsigned char c = s[*k];
  auto cont = [&](size_t i) -> int {
    return *k + i < s.size() && (static_cast<unsigned char>(s[*k + i]) & 0xC0) == 0x80
               ? static_cast<unsigned char>(s[*k + i]) & 0x3F
               : -1;
  };
  if (c < 0x80) {
    ++*k;
    return c;
  }
  if ((c & 0xE0) == 0xC0 && cont(1) >= 0 && c >= 0xC2) {
    const uint32_t r = ((c & 0x1F) << 6) | cont(1);
    *k += 2;
    return r;
  }
  if ((c & 0xF0) == 0xE0 && cont(1) >= 0 && cont(2) >= 0) {
    const uint32_t r = ((c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) {
      *k += 3;
      return r;
    }
  }
  if ((c & 0xF8) == 0xF0 && cont(1) >= 0 && cont(2) >= 0 && cont(3) >= 0) {
    const uint32_t r = ((c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    if (r >= 0x10000 && r <= 0x10FFFF) {
      *k += 4;
      return r;
    }
  }
  ++*k;
  return 0xFFFD;
}

locale_t Utf8Locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

bool IsSpaceRune(uint32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return r >= 0x2000 && r <= 0x200A;
  }
}

}  // namespace

// Shared with the helpers.
std::string_view CaseMap(std::string_view s, bool upper, Arena& arena) {
  bool ascii = true;
  for (char ch : s) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
  char* p = static_cast<char*>(arena.Alloc(s.size() * 2 + 4, 1));
  if (ascii) {
    for (size_t k = 0; k < s.size(); ++k)
      p[k] = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(s[k]))
                                     : std::tolower(static_cast<unsigned char>(s[k])));
    return {p, s.size()};
  }
  std::string out;
  locale_t loc = Utf8Locale();
  for (size_t k = 0; k < s.size();) {
    const size_t at = k;
    uint32_t r = DecodeRune(s, &k);
    if (r == 0xFFFD && !(k - at == 3 && s.substr(at, 3) == "\xEF\xBF\xBD")) {
      out.append("\xEF\xBF\xBD");
      continue;
    }
    if (loc)
      r = static_cast<uint32_t>(upper ? towupper_l(static_cast<wint_t>(r), loc)
                                      : towlower_l(static_cast<wint_t>(r), loc));
    AppendUtf8(r, &out);
  }
  return arena.Copy(out);
}

std::string_view TrimSpace(std::string_view s) {
  size_t a = 0;
  while (a < s.size()) {
    size_t k = a;
    if (!IsSpaceRune(DecodeRune(s, &k))) break;
    a = k;
  }
  size_t b = s.size();
  while (b > a) {
    size_t start = b - 1;
    while (start > a && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t k = start;
    if (!IsSpaceRune(DecodeRune(s, &k))) break;
    b = start;
  }
  return s.substr(a, b - a);
}

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t k = 0; k < s.size();) DecodeRune(s, &k), ++n;
  return n;
}

// Go's strings.SplitN (after = SplitAfterN).
Value SplitGo(std::string_view s, std::string_view sep, int64_t n, bool after, Arena& arena) {
  if (n == 0) return Value::Nil();
  ArrayBuilder ab(arena);
  if (sep.empty()) {
    for (size_t k = 0; k < s.size();) {
      if (n > 0 && static_cast<int64_t>(ab.size()) == n - 1) {
        ab.Push(Value::Str(s.substr(k)));
        return ab.Done();
      }
      const size_t at = k;
      DecodeRune(s, &k);
      ab.Push(Value::Str(s.substr(at, k - at)));
    }
    return ab.Done();
  }
  size_t start = 0;
  while (n < 0 || static_cast<int64_t>(ab.size()) < n - 1) {
    const size_t f = s.find(sep, start);
    if (f == std::string_view::npos) break;
    ab.Push(Value::Str(s.substr(start, f - start + (after ? sep.size() : 0))));
    start = f + sep.size();
  }
  ab.Push(Value::Str(s.substr(start)));
  return ab.Done();
}

// Go's strings.Replace.
std::string_view ReplaceGo(std::string_view s, std::string_view from, std::string_view to,
                           int64_t n, Arena& arena) {
  std::string out;
  int64_t done = 0;
  if (from.empty()) {
    for (size_t k = 0; k <= s.size();) {
      if (n < 0 || done < n) out.append(to), ++done;
      if (k == s.size()) break;
      const size_t at = k;
      DecodeRune(s, &k);
      out.append(s.substr(at, k - at));
    }
    return arena.Copy(out);
  }
  size_t start = 0;
  while (n < 0 || done < n) {
    const size_t f = s.find(from, start);
    if (f == std::string_view::npos) break;
    out.append(s.substr(start, f - start));
    out.append(to);
    start = f + from.size();
    ++done;
  }
  out.append(s.substr(start));
  return arena.Copy(out);
}

namespace {

bool FnTrim(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "trim", a[0], &s)) return false;
  if (a.size() == 1) return *out = Value::Str(TrimSpace(s)), true;
  std::string_view cut;
  if (!NeedString(c, "trim", a[1], &cut)) return false;
  auto in_cut = [&](uint32_t r) {
    for (size_t k = 0; k < cut.size();)
      if (DecodeRune(cut, &k) == r) return true;
    return false;
  };
  size_t x = 0, y = s.size();
  while (x < y) {
    size_t k = x;
    if (!in_cut(DecodeRune(s, &k))) break;
    x = k;
  }
  while (y > x) {
    size_t st = y - 1;
    while (st > x && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80) --st;
    size_t k = st;
    if (!in_cut(DecodeRune(s, &k))) break;
    y = st;
  }
  *out = Value::Str(s.substr(x, y - x));
  return true;
}

bool FnTrimPrefix(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s, p = " ";
  if (!NeedString(c, "trimPrefix", a[0], &s)) return false;
  if (a.size() > 1 && !NeedString(c, "trimPrefix", a[1], &p)) return false;
  *out = Value::Str(s.starts_with(p) ? s.substr(p.size()) : s);
  return true;
}
bool FnTrimSuffix(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s, p = " ";
  if (!NeedString(c, "trimSuffix", a[0], &s)) return false;
  if (a.size() > 1 && !NeedString(c, "trimSuffix", a[1], &p)) return false;
  *out = Value::Str(s.ends_with(p) ? s.substr(0, s.size() - p.size()) : s);
  return true;
}
bool FnUpper(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "upper", a[0], &s)) return false;
  *out = Value::Str(CaseMap(s, true, c.arena));
  return true;
}
bool FnLower(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "lower", a[0], &s)) return false;
  *out = Value::Str(CaseMap(s, false, c.arena));
  return true;
}
bool SplitImpl(CallCtx& c, std::span<const Value> a, Value* out, bool after) {
  std::string_view s, sep;
  if (!NeedString(c, "split", a[0], &s) || !NeedString(c, "split", a[1], &sep)) return false;
  int64_t n = -1;
  if (a.size() > 2 && !NeedInt(c, after ? "splitAfter" : "split", a[2], &n)) return false;
  *out = SplitGo(s, sep, n, after, c.arena);
  return true;
}
bool FnSplit(CallCtx& c, std::span<const Value> a, Value* out) {
  return SplitImpl(c, a, out, false);
}
bool FnSplitAfter(CallCtx& c, std::span<const Value> a, Value* out) {
  return SplitImpl(c, a, out, true);
}
bool FnReplace(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s, from, to;
  if (!NeedString(c, "replace", a[0], &s) || !NeedString(c, "replace", a[1], &from) ||
      !NeedString(c, "replace", a[2], &to))
    return false;
  int64_t n = -1;
  if (a.size() > 3 && !NeedInt(c, "replace", a[3], &n)) return false;
  *out = Value::Str(ReplaceGo(s, from, to, n, c.arena));
  return true;
}
bool FnRepeat(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  int64_t n;
  if (!NeedString(c, "repeat", a[0], &s) || !NeedInt(c, "repeat", a[1], &n)) return false;
  if (n < 0) return Err(c, "strings: negative Repeat count");
  if (n > 1000000 || static_cast<uint64_t>(n) * s.size() > (64u << 20))
    return Err(c, "memory budget exceeded");
  char* p = static_cast<char*>(c.arena.Alloc(s.size() * n + 1, 1));
  for (int64_t k = 0; k < n; ++k) std::memcpy(p + k * s.size(), s.data(), s.size());
  *out = Value::Str({p, s.size() * static_cast<size_t>(n)});
  return true;
}
bool IndexImpl(CallCtx& c, std::span<const Value> a, Value* out, bool last) {
  std::string_view s, sub;
  if (!NeedString(c, "indexOf", a[0], &s) || !NeedString(c, "indexOf", a[1], &sub)) return false;
  const size_t f = last ? s.rfind(sub) : s.find(sub);
  *out = Value::Int(f == std::string_view::npos ? -1 : static_cast<int64_t>(f));
  return true;
}
bool FnIndexOf(CallCtx& c, std::span<const Value> a, Value* out) {
  return IndexImpl(c, a, out, false);
}
bool FnLastIndexOf(CallCtx& c, std::span<const Value> a, Value* out) {
  return IndexImpl(c, a, out, true);
}
bool FnHasPrefix(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s, p;
  if (!NeedString(c, "hasPrefix", a[0], &s) || !NeedString(c, "hasPrefix", a[1], &p)) return false;
  return *out = Value::Bool(s.starts_with(p)), true;
}
bool FnHasSuffix(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s, p;
  if (!NeedString(c, "hasSuffix", a[0], &s) || !NeedString(c, "hasSuffix", a[1], &p)) return false;
  return *out = Value::Bool(s.ends_with(p)), true;
}
bool FnJoin(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot join ", GoTypeName(a[0])));
  std::string_view sep;
  if (a.size() > 1 && !NeedString(c, "join", a[1], &sep)) return false;
  std::string s;
  for (size_t k = 0; k < a[0].n; ++k) {
    std::string_view part;
    if (!NeedString(c, "join", a[0].items[k], &part)) return false;
    if (k) s.append(sep);
    s.append(part);
  }
  *out = ArenaStr(c.arena, s);
  return true;
}

// ---- numbers and conversions

bool NeedNumber(CallCtx& c, std::string_view fn, const Value& v) {
  if (v.number()) return true;
  return Err(c, Cat("invalid argument for ", fn, " (type ", GoTypeName(v), ")"));
}
bool FnAbs(CallCtx& c, std::span<const Value> a, Value* out) {
  if (!NeedNumber(c, "abs", a[0])) return false;
  if (a[0].kind == Kind::kFloat) return *out = Value::Float(std::fabs(a[0].f)), true;
  return *out = Value::Int(a[0].i < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a[0].i))
                                      : a[0].i),
         true;
}
bool FnCeil(CallCtx& c, std::span<const Value> a, Value* out) {
  if (!NeedNumber(c, "ceil", a[0])) return false;
  return *out = Value::Float(std::ceil(a[0].AsDouble())), true;
}
bool FnFloor(CallCtx& c, std::span<const Value> a, Value* out) {
  if (!NeedNumber(c, "floor", a[0])) return false;
  return *out = Value::Float(std::floor(a[0].AsDouble())), true;
}
bool FnRound(CallCtx& c, std::span<const Value> a, Value* out) {
  if (!NeedNumber(c, "round", a[0])) return false;
  return *out = Value::Float(std::round(a[0].AsDouble())), true;
}

// Numbers of the arguments, arrays flattened (max, min, mean, median).
bool CollectNumbers(CallCtx& c, std::string_view fn, std::span<const Value> a,
                    std::vector<Value>* out, int depth = 0) {
  for (const Value& v : a) {
    if (v.kind == Kind::kArray) {
      if (depth > 100 || !CollectNumbers(c, fn, v.array(), out, depth + 1)) return false;
    } else if (v.number()) {
      out->push_back(v);
    } else {
      return Err(c, Cat("invalid argument for ", fn, " (type ", GoTypeName(v), ")"));
    }
  }
  return true;
}
bool MinMax(CallCtx& c, std::span<const Value> a, Value* out, bool max) {
  if (a.size() == 1 && !a[0].number() && a[0].kind != Kind::kArray) return *out = a[0], true;
  std::vector<Value> nums;
  if (!CollectNumbers(c, max ? "max" : "min", a, &nums)) return false;
  if (nums.empty()) return *out = Value::Nil(), true;
  Value best = nums[0];
  for (const Value& v : nums) {
    int cmp;
    Compare(v, best, &cmp);
    if (max ? cmp == 1 : cmp == -1) best = v;
  }
  *out = best;
  return true;
}
bool FnMax(CallCtx& c, std::span<const Value> a, Value* out) { return MinMax(c, a, out, true); }
bool FnMin(CallCtx& c, std::span<const Value> a, Value* out) { return MinMax(c, a, out, false); }
bool FnMean(CallCtx& c, std::span<const Value> a, Value* out) {
  std::vector<Value> nums;
  if (!CollectNumbers(c, "mean", a, &nums)) return false;
  double s = 0;
  for (const Value& v : nums) s += v.AsDouble();
  return *out = Value::Float(nums.empty() ? 0 : s / static_cast<double>(nums.size())), true;
}
bool FnMedian(CallCtx& c, std::span<const Value> a, Value* out) {
  std::vector<Value> nums;
  if (!CollectNumbers(c, "median", a, &nums)) return false;
  if (nums.empty()) return *out = Value::Float(0), true;
  std::vector<double> d;
  for (const Value& v : nums) d.push_back(v.AsDouble());
  std::sort(d.begin(), d.end());
  const size_t m = d.size() / 2;
  return *out = Value::Float(d.size() % 2 ? d[m] : (d[m - 1] + d[m]) / 2), true;
}
bool FnInt(CallCtx& c, std::span<const Value> a, Value* out) {
  const Value& v = a[0];
  switch (v.kind) {
    case Kind::kInt:
    case Kind::kByte: return *out = Value::Int(v.i), true;
    case Kind::kDuration: return *out = Value::Int(v.i), true;
    case Kind::kFloat: {
      const double t = std::trunc(v.f);
      *out = Value::Int(t >= -9.2233720368547758e18 && t < 9.2233720368547758e18
                            ? static_cast<int64_t>(t)
                            : INT64_MIN);
      return true;
    }
    case Kind::kString: {
      std::string_view s = v.s;
      std::string_view digits = s;
      if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
      bool ok = !digits.empty();
      for (char ch : digits) ok = ok && ch >= '0' && ch <= '9';
      int64_t r = 0;
      if (ok) {
        const char* b = s.data() + (s[0] == '+');
        auto res = std::from_chars(b, s.data() + s.size(), r);
        ok = res.ec == std::errc() && res.ptr == s.data() + s.size();
      }
      if (!ok) return Err(c, Cat("strconv.Atoi: parsing \"", s, "\": invalid syntax"));
      return *out = Value::Int(r), true;
    }
    default: return Err(c, Cat("invalid operation: int(", GoTypeName(v), ")"));
  }
}

}  // namespace

// Go's strconv.ParseFloat (the forms it takes: decimal, exponent, '_' between digits,
// hex floats left out, inf / infinity / nan in any case).
bool ParseFloatGo(std::string_view s, double* out) {
  std::string t;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '_') {
      if (k == 0 || k + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[k - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[k + 1])))
        return false;
      continue;
    }
    t.push_back(s[k]);
  }
  std::string lower;
  for (char ch : t)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  std::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-'))
    neg = body[0] == '-', body.remove_prefix(1);
  if (body == "inf" || body == "infinity") return *out = neg ? -HUGE_VAL : HUGE_VAL, true;
  if (body == "nan") return *out = std::nan(""), true;
  if (body.empty() || body.starts_with("0x")) return false;
  const char* b = t.data() + (t[0] == '+');
  auto r = std::from_chars(b, t.data() + t.size(), *out);
  if (r.ptr != t.data() + t.size()) return false;
  if (r.ec == std::errc::result_out_of_range) return false;
  return r.ec == std::errc();
}

namespace {

bool FnFloat(CallCtx& c, std::span<const Value> a, Value* out) {
  const Value& v = a[0];
  if (v.number()) return *out = Value::Float(v.AsDouble()), true;
  if (v.kind == Kind::kString) {
    double d;
    if (!ParseFloatGo(v.s, &d))
      return Err(c, Cat("strconv.ParseFloat: parsing \"", v.s, "\": invalid syntax"));
    return *out = Value::Float(d), true;
  }
  return Err(c, Cat("invalid operation: float(", GoTypeName(v), ")"));
}
bool FnString(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind == Kind::kString) return *out = a[0], true;
  std::string s;
  AppendGoV(a[0], &s);
  return *out = ArenaStr(c.arena, s), true;
}
bool FnType(CallCtx& c, std::span<const Value> a, Value* out) {
  switch (a[0].kind) {
    case Kind::kNil: return *out = Value::Str("nil"), true;
    case Kind::kBool: return *out = Value::Str("bool"), true;
    case Kind::kInt: return *out = Value::Str("int"), true;
    case Kind::kByte: return *out = Value::Str("uint"), true;
    case Kind::kFloat: return *out = Value::Str("float"), true;
    case Kind::kString: return *out = Value::Str("string"), true;
    case Kind::kArray: return *out = Value::Str("array"), true;
    case Kind::kMap:
    case Kind::kAttrs:
    case Kind::kAnyMap: return *out = Value::Str("map"), true;
    case Kind::kTime: return *out = Value::Str("time.Time"), true;
    case Kind::kDuration: return *out = Value::Str("time.Duration"), true;
  }
  return *out = Value::Str("unknown"), true;
}
bool FnToJSON(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string s;
  if (!AppendJson(a[0], &s, c.error, /*indent=*/true)) return false;
  return *out = ArenaStr(c.arena, s), true;
}

Value FromSimdjson(simdjson::dom::element e, Arena& arena) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE: return Value::Nil();
    case T::BOOL: return Value::Bool(bool(e));
    case T::INT64: return Value::Float(static_cast<double>(int64_t(e)));
    case T::UINT64: return Value::Float(static_cast<double>(uint64_t(e)));
    case T::DOUBLE: return Value::Float(double(e));
    case T::STRING: return Value::Str(arena.Copy(std::string_view(e)));
    case T::ARRAY: {
      ArrayBuilder ab(arena);
      for (auto x : simdjson::dom::array(e)) ab.Push(FromSimdjson(x, arena));
      return ab.Done();
    }
    case T::OBJECT: {
      simdjson::dom::object o(e);
      Entry* en = arena.Make<Entry>(o.size());
      size_t n = 0;
      for (auto [k, v] : o) {
        en[n].key = arena.Copy(k);
        en[n++].value = FromSimdjson(v, arena);
      }
      return MakeMap(en, n, arena, /*last_wins=*/true);  // encoding/json: the last wins
    }
  }
  return Value::Nil();
}

}  // namespace

// Also used for the evaluate endpoint's sample and the filter-validate fields.
bool ParseJsonValue(std::string_view text, Arena& arena, Value* out, std::string* error) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element e;
  if (auto err = parser.parse(padded).get(e); err) {
    *error = Cat("invalid character in JSON: ", simdjson::error_message(err));
    return false;
  }
  *out = FromSimdjson(e, arena);
  return true;
}

namespace {

bool FnFromJSON(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "fromJSON", a[0], &s)) return false;
  return ParseJsonValue(s, c.arena, out, c.error);
}
bool FnToBase64(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "toBase64", a[0], &s)) return false;
  return *out = ArenaStr(c.arena, absl::Base64Escape(absl::string_view(s.data(), s.size()))), true;
}
bool FnFromBase64(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "fromBase64", a[0], &s)) return false;
  std::string d;
  if (s.size() % 4 != 0 || !absl::Base64Unescape(absl::string_view(s.data(), s.size()), &d))
    return Err(c, "illegal base64 data at input byte 0");
  return *out = ArenaStr(c.arena, d), true;
}

// ---- arrays and maps

bool FnLen(CallCtx& c, std::span<const Value> a, Value* out) {
  switch (a[0].kind) {
    case Kind::kString: return *out = Value::Int(static_cast<int64_t>(RuneCount(a[0].s))), true;
    case Kind::kArray:
    case Kind::kMap:
    case Kind::kAnyMap: return *out = Value::Int(static_cast<int64_t>(a[0].n)), true;
    case Kind::kAttrs: return *out = Value::Int(static_cast<int64_t>(MapSize(a[0]))), true;
    default: return Err(c, Cat("invalid argument for len (type ", GoTypeName(a[0]), ")"));
  }
}
bool FnFirst(CallCtx& c, std::span<const Value> a, Value* out) {
  *out = a[0].kind == Kind::kArray && a[0].n > 0 ? a[0].items[0] : Value::Nil();
  return true;
}
bool FnLast(CallCtx& c, std::span<const Value> a, Value* out) {
  *out = a[0].kind == Kind::kArray && a[0].n > 0 ? a[0].items[a[0].n - 1] : Value::Nil();
  return true;
}
bool FnGet(CallCtx& c, std::span<const Value> a, Value* out) {
  *out = Value::Nil();
  const Value &v = a[0], &k = a[1];
  if ((v.kind == Kind::kMap || v.kind == Kind::kAttrs) && k.kind == Kind::kString) {
    MapGet(v, k.s, c.arena, out);
  } else if (v.kind == Kind::kArray && k.number()) {
    int64_t i = k.kind == Kind::kFloat ? static_cast<int64_t>(k.f) : k.i;
    if (i < 0) i += static_cast<int64_t>(v.n);
    if (i >= 0 && i < static_cast<int64_t>(v.n)) *out = v.items[i];
  }
  return true;
}
bool FnTake(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot take from ", GoTypeName(a[0])));
  int64_t n;
  if (!NeedInt(c, "take", a[1], &n)) return false;
  const size_t k = n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), a[0].n);
  return *out = Value::Array({a[0].items, k}), true;
}
bool KeysValues(CallCtx& c, std::span<const Value> a, Value* out, int what) {
  const Value m = MaterializeMap(a[0], c.arena);
  if (m.kind != Kind::kMap && m.kind != Kind::kAnyMap)
    return Err(c, Cat("cannot get keys from ", GoTypeName(a[0])));
  Value* items = c.arena.Make<Value>(m.n);
  for (size_t k = 0; k < m.n; ++k) {
    const Value key = m.kind == Kind::kAnyMap ? m.entries[k].kv : Value::Str(m.entries[k].key);
    if (what == 0) items[k] = key;
    if (what == 1) items[k] = m.entries[k].value;
    if (what == 2) {
      Value* pair = c.arena.Make<Value>(2);
      pair[0] = key;
      pair[1] = m.entries[k].value;
      items[k] = Value::Array({pair, 2});
    }
  }
  return *out = Value::Array({items, m.n}), true;
}
bool FnKeys(CallCtx& c, std::span<const Value> a, Value* out) { return KeysValues(c, a, out, 0); }
bool FnValues(CallCtx& c, std::span<const Value> a, Value* out) { return KeysValues(c, a, out, 1); }
bool FnToPairs(CallCtx& c, std::span<const Value> a, Value* out) {
  return KeysValues(c, a, out, 2);
}
bool FnFromPairs(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray)
    return Err(c, Cat("cannot transform ", GoTypeName(a[0]), " to map"));
  Entry* e = c.arena.Make<Entry>(a[0].n);
  size_t n = 0;
  std::unordered_multimap<uint64_t, size_t> seen;  // hash -> entry
  for (const Value& p : a[0].array()) {
    if (p.kind != Kind::kArray || p.n != 2) return Err(c, "invalid pair");
    const Value& key = p.items[0];
    const uint64_t h = ValueHash(key);
    size_t j = n;
    for (auto [it, end] = seen.equal_range(h); it != end && j == n; ++it)
      if (e[it->second].kv.kind == key.kind && Equal(e[it->second].kv, key)) j = it->second;
    if (j == n) {
      e[n].kv = key;
      if (key.kind == Kind::kString) e[n].key = key.s;
      seen.emplace(h, n);
      ++n;
    }
    e[j].value = p.items[1];
  }
  return *out = Value::Map(e, n, /*any_keys=*/true), true;
}
bool FnReverse(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot reverse ", GoTypeName(a[0])));
  Value* items = c.arena.Make<Value>(a[0].n);
  for (size_t k = 0; k < a[0].n; ++k) items[k] = a[0].items[a[0].n - 1 - k];
  return *out = Value::Array({items, a[0].n}), true;
}
bool FnUniq(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot uniq ", GoTypeName(a[0])));
  ArrayBuilder ab(c.arena);
  std::unordered_multimap<uint64_t, size_t> seen;  // hash -> position in ab
  for (const Value& v : a[0].array()) {
    const uint64_t h = ValueHash(v);
    bool dup = false;
    for (auto [it, end] = seen.equal_range(h); it != end && !dup; ++it)
      dup = Equal(ab.data()[it->second], v);
    if (dup) continue;
    seen.emplace(h, ab.size());
    ab.Push(v);
  }
  return *out = ab.Done(), true;
}
bool FnConcat(CallCtx& c, std::span<const Value> a, Value* out) {
  ArrayBuilder ab(c.arena);
  for (const Value& v : a) {
    if (v.kind != Kind::kArray) return Err(c, Cat("cannot concat ", GoTypeName(v)));
    for (const Value& x : v.array()) ab.Push(x);
  }
  return *out = ab.Done(), true;
}
void Flatten(const Value& v, ArrayBuilder& ab, int depth) {
  for (const Value& x : v.array()) {
    if (x.kind == Kind::kArray && depth < 100)
      Flatten(x, ab, depth + 1);
    else
      ab.Push(x);
  }
}
bool FnFlatten(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot flatten ", GoTypeName(a[0])));
  ArrayBuilder ab(c.arena);
  Flatten(a[0], ab, 0);
  return *out = ab.Done(), true;
}
bool FnSort(CallCtx& c, std::span<const Value> a, Value* out) {
  if (a[0].kind != Kind::kArray) return Err(c, Cat("cannot sort ", GoTypeName(a[0])));
  bool desc = false;
  if (a.size() > 1) {
    if (a[1].kind != Kind::kString || (a[1].s != "asc" && a[1].s != "desc"))
      return Err(c, "unknown order, use asc or desc");
    desc = a[1].s == "desc";
  }
  Value* items = c.arena.Make<Value>(a[0].n);
  std::copy(a[0].items, a[0].items + a[0].n, items);
  bool bad = false;
  for (size_t k = 0; k < a[0].n; ++k)
    bad = bad || !(items[k].number() || items[k].kind == Kind::kString) ||
          (items[k].kind == Kind::kString) != (items[0].kind == Kind::kString);
  if (bad) return Err(c, "sort: elements are not all numbers or all strings");
  std::stable_sort(items, items + a[0].n, [&](const Value& x, const Value& y) {
    int r;
    Compare(x, y, &r);
    return desc ? r == 1 : r == -1;
  });
  return *out = Value::Array({items, a[0].n}), true;
}

// ---- bits
bool Bits(CallCtx& c, std::string_view fn, std::span<const Value> a, Value* out) {
  int64_t x, y = 0;
  if (!NeedInt(c, fn, a[0], &x)) return false;
  if (a.size() > 1 && !NeedInt(c, fn, a[1], &y)) return false;
  const uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  if ((fn == "bitshl" || fn == "bitshr" || fn == "bitushr") && y < 0)
    return Err(c, Cat("invalid operation: negative shift count ", y));
  int64_t r = 0;
  if (fn == "bitand")
    r = x & y;
  else if (fn == "bitor")
    r = x | y;
  else if (fn == "bitxor")
    r = x ^ y;
  else if (fn == "bitnand")
    r = x & ~y;
  else if (fn == "bitnot")
    r = ~x;
  else if (fn == "bitshl")
    r = y >= 64 ? 0 : static_cast<int64_t>(ux << uy);
  else if (fn == "bitshr")
    r = y >= 64 ? (x < 0 ? -1 : 0) : x >> y;
  else if (fn == "bitushr")
    r = y >= 64 ? 0 : static_cast<int64_t>(ux >> uy);
  return *out = Value::Int(r), true;
}
#define BITFN(name)                                                  \
  bool Fn_##name(CallCtx& c, std::span<const Value> a, Value* out) { \
    return Bits(c, #name, a, out);                                   \
  }
BITFN(bitand)
BITFN(bitor)
BITFN(bitxor)
BITFN(bitnand)
BITFN(bitnot)
BITFN(bitshl)
BITFN(bitshr)
BITFN(bitushr)
#undef BITFN

constexpr Type U = Type::kUnknown, S = Type::kString, B = Type::kBool, I = Type::kInt,
               F = Type::kFloat, A = Type::kArray, M = Type::kMap;

const Function kBuiltins[] = {
    {"trim", 1, 2, false, S, FnTrim},
    {"trimPrefix", 1, 2, false, S, FnTrimPrefix},
    {"trimSuffix", 1, 2, false, S, FnTrimSuffix},
    {"upper", 1, 1, false, S, FnUpper},
    {"lower", 1, 1, false, S, FnLower},
    {"split", 2, 3, false, A, FnSplit},
    {"splitAfter", 2, 3, false, A, FnSplitAfter},
    {"replace", 3, 4, false, S, FnReplace},
    {"repeat", 2, 2, false, S, FnRepeat},
    {"indexOf", 2, 2, false, I, FnIndexOf},
    {"lastIndexOf", 2, 2, false, I, FnLastIndexOf},
    {"hasPrefix", 2, 2, false, B, FnHasPrefix},
    {"hasSuffix", 2, 2, false, B, FnHasSuffix},
    {"join", 1, 2, false, S, FnJoin},
    {"abs", 1, 1, false, U, FnAbs},
    {"ceil", 1, 1, false, F, FnCeil},
    {"floor", 1, 1, false, F, FnFloor},
    {"round", 1, 1, false, F, FnRound},
    {"max", 1, -1, false, U, FnMax},
    {"min", 1, -1, false, U, FnMin},
    {"mean", 1, -1, false, F, FnMean},
    {"median", 1, -1, false, F, FnMedian},
    {"int", 1, 1, false, I, FnInt},
    {"float", 1, 1, false, F, FnFloat},
    {"string", 1, 1, false, S, FnString},
    {"type", 1, 1, false, S, FnType},
    {"toJSON", 1, 1, false, S, FnToJSON},
    {"fromJSON", 1, 1, false, U, FnFromJSON},
    {"toBase64", 1, 1, false, S, FnToBase64},
    {"fromBase64", 1, 1, false, S, FnFromBase64},
    {"len", 1, 1, false, I, FnLen},
    {"first", 1, 1, false, U, FnFirst},
    {"last", 1, 1, false, U, FnLast},
    {"get", 2, 2, false, U, FnGet},
    {"take", 2, 2, false, A, FnTake},
    {"keys", 1, 1, false, A, FnKeys},
    {"values", 1, 1, false, A, FnValues},
    {"toPairs", 1, 1, false, A, FnToPairs},
    {"fromPairs", 1, 1, false, U, FnFromPairs},
    {"reverse", 1, 1, false, A, FnReverse},
    {"uniq", 1, 1, false, A, FnUniq},
    {"concat", 1, -1, false, A, FnConcat},
    {"flatten", 1, 1, false, A, FnFlatten},
    {"sort", 1, 2, false, A, FnSort},
    {"bitand", 2, 2, false, I, Fn_bitand},
    {"bitor", 2, 2, false, I, Fn_bitor},
    {"bitxor", 2, 2, false, I, Fn_bitxor},
    {"bitnand", 2, 2, false, I, Fn_bitnand},
    {"bitnot", 1, 1, false, I, Fn_bitnot},
    {"bitshl", 2, 2, false, I, Fn_bitshl},
    {"bitshr", 2, 2, false, I, Fn_bitshr},
    {"bitushr", 2, 2, false, I, Fn_bitushr},
    // Predicates: run by the evaluator.
    {"all", 2, 2, false, B, nullptr},
    {"any", 2, 2, false, B, nullptr},
    {"none", 2, 2, false, B, nullptr},
    {"one", 2, 2, false, B, nullptr},
    {"filter", 2, 2, false, A, nullptr},
    {"map", 2, 2, false, A, nullptr},
    {"count", 1, 2, false, I, nullptr},
    {"sum", 1, 2, false, U, nullptr},
    {"find", 2, 2, false, U, nullptr},
    {"findIndex", 2, 2, false, U, nullptr},
    {"findLast", 2, 2, false, U, nullptr},
    {"findLastIndex", 2, 2, false, U, nullptr},
    {"groupBy", 2, 2, false, M, nullptr},
    {"sortBy", 2, 3, false, A, nullptr},
    {"reduce", 2, 3, false, U, nullptr},
};

}  // namespace

std::span<const Function> BuiltinFunctions() { return kBuiltins; }

std::span<const Function> Functions() {
  static const std::vector<Function> all = [] {
    std::vector<Function> v;
    for (auto part : {HelperFunctions(), BuiltinFunctions(), TimeFunctions()})
      v.insert(v.end(), part.begin(), part.end());
    return v;
  }();
  return all;
}

int FindFunction(std::string_view name, bool helpers) {
  const auto all = Functions();
  for (size_t k = 0; k < all.size(); ++k)
    if (all[k].name == name && (helpers || !all[k].helper)) return static_cast<int>(k);
  return -1;
}

}  // namespace sluice::expr
