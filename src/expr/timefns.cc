// Date and time: now(), duration(), date(), timezone() and the methods of times and
// durations (expressions.md §1.8), with Go's layouts ("2006-01-02T15:04:05Z07:00").
// Time zones: UTC and fixed offsets written in the text; named IANA zones other than
// UTC / Local are refused (the server runs in UTC).
#include <chrono>
#include <cmath>

#include "core/cat.h"
#include "core/text.h"
#include "expr/compiled.h"
#include "expr/ops.h"

namespace sluice::expr {

namespace {

constexpr int64_t kSec = 1000000000;

bool Err(CallCtx& c, std::string msg) {
  *c.error = std::move(msg);
  return false;
}

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                       "Thursday", "Friday", "Saturday"};

struct Civil {
  int64_t year;
  unsigned month, day;
  int hour, minute, second;
  int64_t nanos;
  int weekday;  // 0 = Sunday
  int yday;
};

Civil ToCivil(const Value& t) {
  const int64_t local = t.i + static_cast<int64_t>(t.aux) * kSec;
  int64_t days = local / (86400 * kSec);
  int64_t rem = local % (86400 * kSec);
  if (rem < 0) rem += 86400 * kSec, --days;
  Civil c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  const int64_t secs = rem / kSec;
  c.nanos = rem % kSec;
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  c.yday = static_cast<int>(days - DaysFromCivil(c.year, 1, 1)) + 1;
  return c;
}

// Go's layout elements, longest first where they share a prefix.
const char* kElems[] = {"January",   "Monday", "2006",      "Jan",    "Mon",   "MST",
                        "01",        "02",     "03",        "04",     "05",    "06",
                        "_2",        "15",     "-07:00:00", "-07:00", "-0700", "-07",
                        "Z07:00:00", "Z07:00", "Z0700",     "Z07",    "PM",    "pm",
                        "1",         "2",      "3",         "4",      "5"};

// The next element of a layout at `p`, or "" (a literal byte).
std::string_view ElemAt(std::string_view layout, size_t p) {
  std::string_view rest = layout.substr(p);
  if ((rest.starts_with(".0") || rest.starts_with(".9") || rest.starts_with(",0") ||
       rest.starts_with(",9"))) {
    size_t k = 1;
    while (k < rest.size() && rest[k] == rest[1]) ++k;
    // A fraction only when not followed by a digit.
    if (k >= rest.size() || !std::isdigit(static_cast<unsigned char>(rest[k])))
      return rest.substr(0, k);
  }
  for (const char* e : kElems)
    if (rest.starts_with(e)) return e;
  return {};
}

void AppendZone(int off, bool colon, bool z, std::string* out, bool seconds = false,
                bool hours_only = false) {
  if (z && off == 0) {
    out->push_back('Z');
    return;
  }
  out->push_back(off < 0 ? '-' : '+');
  const int a = std::abs(off);
  char buf[16];
  snprintf(buf, sizeof buf, "%02d", a / 3600);
  out->append(buf);
  if (hours_only) return;
  if (colon) out->push_back(':');
  snprintf(buf, sizeof buf, "%02d", a / 60 % 60);
  out->append(buf);
  if (seconds) {
    if (colon) out->push_back(':');
    snprintf(buf, sizeof buf, "%02d", a % 60);
    out->append(buf);
  }
}

std::string Format(const Value& t, std::string_view layout) {
  const Civil c = ToCivil(t);
  std::string out;
  char buf[32];
  for (size_t p = 0; p < layout.size();) {
    const std::string_view e = ElemAt(layout, p);
    if (e.empty()) {
      out.push_back(layout[p++]);
      continue;
    }
    p += e.size();
    if (e == "2006")
      snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(c.year)), out += buf;
    else if (e == "06")
      snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(c.year % 100)), out += buf;
    else if (e == "01")
      snprintf(buf, sizeof buf, "%02u", c.month), out += buf;
    else if (e == "1")
      out += std::to_string(c.month);
    else if (e == "Jan")
      out += std::string(kMonths[c.month - 1], 3);
    else if (e == "January")
      out += kMonths[c.month - 1];
    else if (e == "02")
      snprintf(buf, sizeof buf, "%02u", c.day), out += buf;
    else if (e == "_2")
      snprintf(buf, sizeof buf, "%2u", c.day), out += buf;
    else if (e == "2")
      out += std::to_string(c.day);
    else if (e == "15")
      snprintf(buf, sizeof buf, "%02d", c.hour), out += buf;
    else if (e == "03")
      snprintf(buf, sizeof buf, "%02d", c.hour % 12 == 0 ? 12 : c.hour % 12), out += buf;
    else if (e == "3")
      out += std::to_string(c.hour % 12 == 0 ? 12 : c.hour % 12);
    else if (e == "04")
      snprintf(buf, sizeof buf, "%02d", c.minute), out += buf;
    else if (e == "4")
      out += std::to_string(c.minute);
    else if (e == "05")
      snprintf(buf, sizeof buf, "%02d", c.second), out += buf;
    else if (e == "5")
      out += std::to_string(c.second);
    else if (e == "PM")
      out += c.hour >= 12 ? "PM" : "AM";
    else if (e == "pm")
      out += c.hour >= 12 ? "pm" : "am";
    else if (e == "Mon")
      out += std::string(kDays[c.weekday], 3);
    else if (e == "Monday")
      out += kDays[c.weekday];
    else if (e == "MST") {
      if (t.aux == 0)
        out += "UTC";
      else
        AppendZone(t.aux, false, false, &out, false, false);
    } else if (e[0] == 'Z' || e[0] == '-') {
      const bool z = e[0] == 'Z';
      const std::string_view body = e.substr(1);
      AppendZone(t.aux, body.find(':') != std::string_view::npos, z, &out,
                 body.size() >= 6 && body != "0700", body == "07");
    } else if (e[0] == '.' || e[0] == ',') {
      snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(c.nanos));
      std::string digits(buf, e.size() - 1 < 9 ? e.size() - 1 : 9);
      if (e[1] == '9') {
        while (!digits.empty() && digits.back() == '0') digits.pop_back();
        if (!digits.empty()) out += e[0] + digits;
      } else {
        out += e[0] + digits;
      }
    }
  }
  return out;
}

