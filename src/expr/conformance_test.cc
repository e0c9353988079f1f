// Runs the expression conformance cases of tests/expr/cases.txt: each line is an
// expression, a JSON record and the expected value or error, under the current mode.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/text.h"
#include "expr/json_record.h"
#include "expr/ops.h"
#include "expr/program.h"

namespace sluice::expr {
namespace {

// A value as the case files write it: ints plain, floats with a '.' or an exponent,
// strings quoted, arrays [a, b], maps {"k": v} with sorted keys.
void Repr(const Value& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNil: *out += "nil"; return;
    case Kind::kBool: *out += v.b ? "true" : "false"; return;
    case Kind::kInt:
    case Kind::kByte: *out += std::to_string(v.i); return;
    case Kind::kFloat: {
      std::string s;
      AppendFloatG(v.f, &s);
      if (s.find_first_of(".eIN") == std::string::npos) s += ".0";
      *out += s;
      return;
    }
    case Kind::kString: AppendJsonString(v.s, out); return;
    case Kind::kArray:
      *out += "[";
      for (size_t k = 0; k < v.n; ++k) {
        if (k) *out += ", ";
        Repr(v.items[k], out);
      }
      *out += "]";
      return;
    case Kind::kMap:
    case Kind::kAttrs:
    case Kind::kAnyMap: {
      Arena a;
      const Value m = MaterializeMap(v, a);
      std::vector<std::pair<std::string, const Value*>> items;
      for (size_t k = 0; k < m.n; ++k) {
        std::string key;
        if (m.kind == Kind::kAnyMap)
          Repr(m.entries[k].kv, &key);
        else
          AppendJsonString(m.entries[k].key, &key);
        items.emplace_back(key, &m.entries[k].value);
      }
      std::sort(items.begin(), items.end());
      *out += "{";
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) *out += ", ";
        *out += items[k].first + ": ";
        Repr(*items[k].second, out);
      }
      *out += "}";
      return;
    }
    case Kind::kTime:
    case Kind::kDuration: {
      *out += v.kind == Kind::kTime ? "time(" : "duration(";
      AppendGoV(v, out);
      *out += ")";
      return;
    }
  }
}

struct Case {
  int line;
  std::string mode, expr, input, want;
};

std::vector<Case> LoadCases() {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/expr/cases.txt");
  std::vector<Case> cases;
  std::string line, mode = "filter";
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("@mode ")) {
      mode = line.substr(6);
      continue;
    }
    std::vector<std::string> parts;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) parts.push_back(part);
    if (parts.size() != 3) {
      ADD_FAILURE() << "cases.txt:" << n << ": want 3 tab-separated columns: " << line;
      continue;
    }
    cases.push_back({n, mode, parts[0], parts[1], parts[2]});
  }
  return cases;
}

// Decodes \n and \t written in the expression column.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '\\' && k + 1 < s.size() && (s[k + 1] == 'n' || s[k + 1] == 't')) {
      out += s[k + 1] == 'n' ? '\n' : '\t';
      ++k;
    } else {
      out += s[k];
    }
  }
  return out;
}

TEST(ExprConformance, Cases) {
  const auto cases = LoadCases();
  ASSERT_GE(cases.size(), 200u);
  int failures = 0;
  for (const Case& c : cases) {
    Arena arena;
    JsonRecord rec;
    std::string err;
    ASSERT_TRUE(rec.Parse(c.input, arena, &err)) << "cases.txt:" << c.line << ": " << err;
    CompileOptions o;
    o.schema = &rec;
    o.helpers = c.mode == "transform";
    o.checked = c.mode == "checked";
    std::string got;
    auto p = Program::Compile(Unescape(c.expr), o);
    if (!p.ok()) {
      got = "compile: " + std::string(p.status().message());
    } else {
      Value v;
      std::string error;
      if (p->Run(rec, arena, &v, &error))
        Repr(v, &got);
      else
        got = "error: " + error;
    }
    bool ok;
    if (c.want.starts_with("compile: ") || c.want.starts_with("error: ")) {
      // Errors match on a prefix kind and a substring of the message.
      const size_t colon = c.want.find(": ");
      ok = got.starts_with(c.want.substr(0, colon + 2)) &&
           got.find(c.want.substr(colon + 2)) != std::string::npos;
    } else {
      ok = got == c.want;
    }
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "cases.txt:" << c.line << " [" << c.mode << "] " << c.expr
                    << "\n  input: " << c.input << "\n  want:  " << c.want << "\n  got:   " << got;
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases.size() << " cases";
}

}  // namespace
}  // namespace sluice::expr
