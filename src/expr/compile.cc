// Compiling: parse, resolve names (let variables, record fields, functions), check the
// types that are known statically, precompile literal regular expressions and fold
// constant sub-expressions (so `1 % 0` is a compile error, as in expr).
#include <re2/re2.h>

#include "core/cat.h"
#include "expr/compiled.h"
#include "expr/lexer.h"
#include "expr/parser.h"

namespace sluice::expr {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kUnknown: return "interface {}";
    case Type::kNil: return "nil";
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kFloat: return "float64";
    case Type::kString: return "string";
    case Type::kArray: return "[]interface {}";
    case Type::kMap: return "map[string]interface {}";
    case Type::kTime: return "time.Time";
    case Type::kDuration: return "time.Duration";
  }
  return "?";
}

namespace {

constexpr int kMaxCheckDepth = 1000;

class NoRecord : public Record {
 public:
  Value Field(int, Arena&) const override { return Value::Nil(); }
  Value All(Arena&) const override { return Value::Map(nullptr, 0); }
};

bool IsNum(Type t) { return t == Type::kInt || t == Type::kFloat; }
bool Known(Type t) { return t != Type::kUnknown; }

class Checker {
 public:
  Checker(Compiled& c, const CompileOptions& o) : c_(c), o_(o) {}

  Type Check(int id);
  bool failed() const { return !err_.empty(); }
  // The error, formatted with its position.
  std::string error() const { return formatted_ ? err_ : FormatError(c_.src, err_pos_, err_); }

 private:
  Type Fail(int pos, std::string msg) {
    if (err_.empty()) err_ = std::move(msg), err_pos_ = pos;
    return Type::kUnknown;
  }
  Type Binary(Node& n, Type a, Type b);
  Type Call(int id);
  void Fold(int id);

