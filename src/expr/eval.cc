// The tree-walking evaluator: expr's run-time semantics (expressions.md §1.5-1.7).
// Values are handles into the record's bytes or the caller's arena; the variable and
// predicate stacks are per-thread and reused, so a run allocates nothing on the heap
// outside the arena (error messages aside).
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/cat.h"
#include "expr/compiled.h"
#include "expr/lexer.h"
#include "expr/ops.h"

namespace sluice::expr {

namespace {

constexpr size_t kMemoryBudget = 64u << 20;  // arena bytes one evaluation may use
constexpr int64_t kMaxElements = 1000000;
constexpr uint64_t kMaxSteps = 50000000;

struct Frame {
  const Value* items = nullptr;
  size_t n = 0;
  size_t index = 0;
  Value acc;
};

class Evaluator {
 public:
  Evaluator(const Compiled& c, const Record& rec, Arena& arena, std::string* err)
      : c_(c), rec_(rec), arena_(arena), err_(err) {
    thread_local std::vector<Value> vars;
    thread_local std::vector<Frame> frames;
    vars_ = &vars;
    frames_ = &frames;
    vars_base_ = vars.size();
    frames_base_ = frames.size();
    vars.resize(vars_base_ + static_cast<size_t>(c.max_vars));
  }
  ~Evaluator() {
    vars_->resize(vars_base_);
    frames_->resize(frames_base_);
  }

  bool Eval(int id, Value* out);

 private:
  bool Fail(int pos, std::string_view msg) {
    *err_ = FormatError(c_.src, pos, msg);
    return false;
  }
  bool NeedBool(const Node& n, const Value& v, bool* out) {
    if (v.kind == Kind::kBool) {
      *out = v.b;
      return true;
    }
    return Fail(n.pos, Cat("interface conversion: interface {} is ",
                           v.nil() ? std::string_view("nil") : GoTypeName(v), ", not bool"));
  }
  bool Budget(const Node& n) {
    if (arena_.used() > kMemoryBudget) return Fail(n.pos, "memory budget exceeded");
    return true;
  }
  bool Member(const Node& n, Value* out);
  bool EvalNode(int id, Value* out);
  // A resource- or scope-level part: its result is remembered per envelope when the
  // record allows and the result does not live in the arena (which is reset per record).
  bool Memoized(int id, Value* out) {
    const Node& n = c_.nodes[id];
    const uint64_t env = rec_.Envelope(n.level);
    MemoSlot* slot = env ? const_cast<Record&>(rec_).Memo(&c_, id) : nullptr;
    if (slot && slot->program == &c_ && slot->envelope == env) {
      *out = slot->value;
      return true;
    }
    if (!EvalNode(id, out)) return false;
    if (slot) {
      const bool in_arena = (out->kind == Kind::kString && arena_.Contains(out->s.data())) ||
                            out->kind == Kind::kArray || out->kind == Kind::kMap ||
                            out->kind == Kind::kAnyMap || out->kind == Kind::kAttrs;
      if (!in_arena) {
        slot->program = &c_;
        slot->envelope = env;
        slot->value = *out;
      }
    }
    return true;
  }
  bool Slice(const Node& n, Value* out);
  bool Call(const Node& n, Value* out);
  bool Predicate(const Node& n, std::string_view name, Value* out);
  bool Binary(const Node& n, Value* out);
  bool Arith(const Node& n, std::string_view op, const Value& a, const Value& b, Value* out);
  bool Index(const Node& n, const Value& obj, const Value& key, Value* out);