// Parses `s` with a Go layout. Offsets in the text win over `zone`.
bool Parse(std::string_view layout, std::string_view s, int zone, Value* out, std::string* why) {
  int64_t year = 1;  // Go's zero time is year 1, January 1
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int offset = zone;
  bool pm = false, has_pm = false;
  size_t q = 0;
  auto num = [&](size_t min_digits, size_t max_digits, int64_t* v) {
    size_t k = q;
    while (k < s.size() && k - q < max_digits && std::isdigit(static_cast<unsigned char>(s[k])))
      ++k;
    if (k - q < min_digits) return false;
    int64_t x = 0;
    for (size_t j = q; j < k; ++j) x = x * 10 + (s[j] - '0');
    *v = x;
    q = k;
    return true;
  };
  auto fail = [&] {
    *why = Cat("parsing time \"", s, "\" as \"", layout, "\": cannot parse");
    return false;
  };
  for (size_t p = 0; p < layout.size();) {
    const std::string_view e = ElemAt(layout, p);
    if (e.empty()) {
      if (q >= s.size() || s[q] != layout[p]) return fail();
      ++q, ++p;
      continue;
    }
    p += e.size();
    int64_t v = 0;
    if (e == "2006") {
      if (!num(4, 4, &v)) return fail();
      year = v;
    } else if (e == "06") {
      if (!num(2, 2, &v)) return fail();
      year = v + (v >= 69 ? 1900 : 2000);
    } else if (e == "01" || e == "1") {
      if (!num(e.size(), 2, &v) || v < 1 || v > 12) return fail();
      month = static_cast<int>(v);
    } else if (e == "Jan" || e == "January") {
      bool found = false;
      for (int m = 0; m < 12 && !found; ++m) {
        std::string_view name = kMonths[m];
        if (e == "Jan") name = name.substr(0, 3);
        if (s.substr(q).starts_with(name)) month = m + 1, q += name.size(), found = true;
      }
      if (!found) return fail();
    } else if (e == "Mon" || e == "Monday") {
      bool found = false;
      for (int d = 0; d < 7 && !found; ++d) {
        std::string_view name = kDays[d];
        if (e == "Mon") name = name.substr(0, 3);
        if (s.substr(q).starts_with(name)) q += name.size(), found = true;
      }
      if (!found) return fail();
    } else if (e == "02" || e == "2" || e == "_2") {
      if (e == "_2" && q < s.size() && s[q] == ' ') ++q;
      if (!num(e == "02" ? 2 : 1, 2, &v) || v < 1 || v > 31) return fail();
      day = static_cast<int>(v);
    } else if (e == "15") {
      if (!num(1, 2, &v) || v > 23) return fail();
      hour = static_cast<int>(v);
    } else if (e == "03" || e == "3") {
      if (!num(e.size(), 2, &v) || v < 1 || v > 12) return fail();
      hour = static_cast<int>(v);
    } else if (e == "04" || e == "4") {
      if (!num(e.size(), 2, &v) || v > 59) return fail();
      minute = static_cast<int>(v);
    } else if (e == "05" || e == "5") {
      if (!num(e.size(), 2, &v) || v > 59) return fail();
      second = static_cast<int>(v);
      // Go takes a fraction after seconds even when the layout has none.
      if (q + 1 < s.size() && (s[q] == '.' || s[q] == ',') &&
          std::isdigit(static_cast<unsigned char>(s[q + 1])) &&
          !(p < layout.size() && (layout[p] == '.' || layout[p] == ','))) {
        ++q;
        int64_t f = 0;
        size_t digits = 0;
        while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) {
          if (digits < 9) f = f * 10 + (s[q] - '0'), ++digits;
          ++q;
        }
        while (digits < 9) f *= 10, ++digits;
        nanos = f;
      }
    } else if (e == "PM" || e == "pm") {
      const std::string_view x = s.substr(q, 2);
      if (x == "PM" || x == "pm")
        pm = true;
      else if (x != "AM" && x != "am")
        return fail();
      has_pm = true;
      q += 2;
    } else if (e == "MST") {
      if (s.substr(q).starts_with("UTC") || s.substr(q).starts_with("GMT")) {
        q += 3;
        offset = 0;
      } else {
        size_t k = q;
        while (k < s.size() && std::isupper(static_cast<unsigned char>(s[k]))) ++k;
        if (k - q < 3) return fail();
        q = k;  // an abbreviation Go would not know either: taken as UTC
      }
    } else if (e[0] == 'Z' || e[0] == '-') {
      if (e[0] == 'Z' && q < s.size() && s[q] == 'Z') {
        ++q;
        offset = 0;
        continue;
      }
      if (q >= s.size() || (s[q] != '+' && s[q] != '-')) return fail();
      const int sign = s[q] == '-' ? -1 : 1;
      ++q;
      int64_t h = 0, m = 0, sec = 0;
      if (!num(2, 2, &h)) return fail();
      const std::string_view body = e.substr(1);
      if (body != "07") {
        if (body.find(':') != std::string_view::npos) {
          if (q >= s.size() || s[q] != ':') return fail();
          ++q;
        }
        if (!num(2, 2, &m)) return fail();
        if (body.size() >= 8) {
          if (body.find(':') != std::string_view::npos) ++q;
          if (!num(2, 2, &sec)) return fail();
        }
      }
      offset = sign * static_cast<int>(h * 3600 + m * 60 + sec);
    } else if (e[0] == '.' || e[0] == ',') {
      if (q >= s.size() || (s[q] != '.' && s[q] != ',')) {
        if (e[1] == '9') continue;
        return fail();
      }
      ++q;
      int64_t f = 0;
      size_t digits = 0;
      while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) {
        if (digits < 9) f = f * 10 + (s[q] - '0'), ++digits;
        ++q;
      }
      if (e[1] == '0' && digits != e.size() - 1) return fail();
      while (digits < 9) f *= 10, ++digits;
      nanos = f;
    }
  }
  if (q != s.size()) {
    *why = Cat("parsing time \"", s, "\": extra text: \"", s.substr(q), "\"");
    return false;
  }
  if (has_pm) {
    if (pm && hour < 12) hour += 12;
    if (!pm && hour == 12) hour = 0;
  }
  static const int kLen[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kLen[month - 1] || (month == 2 && day == 29 && !leap)) {
    *why = Cat("parsing time \"", s, "\": day out of range");
    return false;
  }
  const int64_t secs =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset;
  *out = Value::Time(secs * kSec + nanos, offset);
  return true;
}

