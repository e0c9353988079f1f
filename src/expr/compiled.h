// Internals shared by the compiler, the evaluator and the function library: the compiled
// tree and the function table. Not part of the expression API (program.h).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "expr/ast.h"
#include "expr/program.h"

namespace sluice::expr {

struct Compiled {
  std::string src;
  std::vector<Node> nodes;
  int root = -1;
  Type type = Type::kUnknown;
  int max_vars = 0;  // let variables alive at once, at most
  // Holds the bytes of literals (strings, folded constants); its blocks never move.
  mutable Arena constants;
};

// Evaluates one node of a compiled tree (used for constant folding too).
bool EvalNode(const Compiled& c, int node, const Record& record, Arena& arena, Value* out,
              std::string* error);

// What a library function gets. `error` is set when it returns false; `pos` is where the
// call is, for messages.
struct CallCtx {
  Arena& arena;
  std::string* error;
};
using Fn = bool (*)(CallCtx& c, std::span<const Value> args, Value* out);

struct Function {
  std::string_view name;
  int min_args = 0;
  int max_args = 0;     // -1: any
  bool helper = false;  // GlassFlow's helper (stateless transforms only)
  Type result = Type::kUnknown;
  Fn fn = nullptr;   // null for the predicate builtins (run by the evaluator)
  bool pure = true;  // may be folded when its arguments are constants
};

std::span<const Function> Functions();
// The function `name` calls: with `helpers`, GlassFlow's functions come first (they
// override the builtins of the same name). -1 when there is none.
int FindFunction(std::string_view name, bool helpers);

// Library parts (builtins.cc, helpers.cc, timefns.cc), concatenated by Functions().
std::span<const Function> BuiltinFunctions();
std::span<const Function> HelperFunctions();
std::span<const Function> TimeFunctions();

// Shared by the library: argument conversions with expr's messages.
bool NeedString(CallCtx& c, std::string_view fn, const Value& v, std::string_view* out);
bool NeedInt(CallCtx& c, std::string_view fn, const Value& v, int64_t* out);

// Go string functions shared by the builtins and the helpers (builtins.cc).
std::string_view CaseMap(std::string_view s, bool upper, Arena& arena);
std::string_view TrimSpace(std::string_view s);
size_t RuneCount(std::string_view s);
Value SplitGo(std::string_view s, std::string_view sep, int64_t n, bool after, Arena& arena);
std::string_view ReplaceGo(std::string_view s, std::string_view from, std::string_view to,
                           int64_t n, Arena& arena);
bool ParseFloatGo(std::string_view s, double* out);
// A JSON text as values (numbers as float64, as encoding/json decodes them).
bool ParseJsonValue(std::string_view text, Arena& arena, Value* out, std::string* error);

// Time methods (t.Unix(), d.Hours(), ...), timefns.cc.
bool CallMethod(CallCtx& c, std::string_view name, const Value& self, std::span<const Value> args,
                Value* out);

}  // namespace sluice::expr