  const Compiled& c_;
  const Record& rec_;
  Arena& arena_;
  std::string* err_;
  std::vector<Value>* vars_;
  std::vector<Frame>* frames_;
  size_t vars_base_, frames_base_;
  bool chain_nil_ = false;  // an optional link of the current member chain met nil
  uint64_t steps_ = 0;
};

bool IsChainLink(Op op) { return op == Op::kMember || op == Op::kSlice || op == Op::kMethod; }

bool Evaluator::Eval(int id, Value* out) {
  const Node& n = c_.nodes[id];
  // Every step is bounded: an expression that loops over large inputs stops with an error
  // instead of holding its thread (expr has no such limit; no real record comes near it).
  if (++steps_ > kMaxSteps) return Fail(n.pos, "evaluation exceeds 50,000,000 steps");
  if (n.memo) return Memoized(id, out);
  return EvalNode(id, out);
}

bool Evaluator::EvalNode(int id, Value* out) {
  const Node& n = c_.nodes[id];
  switch (n.op) {
    case Op::kLit: *out = n.lit; return true;
    case Op::kIdent: *out = n.slot < 0 ? Value::Nil() : rec_.Field(n.slot, arena_); return true;
    case Op::kEnv: *out = rec_.All(arena_); return true;
    case Op::kVar: *out = (*vars_)[vars_base_ + n.slot]; return true;
    case Op::kPointer: {
      if (frames_->size() <= frames_base_)
        return Fail(n.pos, "cannot use pointer accessor outside predicate");
      const Frame& f = frames_->back();
      if (n.name.empty())
        *out = f.items[f.index];
      else if (n.name == "index")
        *out = Value::Int(static_cast<int64_t>(f.index));
      else
        *out = f.acc;
      return true;
    }
    case Op::kMember: return Member(n, out);
    case Op::kSlice: return Slice(n, out);
    case Op::kCall: return Call(n, out);
    case Op::kMethod: {
      Value self;
      chain_nil_ = false;
      if (!Eval(n.a, &self)) return false;
      if (self.nil() && (n.optional || (chain_nil_ && IsChainLink(c_.nodes[n.a].op)))) {
        chain_nil_ = true;
        *out = Value::Nil();
        return true;
      }
      Value* args = arena_.Make<Value>(n.args.size());
      for (size_t k = 0; k < n.args.size(); ++k)
        if (!Eval(n.args[k], &args[k])) return false;
      CallCtx cc{arena_, err_};
      if (!CallMethod(cc, n.name, self, {args, n.args.size()}, out)) return Fail(n.pos, *err_);
      return true;
    }
    case Op::kUnary: {
      Value v;
      if (!Eval(n.a, &v)) return false;
      if (n.name == "!") {
        bool b;
        if (!NeedBool(n, v, &b)) return false;
        *out = Value::Bool(!b);
        return true;
      }
      if (v.kind == Kind::kInt || v.kind == Kind::kByte) {
        *out =
            Value::Int(n.name == "-" ? static_cast<int64_t>(0 - static_cast<uint64_t>(v.i)) : v.i);
      } else if (v.kind == Kind::kFloat) {
        *out = Value::Float(n.name == "-" ? -v.f : v.f);
      } else if (v.kind == Kind::kDuration && n.name == "-") {
        *out = Value::Dur(-v.i);
      } else {
        return Fail(n.pos, Cat("invalid operation: ", n.name, GoTypeName(v)));
      }
      return true;
    }
    case Op::kAnd:
    case Op::kOr: {
      Value l;
      if (!Eval(n.a, &l)) return false;
      bool b;
      if (!NeedBool(n, l, &b)) return false;
      if (b == (n.op == Op::kOr)) {
        *out = l;
        return true;
      }
      return Eval(n.b, out);  // the right operand's value, unchanged
    }
    case Op::kCoalesce: {
      if (!Eval(n.a, out)) return false;
      if (!out->nil()) return true;
      return Eval(n.b, out);
    }
    case Op::kTernary: {
      Value cond;
      if (!Eval(n.a, &cond)) return false;
      bool b;
      if (cond.kind != Kind::kBool)
        return Fail(n.pos,
                    Cat("non-bool expression (type ", GoTypeName(cond), ") used as condition"));
      b = cond.b;
      return Eval(b ? n.b : n.c, out);
    }
    case Op::kArray: {
      Value* items = arena_.Make<Value>(n.args.size());
      for (size_t k = 0; k < n.args.size(); ++k)
        if (!Eval(n.args[k], &items[k])) return false;
      *out = Value::Array({items, n.args.size()});
      return true;
    }
    case Op::kMap: {
      Entry* e = arena_.Make<Entry>(n.args.size());
      size_t count = 0;
      for (size_t k = 0; k < n.args.size(); ++k) {
        std::string_view key = n.keys[k];
        if (n.key_exprs[k] >= 0) {
          Value kv;
          if (!Eval(n.key_exprs[k], &kv)) return false;
          if (kv.kind != Kind::kString)
            return Fail(n.pos, Cat("interface conversion: interface {} is ", GoTypeName(kv),
                                   ", not string"));
          key = kv.s;
        }
        Value v;
        if (!Eval(n.args[k], &v)) return false;
        e[count].key = key;
        e[count].value = v;
        ++count;
      }
      *out = MakeMap(e, count, arena_, /*last_wins=*/false);  // the first occurrence wins
      return true;
    }
    case Op::kLet: {
      Value v;
      if (!Eval(n.a, &v)) return false;
      (*vars_)[vars_base_ + n.slot] = v;
      return Eval(n.b, out);
    }
    case Op::kSeq:
      for (int a : n.args)
        if (!Eval(a, out)) return false;
      return true;
    case Op::kClosure: return Eval(n.a, out);
    case Op::kBinary: return Binary(n, out);
  }
  return Fail(n.pos, "unsupported expression");
}

bool Evaluator::Index(const Node& n, const Value& obj, const Value& key, Value* out) {
  switch (obj.kind) {
    case Kind::kMap:
    case Kind::kAttrs:
      if (key.kind != Kind::kString)
        return Fail(n.pos, Cat("cannot use ", GoTypeName(key), " as map key"));
      if (!MapGet(obj, key.s, arena_, out)) *out = Value::Nil();
      return true;
    case Kind::kAnyMap:
      for (size_t k = 0; k < obj.n; ++k)
        if (Equal(obj.entries[k].kv, key) && obj.entries[k].kv.kind == key.kind) {
          *out = obj.entries[k].value;
          return true;
        }
      *out = Value::Nil();
      return true;
    case Kind::kArray:
    case Kind::kString: {
      if (!key.number()) {
        if (key.kind == Kind::kString)
          return Fail(n.pos, Cat("cannot fetch ", key.s, " from ", GoTypeName(obj)));
        return Fail(n.pos, Cat("invalid operation: cannot use ", GoTypeName(key), " as index to ",
                               GoTypeName(obj)));
      }
      int64_t i = key.kind == Kind::kFloat ? static_cast<int64_t>(key.f) : key.i;
      const int64_t len = static_cast<int64_t>(obj.kind == Kind::kArray ? obj.n : obj.s.size());
      if (i < 0) i += len;
      if (i < 0 || i >= len)
        return Fail(n.pos, Cat("index out of range: ",
                               key.kind == Kind::kFloat ? static_cast<int64_t>(key.f) : key.i,
                               " (array length is ", len, ")"));
      if (obj.kind == Kind::kArray) {
        *out = obj.items[i];
      } else {
        Value b;
        b.kind = Kind::kByte;
        b.i = static_cast<unsigned char>(obj.s[i]);
        *out = b;
      }
      return true;
    }
    case Kind::kNil: {
      std::string k;
      AppendGoV(key, &k);
      return Fail(n.pos, Cat("cannot fetch ", k, " from <nil>"));
    }
    default: {
      std::string k;
      AppendGoV(key, &k);
      return Fail(n.pos, Cat("cannot fetch ", k, " from ", GoTypeName(obj)));
    }
  }
}

bool Evaluator::Member(const Node& n, Value* out) {
  Value obj;
  chain_nil_ = false;
  if (!Eval(n.a, &obj)) return false;
  if (obj.nil() && (n.optional || (chain_nil_ && IsChainLink(c_.nodes[n.a].op)))) {
    chain_nil_ = true;
    *out = Value::Nil();
    return true;
  }
  Value key;
  if (!Eval(n.b, &key)) return false;
  chain_nil_ = false;
  return Index(n, obj, key, out);
}

bool Evaluator::Slice(const Node& n, Value* out) {
  Value obj;
  chain_nil_ = false;
  if (!Eval(n.a, &obj)) return false;
  if (obj.nil() && chain_nil_ && IsChainLink(c_.nodes[n.a].op)) {
    *out = Value::Nil();
    return true;
  }
  if (obj.kind != Kind::kArray && obj.kind != Kind::kString)
    return Fail(n.pos, Cat("cannot slice ", GoTypeName(obj)));
  const int64_t len = static_cast<int64_t>(obj.kind == Kind::kArray ? obj.n : obj.s.size());
  int64_t from = 0, to = len;
  for (int which = 0; which < 2; ++which) {
    const int child = which == 0 ? n.b : n.c;
    if (child < 0) continue;
    Value v;
    if (!Eval(child, &v)) return false;
    if (!v.number()) return Fail(n.pos, Cat("non-integer slice index ", GoTypeName(v)));
    int64_t i = v.kind == Kind::kFloat ? static_cast<int64_t>(v.f) : v.i;
    if (i < 0) i += len;
    i = std::clamp<int64_t>(i, 0, len);
    (which == 0 ? from : to) = i;
  }
  if (from > to) from = to;
  if (obj.kind == Kind::kArray)
    *out = Value::Array({obj.items + from, static_cast<size_t>(to - from)});
  else
    *out = Value::Str(obj.s.substr(from, to - from));
  return true;
}

bool Evaluator::Call(const Node& n, Value* out) {
  if (n.slot < 0) return Fail(n.pos, "invalid operation: cannot call nil");
  const Function& f = Functions()[n.slot];
  if (!f.fn) return Predicate(n, f.name, out);
  Value* args = arena_.Make<Value>(n.args.size());
  for (size_t k = 0; k < n.args.size(); ++k)
    if (!Eval(n.args[k], &args[k])) return false;
  CallCtx cc{arena_, err_};
  if (!f.fn(cc, {args, n.args.size()}, out)) return Fail(n.pos, *err_);
  return Budget(n);
}

bool Evaluator::Predicate(const Node& n, std::string_view name, Value* out) {
  Value coll;
  if (!Eval(n.args[0], &coll)) return false;
  if (coll.kind != Kind::kArray) {
    if (coll.nil()) return Fail(n.pos, "cannot call reflect.Value.Len on zero Value");
    return Fail(n.pos, Cat("cannot iterate ", GoTypeName(coll)));
  }
  const int body = n.args.size() > 1 ? n.args[1] : -1;
  frames_->push_back(Frame{coll.items, coll.n, 0, {}});
  struct Pop {
    std::vector<Frame>* f;
    ~Pop() { f->pop_back(); }
  } pop{frames_};
  auto at = [&](size_t i) -> Frame& {
    Frame& f = frames_->back();
    f.index = i;
    return f;
  };
  auto test = [&](size_t i, bool* r) {
    at(i);
    Value v;
    if (!Eval(body, &v)) return false;
    if (v.kind != Kind::kBool)
      return Fail(n.pos, Cat("predicate must return a bool, got ", GoTypeName(v)));
    *r = v.b;
    return true;
  };
  const size_t len = coll.n;
  if (name == "all" || name == "any" || name == "none" || name == "one") {
    size_t hits = 0;
    for (size_t i = 0; i < len; ++i) {
      bool r;
      if (!test(i, &r)) return false;
      hits += r;
      if (name == "all" && !r) return *out = Value::Bool(false), true;
      if (name == "any" && r) return *out = Value::Bool(true), true;
      if (name == "none" && r) return *out = Value::Bool(false), true;
      if (name == "one" && hits > 1) return *out = Value::Bool(false), true;
    }
    *out = Value::Bool(name == "all" || name == "none" || (name == "one" && hits == 1));
    return true;
  }
  if (name == "filter" || name == "map") {
    ArrayBuilder ab(arena_, len);
    for (size_t i = 0; i < len; ++i) {
      if (name == "filter") {
        bool r;
        if (!test(i, &r)) return false;
        if (r) ab.Push(coll.items[i]);
      } else {
        at(i);
        Value v;
        if (!Eval(body, &v)) return false;
        ab.Push(v);
      }
      if (!Budget(n)) return false;
    }
    *out = ab.Done();
    return true;
  }
  if (name == "count") {
    int64_t c = 0;
    for (size_t i = 0; i < len; ++i) {
      bool r;
      if (body < 0) {
        if (coll.items[i].kind != Kind::kBool)
          return Fail(n.pos, Cat("interface conversion: interface {} is ",
                                 GoTypeName(coll.items[i]), ", not bool"));
        r = coll.items[i].b;
      } else if (!test(i, &r)) {
        return false;
      }
      c += r;
    }
    *out = Value::Int(c);
    return true;
  }
  if (name == "sum") {
    Value acc = Value::Int(0);
    for (size_t i = 0; i < len; ++i) {
      Value v = coll.items[i];
      if (body >= 0) {
        at(i);
        if (!Eval(body, &v)) return false;
      }
      if (!Arith(n, "+", acc, v, &acc)) return false;
      if (acc.kind != Kind::kInt && acc.kind != Kind::kFloat)
        return Fail(n.pos, Cat("invalid operation: sum of ", GoTypeName(v)));
    }
    *out = acc;
    return true;
  }
  if (name == "find" || name == "findIndex" || name == "findLast" || name == "findLastIndex") {
    const bool last = name.starts_with("findLast");
    const bool index = name.ends_with("Index");
    for (size_t k = 0; k < len; ++k) {
      const size_t i = last ? len - 1 - k : k;
      bool r;
      if (!test(i, &r)) return false;
      if (r) {
        *out = index ? Value::Int(static_cast<int64_t>(i)) : coll.items[i];
        return true;
      }
    }
    *out = Value::Nil();
    return true;
  }
  if (name == "groupBy") {
    // Keys in first-seen order; values arrays in element order. Quadratic in distinct keys
    // only, bounded by the memory budget.
    std::vector<std::pair<Value, std::vector<Value>>> groups;
    std::unordered_multimap<uint64_t, size_t> by_hash;
    for (size_t i = 0; i < len; ++i) {
      at(i);
      Value k;
      if (!Eval(body, &k)) return false;
      const uint64_t h = ValueHash(k);
      size_t g = groups.size();
      for (auto [it, end] = by_hash.equal_range(h); it != end && g == groups.size(); ++it)
        if (groups[it->second].first.kind == k.kind && Equal(groups[it->second].first, k))
          g = it->second;
      if (g == groups.size()) {
        by_hash.emplace(h, g);
        groups.push_back({k, {}});
      }
      groups[g].second.push_back(coll.items[i]);
    }
    Entry* e = arena_.Make<Entry>(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
      Value* items = arena_.Make<Value>(groups[g].second.size());
      std::copy(groups[g].second.begin(), groups[g].second.end(), items);
      e[g].kv = groups[g].first;
      if (groups[g].first.kind == Kind::kString) e[g].key = groups[g].first.s;
      e[g].value = Value::Array({items, groups[g].second.size()});
    }
    // expr's groupBy gives map[any][]any: not a string-keyed map for JSON.
    *out = Value::Map(e, groups.size(), /*any_keys=*/true);
    return true;
  }
  if (name == "sortBy") {
    bool desc = false;
    if (n.args.size() > 2) {
      Value o;
      if (!Eval(n.args[2], &o)) return false;
      if (o.kind != Kind::kString || (o.s != "asc" && o.s != "desc"))
        return Fail(n.pos, "unknown order, use asc or desc");
      desc = o.s == "desc";
    }
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t i = 0; i < len; ++i) {
      at(i);
      Value k;
      if (!Eval(body, &k)) return false;
      keyed.push_back({k, i});
    }
    bool bad = false;
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
      int c;
      if (!Compare(x.first, y.first, &c)) {
        bad = true;
        return false;
      }
      return desc ? c > 0 && c != 2 : c < 0;
    });
    if (bad) return Fail(n.pos, "sortBy: keys are not comparable");
    Value* items = arena_.Make<Value>(len);
    for (size_t i = 0; i < len; ++i) items[i] = coll.items[keyed[i].second];
    *out = Value::Array({items, len});
    return true;
  }
  if (name == "reduce") {
    size_t start = 0;
    Value acc;
    if (n.args.size() > 2) {
      if (!Eval(n.args[2], &acc)) return false;
    } else {
      if (len == 0) return Fail(n.pos, "reduce of empty array with no initial value");
      acc = coll.items[0];
      start = 1;
    }
    for (size_t i = start; i < len; ++i) {
      Frame& f = at(i);
      f.acc = acc;
      if (!Eval(body, &acc)) return false;
    }
    *out = acc;
    return true;
  }
  return Fail(n.pos, Cat("unknown predicate ", name));
}