bool ZoneOffset(CallCtx& c, const Value& v, int* offset) {
  if (v.kind == Kind::kTime && v.i == INT64_MIN) {  // a location value
    *offset = v.aux;
    return true;
  }
  return Err(c, Cat("cannot use ", GoTypeName(v), " as *time.Location"));
}

Value Location(int offset) { return Value::Time(INT64_MIN, offset); }

bool FnNow(CallCtx& c, std::span<const Value> a, Value* out) {
  int off = 0;
  if (!a.empty() && !ZoneOffset(c, a[0], &off)) return false;
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  return *out = Value::Time(ns, off), true;
}

bool FnTimezone(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view name;
  if (!NeedString(c, "timezone", a[0], &name)) return false;
  if (name == "UTC" || name == "Local" || name == "" || name == "Etc/UTC")
    return *out = Location(0), true;
  return Err(c, Cat("unknown time zone ", name));
}

// Go's time.ParseDuration.
bool ParseGoDuration(std::string_view s, int64_t* out) {
  const std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) neg = s[0] == '-', s.remove_prefix(1);
  if (s == "0") return *out = 0, true;
  if (s.empty()) return false;
  long double total = 0;
  while (!s.empty()) {
    size_t k = 0;
    while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
    size_t f = k;
    if (f < s.size() && s[f] == '.') {
      ++f;
      while (f < s.size() && std::isdigit(static_cast<unsigned char>(s[f]))) ++f;
    }
    if (f == 0 || (f == 1 && s[0] == '.')) return false;
    const long double n = std::strtold(std::string(s.substr(0, f)).c_str(), nullptr);
    s.remove_prefix(f);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return false;
    total += n * mult;
    if (total > 9.2233720368547758e18L) return false;
  }
  (void)orig;
  *out = static_cast<int64_t>(neg ? -total : total);
  return true;
}