  Compiled& c_;
  const CompileOptions& o_;
  std::vector<std::pair<std::string, Type>> scope_;
  std::string err_;
  int err_pos_ = 0;
  bool formatted_ = false;
  int depth_ = 0;
};

Type Checker::Check(int id) {
  if (failed()) return Type::kUnknown;
  if (++depth_ > kMaxCheckDepth) {
    --depth_;
    return Fail(c_.nodes[id].pos,
                Cat("expression nested too deeply (at most ", kMaxCheckDepth, " levels)"));
  }
  struct Leave {
    int* d;
    ~Leave() { --*d; }
  } leave{&depth_};
  Node& n = c_.nodes[id];
  Type t = Type::kUnknown;
  switch (n.op) {
    case Op::kLit:
      if (n.slot == 1) n.lit = Value::Str(c_.constants.Copy(n.name)), n.slot = -1;
      switch (n.lit.kind) {
        case Kind::kNil: return Type::kNil;
        case Kind::kBool: return Type::kBool;
        case Kind::kInt: return Type::kInt;
        case Kind::kFloat: return Type::kFloat;
        case Kind::kString: return Type::kString;
        default: return Type::kUnknown;
      }
    case Op::kIdent: {
      for (size_t k = scope_.size(); k-- > 0;)
        if (scope_[k].first == n.name) {
          n.op = Op::kVar;
          n.slot = static_cast<int>(k);
          return scope_[k].second;
        }
      Type ft = Type::kUnknown;
      n.slot = o_.schema ? o_.schema->Resolve(n.name, &ft) : -1;
      if (n.slot < 0) {
        if (o_.checked) return Fail(n.pos, Cat("unknown name ", n.name));
        return Type::kUnknown;  // reads as nil
      }
      return o_.checked ? ft : Type::kUnknown;
    }
    case Op::kEnv: return Type::kMap;
    case Op::kPointer: return Type::kUnknown;
    case Op::kVar: return scope_[n.slot].second;
    case Op::kMember: {
      const Type obj = Check(n.a);
      const Type key = Check(n.b);
      if (failed()) return t;
      if (obj == Type::kString || IsNum(obj) || obj == Type::kBool || obj == Type::kNil) {
        const Node& k = c_.nodes[n.b];
        if (obj == Type::kString && key == Type::kInt)
          return Fail(n.pos, "type string[int] is undefined");
        if (k.op == Op::kLit && k.lit.kind == Kind::kString)
          return Fail(n.pos, Cat("type ", TypeName(obj), " has no field ", k.lit.s));
        return Fail(n.pos, Cat("type ", TypeName(obj), "[", TypeName(key), "] is undefined"));
      }
      if (obj == Type::kArray && key == Type::kString)
        return Fail(n.pos,
                    Cat("array elements can only be selected using an integer (got string)"));
      if (obj == Type::kMap && Known(key) && key != Type::kString)
        return Fail(n.pos, Cat("cannot use ", TypeName(key),
                               " to get an element from map[string]interface {}"));
      return Type::kUnknown;
    }
    case Op::kSlice: {
      const Type obj = Check(n.a);
      if (n.b >= 0) Check(n.b);
      if (n.c >= 0) Check(n.c);
      if (Known(obj) && obj != Type::kArray && obj != Type::kString)
        return Fail(n.pos, Cat("cannot slice ", TypeName(obj)));
      return obj == Type::kString || obj == Type::kArray ? obj : Type::kUnknown;
    }
    case Op::kCall: t = Call(id); break;
    case Op::kMethod: {
      const Type self = Check(n.a);
      for (int a : n.args) Check(a);
      if (Known(self) && self != Type::kTime && self != Type::kDuration)
        return Fail(n.pos, Cat("type ", TypeName(self), " has no method ", n.name));
      return Type::kUnknown;
    }
    case Op::kUnary: {
      const Type a = Check(n.a);
      if (failed()) return t;
      if (n.name == "!") {
        if (Known(a) && a != Type::kBool)
          return Fail(n.pos, Cat("invalid operation: ! (mismatched type ", TypeName(a), ")"));
        t = Type::kBool;
      } else {
        if (Known(a) && !IsNum(a) && !(a == Type::kDuration && n.name == "-"))
          return Fail(n.pos,
                      Cat("invalid operation: ", n.name, " (mismatched type ", TypeName(a), ")"));
        t = a;
      }
      break;
    }
    case Op::kAnd:
    case Op::kOr: {
      const Type a = Check(n.a), b = Check(n.b);
      if (failed()) return t;
      if ((Known(a) && a != Type::kBool) || (Known(b) && b != Type::kBool))
        return Fail(n.pos, Cat("invalid operation: ", n.op == Op::kAnd ? "&&" : "||",
                               " (mismatched types ", TypeName(a), " and ", TypeName(b), ")"));
      t = a == Type::kBool && b == Type::kBool ? Type::kBool : Type::kUnknown;
      break;
    }
    case Op::kCoalesce: {
      const Type a = Check(n.a), b = Check(n.b);
      t = a == Type::kNil ? b : a == b ? a : Type::kUnknown;
      break;
    }
    case Op::kTernary: {
      const Type cond = Check(n.a);
      const Type a = Check(n.b), b = Check(n.c);
      if (failed()) return t;
      if (Known(cond) && cond != Type::kBool)
        return Fail(n.pos,
                    Cat("non-bool expression (type ", TypeName(cond), ") used as condition"));
      t = a == b ? a : Type::kUnknown;
      break;
    }
    case Op::kArray:
      for (int a : n.args) Check(a);
      return Type::kArray;
    case Op::kMap:
      for (size_t k = 0; k < n.args.size(); ++k) {
        if (n.key_exprs[k] >= 0) {
          const Type kt = Check(n.key_exprs[k]);
          if (Known(kt) && kt != Type::kString)
            return Fail(c_.nodes[n.key_exprs[k]].pos,
                        Cat("a map key must be a string, got ", TypeName(kt)));
        }
        Check(n.args[k]);
      }
      return Type::kMap;
    case Op::kLet: {
      if (FindFunction(n.name, o_.helpers) >= 0)
        return Fail(n.pos, Cat("cannot redeclare builtin ", n.name));
      for (const auto& s : scope_)
        if (s.first == n.name) return Fail(n.pos, Cat("cannot redeclare variable ", n.name));
      Type ignored;
      if (o_.checked && o_.schema && o_.schema->Resolve(n.name, &ignored) >= 0)
        return Fail(n.pos, Cat("cannot redeclare ", n.name));
      const Type v = Check(n.a);
      scope_.push_back({n.name, v});
      n.slot = static_cast<int>(scope_.size() - 1);
      c_.max_vars = std::max(c_.max_vars, static_cast<int>(scope_.size()));
      t = Check(n.b);
      scope_.pop_back();
      return t;
    }
    case Op::kSeq:
      for (int a : n.args) t = Check(a);
      return t;
    case Op::kClosure: Check(n.a); return Type::kUnknown;
    case Op::kBinary: {
      const Type a = Check(n.a), b = Check(n.b);
      if (failed()) return t;
      t = Binary(n, a, b);
      break;
    }
  }
  if (!failed()) Fold(id);
  return t;
}

BinOp BinOpOf(std::string_view op) {
  static const std::pair<std::string_view, BinOp> kOps[] = {{"+", BinOp::kAdd},
                                                            {"-", BinOp::kSub},
                                                            {"*", BinOp::kMul},
                                                            {"/", BinOp::kDiv},
                                                            {"%", BinOp::kMod},
                                                            {"**", BinOp::kPow},
                                                            {"==", BinOp::kEq},
                                                            {"!=", BinOp::kNe},
                                                            {"<", BinOp::kLt},
                                                            {">", BinOp::kGt},
                                                            {"<=", BinOp::kLe},
                                                            {">=", BinOp::kGe},
                                                            {"in", BinOp::kIn},
                                                            {"matches", BinOp::kMatches},
                                                            {"contains", BinOp::kContains},
                                                            {"startsWith", BinOp::kStartsWith},
                                                            {"endsWith", BinOp::kEndsWith},
                                                            {"..", BinOp::kRange}};
  for (const auto& [text, code] : kOps)
    if (op == text) return code;
  return BinOp::kNone;
}

Type Checker::Binary(Node& n, Type a, Type b) {
  const std::string& op = n.name;
  n.bin = BinOpOf(op);
  auto mismatch = [&] {
    return Fail(n.pos, Cat("invalid operation: ", op, " (mismatched types ", TypeName(a), " and ",
                           TypeName(b), ")"));
  };
  const bool both = Known(a) && Known(b);
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "**") {
    if (!both) {
      if (op == "/" || op == "**") return Type::kFloat;
      if (op == "%") return Type::kInt;
      return Type::kUnknown;
    }
    if (IsNum(a) && IsNum(b)) {
      if (op == "%") return a == Type::kInt && b == Type::kInt ? Type::kInt : mismatch();
      if (op == "/" || op == "**") return Type::kFloat;
      return a == Type::kInt && b == Type::kInt ? Type::kInt : Type::kFloat;
    }
    if (op == "+" && a == Type::kString && b == Type::kString) return Type::kString;
    if (op == "+" &&
        ((a == Type::kTime && b == Type::kDuration) || (a == Type::kDuration && b == Type::kTime)))
      return Type::kTime;
    if ((op == "+" || op == "-") && a == Type::kDuration && b == Type::kDuration)
      return Type::kDuration;
    if (op == "-" && a == Type::kTime && b == Type::kTime) return Type::kDuration;
    if (op == "-" && a == Type::kTime && b == Type::kDuration) return Type::kTime;
    if (op == "*" && ((a == Type::kDuration && IsNum(b)) || (IsNum(a) && b == Type::kDuration)))
      return Type::kDuration;
    return mismatch();
  }
  if (op == "==" || op == "!=") {
    if (both && a != b && !(IsNum(a) && IsNum(b)) && a != Type::kNil && b != Type::kNil)
      return mismatch();
    return Type::kBool;
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    if (both && !(IsNum(a) && IsNum(b)) &&
        !(a == b && (a == Type::kString || a == Type::kTime || a == Type::kDuration)))
      return mismatch();
    if ((Known(a) && !IsNum(a) && a != Type::kString && a != Type::kTime && a != Type::kDuration) ||
        (Known(b) && !IsNum(b) && b != Type::kString && b != Type::kTime && b != Type::kDuration))
      return mismatch();
    return Type::kBool;
  }
  if (op == "in") {
    if (Known(b) && b != Type::kArray && b != Type::kMap && b != Type::kNil) return mismatch();
    if (b == Type::kMap && Known(a) && a != Type::kString) return mismatch();
    return Type::kBool;
  }
  if (op == "matches" || op == "contains" || op == "startsWith" || op == "endsWith") {
    if ((Known(a) && a != Type::kString && a != Type::kNil) ||
        (Known(b) && b != Type::kString && b != Type::kNil))
      return mismatch();
    const Node& pat = c_.nodes[n.b];
    if (op == "matches" && pat.op == Op::kLit && pat.lit.kind == Kind::kString) {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_shared<re2::RE2>(pat.lit.s, opts);
      if (!re->ok()) return Fail(pat.pos, Cat("error parsing regexp: ", re->error()));
      n.regex = std::move(re);
    }
    return Type::kBool;
  }
  if (op == "..") {
    if ((Known(a) && a != Type::kInt) || (Known(b) && b != Type::kInt)) return mismatch();
    return Type::kArray;
  }
  return Fail(n.pos, Cat("unknown operator ", op));
}

