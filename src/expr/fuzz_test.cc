// The expression compiler and evaluator against hostile input: random bytes, random token
// soups, and the worst shapes at every limit. Each must give a value or a clear error,
// never crash, and take time linear in its size.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <sstream>

#include "expr/json_record.h"
#include "expr/program.h"

namespace sluice::expr {
namespace {

const char* kRecord =
    R"({"s": "hello", "n": 3, "b": true, "a": [1, 2, "x", null], "m": {"k": "v", "n": {"x": 1}}, "z": null})";

struct Runner {
  Arena arena;
  JsonRecord rec;
  Runner() {
    std::string err;
    rec.Parse(kRecord, arena, &err);
  }
  // Compiles in the three modes and runs what compiles. Returns the number that ran.
  int Try(const std::string& src) {
    int ran = 0;
    for (int mode = 0; mode < 3; ++mode) {
      CompileOptions o{&rec, mode == 2, mode == 1};
      auto p = Program::Compile(src, o);
      if (!p.ok()) {
        EXPECT_FALSE(p.status().message().empty()) << src;
        continue;
      }
      Arena a;
      Value v;
      std::string err;
      if (!p->Run(rec, a, &v, &err)) {
        EXPECT_FALSE(err.empty()) << src;
      }
      ++ran;
    }
    return ran;
  }
};

TEST(ExprFuzz, RandomBytes) {
  Runner r;
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    r.Try(s);
  }
}

TEST(ExprFuzz, RandomTokenSoups) {
  Runner r;
  // The vocabulary, space-separated (`str` and `q` are quoted strings in it).
  std::vector<std::string> kTokens;
  {
    std::istringstream words(
        "s n b a m z $env # #index #acc . ?. [ ] ( ) { } , : ; ? ?? ?: + - * / % ** ^ == != < > "
        "<= >= and or not ! && || in matches contains startsWith endsWith .. | let x = if else 1 "
        "0 -1 2.5 1e308 'str' \"q\" `r` nil true false len map filter all reduce sortBy groupBy "
        "split upper int float string toJSON fromJSON date duration now max min sum count concat "
        "flatten keys values toInt parseQuery waterfall repeat 1..5 '(a' k Year");
    for (std::string w; words >> w;) kTokens.push_back(w);
  }
  std::mt19937 rng(7);
  int compiled = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) {
      s += kTokens[rng() % kTokens.size()];
      s += ' ';
    }
    compiled += r.Try(s);
  }
  EXPECT_GT(compiled, 1000);  // the soup is not all syntax errors
}

TEST(ExprFuzz, WorstShapesAtTheLimits) {
  Runner r;
  auto timed = [&](const std::string& src, const char* what) {
    const auto t0 = std::chrono::steady_clock::now();
    r.Try(src);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#if defined(__SANITIZE_ADDRESS__)
    constexpr double kLimit = 60.0;  // sanitizers slow everything down several times
#else
    constexpr double kLimit = 5.0;
#endif
    EXPECT_LT(s, kLimit) << what;
  };
  timed(std::string(100000, '(') + "1" + std::string(100000, ')'), "deep parentheses");
  timed(std::string(100000, '-') + "1", "a long unary chain");
  timed(std::string(100000, '!') + "true", "a long not chain");
  std::string dots(50002, '.');  // (GCC 12 warns falsely on "s" + std::string(...))
  dots.front() = 's';
  dots.back() = 'x';
  timed(dots, "dots");
  std::string chain = "m";
  for (int i = 0; i < 20000; ++i) chain += "?.k";
  timed(chain, "a long member chain");
  std::string sum = "1";
  for (int i = 0; i < 20000; ++i) sum += "+1";
  timed(sum, "more nodes than allowed");
  std::string arr = "[";
  for (int i = 0; i < 9000; ++i) arr += "1,";
  timed(arr + "]", "a large array literal");
  timed(std::string(50000, '[') + std::string(50000, ']'), "nested arrays");
  std::string literal((1 << 20) + 2, 'a');
  literal.front() = literal.back() = '\'';
  timed(literal, "a 1 MiB string literal");
  timed("repeat('ab', 1000000)", "the repeat limit");
  timed("len(repeat(repeat('x', 1000), 1000))", "repeat of repeat");
  timed("1..1000000 | map(# * 2) | filter(# % 3 == 0) | sum()",
        "a million elements through predicates");
  timed("reduce(1..1000000, #acc + #, 0)", "reduce over a million");
  timed("toJSON(fromJSON(toJSON(1..100000)))", "JSON round trip");
  timed("let x = 1..1000; map(x, map(x, # + 1))", "nested predicates (a million evaluations)");
  timed("s matches '(a+)+$'", "a backtracking pattern (RE2 is linear)");
  timed("sortBy(1..200000, -#)", "sortBy");
  timed("groupBy(1..100000, # % 100)", "groupBy");
  timed("len(uniq(1..1000000))", "uniq of a million");
  timed("len(keys(fromJSON(toJSON(fromPairs(map(1..200000, [string(#), #]))))))",
        "a 200,000-key map");
  timed(
      "let m = fromJSON(toJSON(fromPairs(map(1..100000, [string(#), #])))); all(1..100000, get(m, "
      "string(#)) != nil)",
      "100,000 look-ups in a 100,000-key map");
  timed("len(groupBy(1..300000, #))", "groupBy with 300,000 groups");
  timed("let x = 1..100000; all(x, all(x, true))",
        "ten billion steps (stopped by the step budget)");
  std::string lets;
  for (int i = 0; i < 2000; ++i)
    lets += "let v" + std::to_string(i) + " = " + std::to_string(i) + "; ";
  timed(lets + "v1999", "2000 lets");
}

}  // namespace
}  // namespace sluice::expr