bool FnDuration(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (!NeedString(c, "duration", a[0], &s)) return false;
  int64_t ns;
  if (!ParseGoDuration(s, &ns)) return Err(c, Cat("time: invalid duration \"", s, "\""));
  return *out = Value::Dur(ns), true;
}

bool FnDate(CallCtx& c, std::span<const Value> a, Value* out) {
  std::string_view s;
  if (a[0].kind == Kind::kTime) return *out = a[0], true;
  if (!NeedString(c, "date", a[0], &s)) return false;
  int zone = 0;
  if (a.size() == 3) {
    std::string_view tz;
    if (!NeedString(c, "date", a[2], &tz)) return false;
    Value loc;
    Value name = Value::Str(tz);
    if (!FnTimezone(c, {&name, 1}, &loc)) return false;
    zone = loc.aux;
  }
  std::string why;
  if (a.size() >= 2) {
    std::string_view layout;
    if (!NeedString(c, "date", a[1], &layout)) return false;
    if (!Parse(layout, s, zone, out, &why)) return Err(c, why);
    return true;
  }
  static const char* kLayouts[] = {"2006-01-02",
                                   "15:04:05",
                                   "2006-01-02 15:04:05",
                                   "2006-01-02T15:04:05Z07:00",
                                   "02 Jan 06 15:04 MST",
                                   "Monday, 02-Jan-06 15:04:05 MST",
                                   "Mon, 02 Jan 2006 15:04:05 MST"};
  for (const char* l : kLayouts)
    if (Parse(l, s, zone, out, &why)) return true;
  return Err(c, Cat("invalid date ", s));
}

}  // namespace