Type Checker::Call(int id) {
  Node& n = c_.nodes[id];
  n.slot = FindFunction(n.name, o_.helpers);
  std::vector<Type> args;
  for (int a : n.args) args.push_back(Check(a));
  if (failed()) return Type::kUnknown;
  if (n.slot < 0) {
    if (o_.checked) return Fail(n.pos, Cat("unknown name ", n.name));
    return Type::kUnknown;  // fails when called, as an unknown function does in expr
  }
  const Function& f = Functions()[n.slot];
  const int count = static_cast<int>(n.args.size());
  if (!f.helper) {
    if (count < f.min_args) return Fail(n.pos, Cat("not enough arguments to call ", n.name));
    if (f.max_args >= 0 && count > f.max_args)
      return Fail(n.pos, Cat("too many arguments to call ", n.name));
    // Functions whose first `strings` arguments must be strings.
    static const std::pair<const char*, size_t> kStringFns[] = {
        {"trim", 2},      {"trimPrefix", 2}, {"trimSuffix", 2}, {"upper", 1},    {"lower", 1},
        {"split", 2},     {"splitAfter", 2}, {"replace", 3},    {"indexOf", 2},  {"lastIndexOf", 2},
        {"hasPrefix", 2}, {"hasSuffix", 2},  {"fromJSON", 1},   {"toBase64", 1}, {"fromBase64", 1},
        {"duration", 1},  {"date", 3},       {"timezone", 1},   {"repeat", 1}};
    for (const auto& [fn, strings] : kStringFns)
      if (n.name == fn)
        for (size_t k = 0; k < args.size() && k < strings; ++k)
          if (Known(args[k]) && args[k] != Type::kString)
            return Fail(n.pos, Cat("cannot use ", TypeName(args[k]),
                                   " as argument (type string) to call ", n.name));
    if (n.name == "concat")
      for (Type a : args)
        if (Known(a) && a != Type::kArray) return Fail(n.pos, Cat("cannot concat ", TypeName(a)));
    if (n.name == "len" && Known(args[0]) && args[0] != Type::kString && args[0] != Type::kArray &&
        args[0] != Type::kMap)
      return Fail(n.pos, Cat("invalid argument for len (type ", TypeName(args[0]), ")"));
    if ((n.name == "ceil" || n.name == "floor" || n.name == "round" || n.name == "abs") &&
        Known(args[0]) && !IsNum(args[0]))
      return Fail(n.pos, Cat("invalid argument for ", n.name, " (type ", TypeName(args[0]), ")"));
    if (!f.fn && Known(args[0]) && args[0] != Type::kArray)
      return Fail(n.pos,
                  Cat("builtin ", n.name, " takes only array (got ", TypeName(args[0]), ")"));
    if (n.name == "abs") return args[0];
  }
  return f.result;
}

