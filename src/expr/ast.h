// The syntax tree of an expression, held in one vector (children by index), and the
// compile-time facts the parser and checker attach to it. Immutable once compiled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "expr/value.h"

namespace re2 {
class RE2;
}

namespace sluice::expr {

enum class Op : uint8_t {
  kLit,      // value
  kIdent,    // a field of the record (slot), or nil when unknown
  kEnv,      // $env: the whole record
  kVar,      // a let variable (slot = its index on the variable stack)
  kPointer,  // # (name "": the element), #index, #acc
  kMember,   // a[b] / a.b; optional = ?. ; a = object, b = key
  kSlice,    // a[b:c]; b / c may be -1
  kCall,     // builtin / helper `name` with args
  kMethod,   // a.name(args) on times and durations
  kUnary,    // name = "-", "+", "!"
  kBinary,   // name = the operator
  kAnd,
  kOr,
  kCoalesce,  // a ?? b
  kTernary,   // a ? b : c
  kArray,     // [args]
  kMap,       // {keys[i]: args[i]}
  kLet,       // let name = a; b
  kSeq,       // args..., value of the last
  kClosure,   // a predicate body (a = body)
};

// Binary and unary operators, decoded once when compiled.
enum class BinOp : uint8_t {
  kNone,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kLt,
  kGt,
  kLe,
  kGe,
  kIn,
  kMatches,
  kContains,
  kStartsWith,
  kEndsWith,
  kRange
};

struct Node {
  Op op = Op::kLit;
  BinOp bin = BinOp::kNone;
  // 0 constant, 1 resource-level, 2 scope-level, 3 per record (Schema::Level).
  uint8_t level = 3;
  // A largest part of level 1 or 2 inside a per-record expression: remembered per envelope.
  bool memo = false;
  bool optional = false;  // ?. / ?.[
  int pos = 0;            // byte offset in the source, for errors
  int a = -1, b = -1, c = -1;
  int slot = -1;  // kIdent: the record field; kVar: stack index; kCall: function id
  std::string name;
  std::vector<int> args;          // kCall, kMethod, kArray, kMap values, kSeq
  std::vector<std::string> keys;  // kMap: literal keys ("" with key_exprs[i] >= 0 for (expr))
  std::vector<int> key_exprs;
  Value lit;                        // kLit
  std::shared_ptr<re2::RE2> regex;  // kBinary "matches" with a literal pattern
};

}  // namespace sluice::expr