bool Evaluator::Arith(const Node& n, std::string_view op, const Value& a, const Value& b,
                      Value* out) {
  const bool ints = (a.kind == Kind::kInt || a.kind == Kind::kByte) &&
                    (b.kind == Kind::kInt || b.kind == Kind::kByte);
  auto mismatch = [&] {
    return Fail(n.pos, Cat("invalid operation: ", GoTypeName(a), " ", op, " ", GoTypeName(b)));
  };
  if (a.number() && b.number()) {
    const uint64_t x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
    switch (op[0]) {
      case '+':
        *out = ints ? Value::Int(static_cast<int64_t>(x + y))
                    : Value::Float(a.AsDouble() + b.AsDouble());
        return true;
      case '-':
        *out = ints ? Value::Int(static_cast<int64_t>(x - y))
                    : Value::Float(a.AsDouble() - b.AsDouble());
        return true;
      case '*':
        if (op.size() == 2) {
          *out = Value::Float(std::pow(a.AsDouble(), b.AsDouble()));
          return true;
        }
        *out = ints ? Value::Int(static_cast<int64_t>(x * y))
                    : Value::Float(a.AsDouble() * b.AsDouble());
        return true;
      case '/': *out = Value::Float(a.AsDouble() / b.AsDouble()); return true;
      case '%':
        if (!ints) return mismatch();
        if (b.i == 0) return Fail(n.pos, "integer divide by zero");
        *out = Value::Int(b.i == -1 ? 0 : a.i % b.i);
        return true;
    }
  }
  if (op == "+") {
    if (a.kind == Kind::kString && b.kind == Kind::kString) {
      char* p = static_cast<char*>(arena_.Alloc(a.s.size() + b.s.size() + 1, 1));
      std::memcpy(p, a.s.data(), a.s.size());
      std::memcpy(p + a.s.size(), b.s.data(), b.s.size());
      *out = Value::Str({p, a.s.size() + b.s.size()});
      return Budget(n);
    }
    if (a.kind == Kind::kTime && b.kind == Kind::kDuration)
      return *out = Value::Time(a.i + b.i, a.aux), true;
    if (a.kind == Kind::kDuration && b.kind == Kind::kTime)
      return *out = Value::Time(a.i + b.i, b.aux), true;
    if (a.kind == Kind::kDuration && b.kind == Kind::kDuration)
      return *out = Value::Dur(a.i + b.i), true;
  }
  if (op == "-") {
    if (a.kind == Kind::kTime && b.kind == Kind::kTime) return *out = Value::Dur(a.i - b.i), true;
    if (a.kind == Kind::kTime && b.kind == Kind::kDuration)
      return *out = Value::Time(a.i - b.i, a.aux), true;
    if (a.kind == Kind::kDuration && b.kind == Kind::kDuration)
      return *out = Value::Dur(a.i - b.i), true;
  }
  if (op == "*") {
    if (a.kind == Kind::kDuration && b.number())
      return *out = Value::Dur(static_cast<int64_t>(a.i * (b.kind == Kind::kFloat ? b.f : b.i))),
             true;
    if (b.kind == Kind::kDuration && a.number())
      return *out = Value::Dur(static_cast<int64_t>(b.i * (a.kind == Kind::kFloat ? a.f : a.i))),
             true;
  }
  return mismatch();
}