bool CallMethod(CallCtx& c, std::string_view name, const Value& self, std::span<const Value> args,
                Value* out) {
  if (self.kind == Kind::kDuration) {
    const double ns = static_cast<double>(self.i);
    if (name == "Hours") return *out = Value::Float(ns / 3.6e12), true;
    if (name == "Minutes") return *out = Value::Float(ns / 6e10), true;
    if (name == "Seconds") return *out = Value::Float(ns / 1e9), true;
    if (name == "Milliseconds") return *out = Value::Int(self.i / 1000000), true;
    if (name == "Microseconds") return *out = Value::Int(self.i / 1000), true;
    if (name == "Nanoseconds") return *out = Value::Int(self.i), true;
    if (name == "String") {
      std::string s;
      AppendGoV(self, &s);
      return *out = ArenaStr(c.arena, s), true;
    }
    if (name == "Abs") return *out = Value::Dur(self.i < 0 ? -self.i : self.i), true;
    return Err(c, Cat("type time.Duration has no method ", name));
  }
  if (self.kind != Kind::kTime || self.i == INT64_MIN)
    return Err(c, Cat("type ", GoTypeName(self), " has no method ", name));
  const Civil cv = ToCivil(self);
  auto floor_div = [](int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); };
  if (name == "Unix") return *out = Value::Int(floor_div(self.i, kSec)), true;
  if (name == "UnixMilli") return *out = Value::Int(floor_div(self.i, 1000000)), true;
  if (name == "UnixMicro") return *out = Value::Int(floor_div(self.i, 1000)), true;
  if (name == "UnixNano") return *out = Value::Int(self.i), true;
  if (name == "Year") return *out = Value::Int(cv.year), true;
  if (name == "Month") return *out = Value::Int(cv.month), true;
  if (name == "Day") return *out = Value::Int(cv.day), true;
  if (name == "Hour") return *out = Value::Int(cv.hour), true;
  if (name == "Minute") return *out = Value::Int(cv.minute), true;
  if (name == "Second") return *out = Value::Int(cv.second), true;
  if (name == "Nanosecond") return *out = Value::Int(cv.nanos), true;
  if (name == "YearDay") return *out = Value::Int(cv.yday), true;
  if (name == "Weekday") return *out = Value::Int(cv.weekday), true;
  if (name == "UTC") return *out = Value::Time(self.i, 0), true;
  if (name == "String") {
    std::string s;
    AppendGoV(self, &s);
    return *out = ArenaStr(c.arena, s), true;
  }
  if (args.size() == 1) {
    const Value& a = args[0];
    if (name == "Format" && a.kind == Kind::kString)
      return *out = ArenaStr(c.arena, Format(self, a.s)), true;
    if (name == "In") {
      int off;
      if (!ZoneOffset(c, a, &off)) return false;
      return *out = Value::Time(self.i, off), true;
    }
    if (name == "Add" && a.kind == Kind::kDuration)
      return *out = Value::Time(self.i + a.i, self.aux), true;
    if (name == "Sub" && a.kind == Kind::kTime) return *out = Value::Dur(self.i - a.i), true;
    if (name == "Before" && a.kind == Kind::kTime) return *out = Value::Bool(self.i < a.i), true;
    if (name == "After" && a.kind == Kind::kTime) return *out = Value::Bool(self.i > a.i), true;
    if (name == "Equal" && a.kind == Kind::kTime) return *out = Value::Bool(self.i == a.i), true;
    if (name == "Truncate" && a.kind == Kind::kDuration && a.i > 0)
      return *out = Value::Time(self.i - ((self.i % a.i) + a.i) % a.i, self.aux), true;
  }
  return Err(c, Cat("type time.Time has no method ", name, " with these arguments"));
}

namespace {
constexpr Type U = Type::kUnknown;
const Function kTime[] = {
    {"now", 0, 1, false, Type::kTime, FnNow, false},
    {"duration", 1, 1, false, Type::kDuration, FnDuration},
    {"date", 1, 3, false, Type::kTime, FnDate},
    {"timezone", 1, 1, false, U, FnTimezone},
};
}  // namespace

std::span<const Function> TimeFunctions() { return kTime; }

}  // namespace sluice::expr