void Checker::Fold(int id) {
  Node& n = c_.nodes[id];
  bool foldable = n.op == Op::kUnary || n.op == Op::kBinary || n.op == Op::kAnd ||
                  n.op == Op::kOr || n.op == Op::kCoalesce || n.op == Op::kTernary;
  if (n.op == Op::kCall && n.slot >= 0) {
    const Function& f = Functions()[n.slot];
    foldable = f.fn != nullptr && f.pure && n.name != "repeat";
  }
  if (n.op == Op::kBinary && n.name == "..") foldable = false;
  if (!foldable) return;
  auto lit = [&](int child) { return child < 0 || c_.nodes[child].op == Op::kLit; };
  if (!lit(n.a) || !lit(n.b) || !lit(n.c)) return;
  for (int a : n.args)
    if (!lit(a)) return;
  if (c_.constants.used() > (1u << 20)) return;
  NoRecord none;
  Value v;
  std::string error;
  if (!EvalNode(c_, id, none, c_.constants, &v, &error)) {
    // An operator on constants that fails is a compile error (expr folds `1 % 0`); a
    // function call that fails is left to fail when it runs, as in expr.
    if (n.op != Op::kCall && err_.empty()) err_ = error, formatted_ = true;
    return;
  }
  n.op = Op::kLit;
  n.lit = v;
  n.slot = -1;
  n.args.clear();
  n.a = n.b = n.c = -1;
}