bool Evaluator::Binary(const Node& n, Value* out) {
  Value a, b;
  if (!Eval(n.a, &a) || !Eval(n.b, &b)) return false;
  const std::string_view op = n.name;
  switch (n.bin) {
    case BinOp::kAdd:
    case BinOp::kSub:
    case BinOp::kMul:
    case BinOp::kDiv:
    case BinOp::kMod:
    case BinOp::kPow: return Arith(n, op, a, b, out);
    case BinOp::kEq:
    case BinOp::kNe:
      // Strings, the common case, compared without the general dispatch.
      if (a.kind == Kind::kString && b.kind == Kind::kString)
        *out = Value::Bool((a.s == b.s) == (n.bin == BinOp::kEq));
      else
        *out = Value::Bool(Equal(a, b) == (n.bin == BinOp::kEq));
      return true;
    case BinOp::kLt:
    case BinOp::kGt:
    case BinOp::kLe:
    case BinOp::kGe: {
      int c;
      if (!Compare(a, b, &c))
        return Fail(n.pos, Cat("invalid operation: ", GoTypeName(a), " ", op, " ", GoTypeName(b)));
      bool r = false;
      if (c != 2) {
        switch (n.bin) {
          case BinOp::kLt: r = c < 0; break;
          case BinOp::kGt: r = c > 0; break;
          case BinOp::kLe: r = c <= 0; break;
          default: r = c >= 0; break;
        }
      }
      *out = Value::Bool(r);
      return true;
    }
    default: break;
  }
  if (op == "in") {
    switch (b.kind) {
      case Kind::kNil: *out = Value::Bool(false); return true;
      case Kind::kArray:
        for (size_t k = 0; k < b.n; ++k)
          if (Equal(a, b.items[k])) return *out = Value::Bool(true), true;
        *out = Value::Bool(false);
        return true;
      case Kind::kMap:
      case Kind::kAttrs: {
        if (a.kind != Kind::kString)
          return Fail(n.pos, Cat("cannot use ", GoTypeName(a), " as type string in map key"));
        Value ignored;
        *out = Value::Bool(MapGet(b, a.s, arena_, &ignored));
        return true;
      }
      case Kind::kAnyMap:
        for (size_t k = 0; k < b.n; ++k)
          if (b.entries[k].kv.kind == a.kind && Equal(b.entries[k].kv, a))
            return *out = Value::Bool(true), true;
        *out = Value::Bool(false);
        return true;
      default: return Fail(n.pos, Cat("operator \"in\" not defined on ", GoTypeName(b)));
    }
  }
  if (op == "matches" || op == "contains" || op == "startsWith" || op == "endsWith") {
    if (a.nil() || b.nil()) {
      *out = Value::Bool(false);
      return true;
    }
    if (a.kind != Kind::kString || b.kind != Kind::kString)
      return Fail(n.pos, Cat("invalid operation: ", GoTypeName(a), " ", op, " ", GoTypeName(b)));
    if (op == "contains")
      *out = Value::Bool(a.s.find(b.s) != std::string_view::npos);
    else if (op == "startsWith")
      *out = Value::Bool(a.s.starts_with(b.s));
    else if (op == "endsWith")
      *out = Value::Bool(a.s.ends_with(b.s));
    else {
      if (n.regex) {
        *out = Value::Bool(re2::RE2::PartialMatch(a.s, *n.regex));
        return true;
      }
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      re2::RE2 re(b.s, opts);
      if (!re.ok()) return Fail(n.pos, Cat("error parsing regexp: ", re.error()));
      *out = Value::Bool(re2::RE2::PartialMatch(a.s, re));
    }
    return true;
  }
  if (op == "..") {
    if (a.kind != Kind::kInt || b.kind != Kind::kInt)
      return Fail(n.pos, Cat("invalid operation: ", GoTypeName(a), " .. ", GoTypeName(b)));
    const int64_t count = b.i < a.i ? 0 : b.i - a.i + 1;
    if (count > kMaxElements || count < 0) return Fail(n.pos, "memory budget exceeded");
    Value* items = arena_.Make<Value>(static_cast<size_t>(count));
    for (int64_t k = 0; k < count; ++k) items[k] = Value::Int(a.i + k);
    *out = Value::Array({items, static_cast<size_t>(count)});
    return Budget(n);
  }
  return Fail(n.pos, Cat("unknown operator ", op));
}

}  // namespace

bool EvalNode(const Compiled& c, int node, const Record& record, Arena& arena, Value* out,
              std::string* error) {
  Evaluator e(c, record, arena, error);
  return e.Eval(node, out);
}

bool Evaluate(const Compiled& c, const Record& record, Arena& arena, Value* out,
              std::string* error) {
  return EvalNode(c, c.root, record, arena, out, error);
}

}  // namespace sluice::expr