// Levels of every node (bottom-up), then the memo marks: a node of level 1 or 2 whose
// parent is per record and which does real work (not a bare name or literal).
uint8_t Levels(Compiled& c, int id, const Schema* schema, int depth = 0) {
  if (id < 0) return 0;
  Node& n = c.nodes[id];
  uint8_t l = 0;
  auto take = [&](int child) { l = std::max(l, Levels(c, child, schema, depth + 1)); };
  switch (n.op) {
    case Op::kLit: l = 0; break;
    case Op::kIdent:
      l = n.slot >= 0 && schema ? static_cast<uint8_t>(schema->Level(n.slot)) : 3;
      break;
    case Op::kEnv:
    case Op::kVar:
    case Op::kPointer:
    case Op::kClosure:
    case Op::kLet:
    case Op::kSeq: l = 3; break;
    case Op::kCall:
      if (n.slot < 0 || !Functions()[n.slot].pure || !Functions()[n.slot].fn) l = 3;
      break;
    default: break;
  }
  take(n.a);
  take(n.b);
  take(n.c);
  for (int a : n.args) take(a);
  for (int k : n.key_exprs) take(k);
  if (n.op == Op::kEnv || n.op == Op::kVar || n.op == Op::kPointer || n.op == Op::kClosure ||
      n.op == Op::kLet || n.op == Op::kSeq)
    l = 3;
  if (depth > kMaxCheckDepth) l = 3;
  n.level = l;
  return l;
}

void MarkMemo(Compiled& c, int id, uint8_t parent_level) {
  if (id < 0) return;
  Node& n = c.nodes[id];
  if ((n.level == 1 || n.level == 2) && parent_level == 3 && n.op != Op::kIdent &&
      n.op != Op::kLit) {
    n.memo = true;
    return;
  }
  if (n.level != 3) return;
  for (int child : {n.a, n.b, n.c}) MarkMemo(c, child, n.level);
  for (int a : n.args) MarkMemo(c, a, n.level);
}

}  // namespace

StatusOr<Program> Program::Compile(std::string_view src, const CompileOptions& options) {
  auto tree = Parse(src);
  if (!tree.ok()) return tree.status();
  auto c = std::make_shared<Compiled>();
  c->src = std::string(src);
  c->nodes = std::move(tree->nodes);
  c->root = tree->root;
  Checker checker(*c, options);
  c->type = checker.Check(c->root);
  if (checker.failed()) return absl::InvalidArgumentError(checker.error());
  Levels(*c, c->root, options.schema);
  MarkMemo(*c, c->root, 3);
  Program p;
  p.impl_ = std::move(c);
  return p;
}

bool Program::Run(const Record& record, Arena& arena, Value* out, std::string* error) const {
  return Evaluate(*impl_, record, arena, out, error);
}

Type Program::result_type() const { return impl_ ? impl_->type : Type::kUnknown; }

const std::string& Program::source() const {
  static const std::string empty;
  return impl_ ? impl_->src : empty;
}

int Program::bare_field() const {
  if (!impl_) return -1;
  const Node& n = impl_->nodes[impl_->root];
  return n.op == Op::kIdent ? n.slot : -1;
}

}  // namespace sluice::expr
