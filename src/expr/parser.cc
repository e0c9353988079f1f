#include "expr/parser.h"

#include <cstring>

#include "core/cat.h"
#include "expr/lexer.h"

namespace sluice::expr {

namespace {

struct BinOp {
  const char* text;
  int prec;
  bool right;
};

constexpr BinOp kBinOps[] = {
    {"??", 500, false},        {"**", 100, true},       {"^", 100, true},
    {"*", 60, false},          {"/", 60, false},        {"%", 60, false},
    {"+", 30, false},          {"-", 30, false},        {"..", 25, false},
    {"==", 20, false},         {"!=", 20, false},       {"<", 20, false},
    {">", 20, false},          {"<=", 20, false},       {">=", 20, false},
    {"in", 20, false},         {"matches", 20, false},  {"contains", 20, false},
    {"startsWith", 20, false}, {"endsWith", 20, false}, {"and", 15, false},
    {"&&", 15, false},         {"or", 10, false},       {"||", 10, false},
    {"|", 0, false},
};

const BinOp* FindBinOp(const Token& t) {
  if (t.kind != Tok::kOperator) return nullptr;
  for (const BinOp& op : kBinOps)
    if (t.text == op.text) return &op;
  return nullptr;
}

bool IsLess(std::string_view op) { return op == "<" || op == ">" || op == "<=" || op == ">="; }

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> toks) : src_(src), t_(std::move(toks)) {}

  StatusOr<Tree> Run() {
    Tree tree;
    int root = ParseSequence();
    if (err_.empty() && Cur().kind != Tok::kEof)
      Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    if (!err_.empty()) return absl::InvalidArgumentError(FormatError(src_, err_pos_, err_));
    tree.nodes = std::move(nodes_);
    tree.root = root;
    return tree;
  }

 private:
  const Token& Cur() const { return t_[k_]; }
  const Token& Peek(size_t ahead = 1) const { return t_[std::min(k_ + ahead, t_.size() - 1)]; }
  void Next() {
    if (k_ + 1 < t_.size()) ++k_;
  }
  bool Failed() const { return !err_.empty(); }
  int Fail(int pos, std::string msg) {
    if (err_.empty()) {
      err_ = std::move(msg);
      err_pos_ = pos;
    }
    return -1;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEof: return "EOF";
      case Tok::kString: return Cat("String(\"", t.text, "\")");
      case Tok::kInt:
      case Tok::kFloat: return Cat("Number(\"", t.text, "\")");
      case Tok::kIdent: return Cat("Identifier(\"", t.text, "\")");
      case Tok::kOperator: return Cat("Operator(\"", t.text, "\")");
      case Tok::kBracket: return Cat("Bracket(\"", t.text, "\")");
      case Tok::kPunct: return Cat("Operator(\"", t.text, "\")");
    }
    return "token";
  }
  bool Expect(Tok k, std::string_view text) {
    if (Failed()) return false;
    if (!Cur().Is(k, text)) {
      Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
      return false;
    }
    Next();
    return true;
  }
  int Add(Node n) {
    if (nodes_.size() >= kMaxNodes)
      return Fail(n.pos, "compilation failed: expression exceeds maximum allowed nodes");
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size() - 1);
  }
  int Make(Op op, int pos, int a = -1, int b = -1, int c = -1, std::string name = {}) {
    Node n;
    n.op = op;
    n.pos = pos;
    n.a = a;
    n.b = b;
    n.c = c;
    n.name = std::move(name);
    return Add(std::move(n));
  }

  struct Depth {
    Parser* p;
    explicit Depth(Parser* parser) : p(parser) { ++p->depth_; }
    ~Depth() { --p->depth_; }
  };

  // sequence := stmt (';' stmt)* [';']
  int ParseSequence() {
    Depth d(this);
    if (depth_ > kMaxDepth) return Fail(Cur().pos, "expression nested too deeply");
    const int pos = Cur().pos;
    std::vector<int> items;
    while (!Failed()) {
      if (Cur().Is(Tok::kIdent, "let")) {
        int let = ParseLet();
        items.push_back(let);
        break;  // the let's body took the rest
      }
      items.push_back(ParseExpression(0));
      if (Failed()) return -1;
      if (!Cur().Is(Tok::kPunct, ";")) break;
      Next();
      if (Cur().kind == Tok::kEof || Cur().Is(Tok::kBracket, ")") || Cur().Is(Tok::kBracket, "}"))
        break;  // trailing ';'
    }
    if (Failed()) return -1;
    if (items.size() == 1) return items[0];
    Node n;
    n.op = Op::kSeq;
    n.pos = pos;
    n.args = std::move(items);
    return Add(std::move(n));
  }

  int ParseLet() {
    const int pos = Cur().pos;
    Next();
    if (Cur().kind != Tok::kIdent)
      return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    std::string name = Cur().text;
    Next();
    if (!Expect(Tok::kOperator, "=")) return -1;
    int value = ParseExpression(0);
    if (!Expect(Tok::kPunct, ";")) return -1;
    int body = ParseSequence();
    if (Failed()) return -1;
    return Make(Op::kLet, pos, value, body, -1, std::move(name));
  }

  int ParseIf() {
    const int pos = Cur().pos;
    Next();
    int cond = ParseExpression(0);
    if (!Expect(Tok::kBracket, "{")) return -1;
    int yes = ParseSequence();
    if (!Expect(Tok::kBracket, "}")) return -1;
    if (!Cur().Is(Tok::kIdent, "else"))
      return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    Next();
    int no;
    if (Cur().Is(Tok::kIdent, "if")) {
      no = ParseIf();
    } else {
      if (!Expect(Tok::kBracket, "{")) return -1;
      no = ParseSequence();
      if (!Expect(Tok::kBracket, "}")) return -1;
    }
    if (Failed()) return -1;
    return Make(Op::kTernary, pos, cond, yes, no);
  }

  int ParseExpression(int prec) {
    Depth d(this);
    if (depth_ > kMaxDepth) return Fail(Cur().pos, "expression nested too deeply");
    if (prec == 0 && Cur().Is(Tok::kIdent, "let")) return ParseLet();
    if (prec == 0 && Cur().Is(Tok::kIdent, "if")) return ParseIf();
    int left = ParsePrimary();
    std::string prev;
    while (!Failed()) {
      const Token& opt = Cur();
      if (opt.kind != Tok::kOperator) break;
      bool negate = false;
      size_t save = k_;
      if (opt.text == "not") {
        const Token& nx = Peek();
        const BinOp* op = FindBinOp(nx);
        if (!op || !(nx.text == "in" || nx.text == "matches" || nx.text == "contains" ||
                     nx.text == "startsWith" || nx.text == "endsWith"))
          return Fail(nx.pos, Cat("unexpected token ", Describe(nx)));
        if (op->prec < prec) break;
        Next();
        negate = true;
      }
      const Token& tok = Cur();
      const BinOp* op = FindBinOp(tok);
      if (!op || op->prec < prec) {
        k_ = save;
        break;
      }
      const int pos = tok.pos;
      const std::string text = tok.text;
      Next();
      if (text == "|") {
        left = ParsePipe(left, pos);
        prev = text;
        continue;
      }
      if (prev == "??" && text != "??")
        return Fail(pos, Cat("Operator (", text,
                             ") and coalesce expressions (?\?) cannot be mixed. Wrap either by "
                             "parentheses."));
      int right = ParseExpression(op->right ? op->prec : op->prec + 1);
      if (Failed()) return -1;
      int node;
      if (text == "and" || text == "&&")
        node = Make(Op::kAnd, pos, left, right);
      else if (text == "or" || text == "||")
        node = Make(Op::kOr, pos, left, right);
      else if (text == "??")
        node = Make(Op::kCoalesce, pos, left, right);
      else
        node = Make(Op::kBinary, pos, left, right, -1, text == "^" ? "**" : text);
      // a < b < c: (a < b) && (b < c)
      while (!Failed() && IsLess(text) && IsLess(Cur().text) && Cur().kind == Tok::kOperator) {
        const int p2 = Cur().pos;
        const std::string t2 = Cur().text;
        Next();
        int third = ParseExpression(op->prec + 1);
        int cmp = Make(Op::kBinary, p2, right, third, -1, t2);
        node = Make(Op::kAnd, p2, node, cmp);
        right = third;
      }
      if (negate) node = Make(Op::kUnary, pos, node, -1, -1, "!");
      left = node;
      prev = text;
    }
    if (Failed()) return -1;
    if (prec == 0) left = ParseConditional(left);
    return left;
  }

  int ParseConditional(int cond) {
    while (!Failed() && Cur().Is(Tok::kOperator, "?")) {
      const int pos = Cur().pos;
      Next();
      if (Cur().Is(Tok::kPunct, ":")) {  // elvis: a ?: b == a ? a : b
        Next();
        int no = ParseExpression(0);
        cond = Make(Op::kTernary, pos, cond, cond, no);
        continue;
      }
      int yes = ParseExpression(0);
      if (!Expect(Tok::kPunct, ":")) return -1;
      int no = ParseExpression(0);
      cond = Make(Op::kTernary, pos, cond, yes, no);
    }
    return Failed() ? -1 : cond;
  }

  int ParsePipe(int left, int pos) {
    if (Cur().kind != Tok::kIdent || !Peek().Is(Tok::kBracket, "("))
      return Fail(Cur().pos, "expected a function call after |");
    const Token name = Cur();
    Next();
    return ParseCall(name, left);
  }

  int ParsePrimary() {
    const Token& t = Cur();
    if (t.kind == Tok::kOperator &&
        (t.text == "not" || t.text == "!" || t.text == "-" || t.text == "+")) {
      const int pos = t.pos;
      const std::string op = t.text == "not" ? "!" : t.text;
      Next();
      int operand = ParseExpression(op == "!" ? 50 : 90);
      if (Failed()) return -1;
      return Make(Op::kUnary, pos, operand, -1, -1, op);
    }
    if (t.Is(Tok::kBracket, "(")) {
      Next();
      int inner = ParseSequence();
      if (!Expect(Tok::kBracket, ")")) return -1;
      return ParsePostfix(inner);
    }
    return ParsePostfix(ParseSecondary());
  }

  int ParseSecondary() {
    const Token t = Cur();
    switch (t.kind) {
      case Tok::kInt:
      case Tok::kFloat:
      case Tok::kString: {
        Next();
        Node n;
        n.op = Op::kLit;
        n.pos = t.pos;
        if (t.kind == Tok::kInt) n.lit = Value::Int(t.i);
        if (t.kind == Tok::kFloat) n.lit = Value::Float(t.f);
        if (t.kind == Tok::kString) {
          n.name = t.text;  // owns the bytes; the compiler points lit.s at it
          n.lit = Value::Str({});
          n.slot = 1;  // marks a string literal
        }
        return Add(std::move(n));
      }
      case Tok::kIdent: {
        Next();
        if (t.text == "true" || t.text == "false") {
          Node n;
          n.op = Op::kLit;
          n.pos = t.pos;
          n.lit = Value::Bool(t.text == "true");
          return Add(std::move(n));
        }
        if (t.text == "nil") return Make(Op::kLit, t.pos);
        if (t.text == "$env") return Make(Op::kEnv, t.pos);
        if (Cur().Is(Tok::kBracket, "(")) return ParseCall(t, -1);
        return Make(Op::kIdent, t.pos, -1, -1, -1, t.text);
      }
      case Tok::kPunct:
        if (t.text[0] == '#') {
          if (predicate_depth_ == 0)
            return Fail(t.pos, "cannot use pointer accessor outside predicate");
          Next();
          std::string which = t.text.substr(1);
          if (!which.empty() && which != "index" && which != "acc")
            return Fail(t.pos, Cat("unknown pointer #", which));
          return Make(Op::kPointer, t.pos, -1, -1, -1, which);
        }
        break;
      case Tok::kOperator:
        if (t.text == "." && predicate_depth_ > 0 && Peek().kind == Tok::kIdent) {
          Next();
          const Token name = Cur();
          Next();
          int ptr = Make(Op::kPointer, t.pos);
          Node n;
          n.op = Op::kLit;
          n.pos = name.pos;
          n.name = name.text;
          n.slot = 1;
          int key = Add(std::move(n));
          return Make(Op::kMember, t.pos, ptr, key);
        }
        break;
      case Tok::kBracket:
        if (t.text == "[") return ParseArray();
        if (t.text == "{") return ParseMap();
        break;
      default: break;
    }
    return Fail(t.pos, Cat("unexpected token ", Describe(t)));
  }

  int ParseArray() {
    const int pos = Cur().pos;
    Next();
    Node n;
    n.op = Op::kArray;
    n.pos = pos;
    while (!Failed() && !Cur().Is(Tok::kBracket, "]")) {
      n.args.push_back(ParseExpression(0));
      if (Cur().Is(Tok::kPunct, ",")) {
        Next();
        continue;
      }
      if (!Cur().Is(Tok::kBracket, "]"))
        return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    }
    if (!Expect(Tok::kBracket, "]")) return -1;
    return Add(std::move(n));
  }

  int ParseMap() {
    const int pos = Cur().pos;
    Next();
    Node n;
    n.op = Op::kMap;
    n.pos = pos;
    while (!Failed() && !Cur().Is(Tok::kBracket, "}")) {
      const Token& k = Cur();
      if (k.kind == Tok::kIdent || k.kind == Tok::kString || k.kind == Tok::kInt ||
          k.kind == Tok::kFloat ||
          (k.kind == Tok::kOperator && std::isalpha(static_cast<unsigned char>(k.text[0])))) {
        n.keys.push_back(k.text);
        n.key_exprs.push_back(-1);
        Next();
      } else if (k.Is(Tok::kBracket, "(")) {
        Next();
        n.keys.emplace_back();
        n.key_exprs.push_back(ParseExpression(0));
        if (!Expect(Tok::kBracket, ")")) return -1;
      } else {
        return Fail(k.pos,
                    "a map key must be a quoted string, a number, a identifier, or an expression "
                    "enclosed in parentheses");
      }
      if (!Expect(Tok::kPunct, ":")) return -1;
      n.args.push_back(ParseExpression(0));
      if (Cur().Is(Tok::kPunct, ",")) {
        Next();
        continue;
      }
      if (!Cur().Is(Tok::kBracket, "}"))
        return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    }
    if (!Expect(Tok::kBracket, "}")) return -1;
    return Add(std::move(n));
  }

  // name(args); `piped` (>= 0) is the first argument from a pipe.
  int ParseCall(const Token& name, int piped) {
    Node n;
    n.op = Op::kCall;
    n.pos = name.pos;
    n.name = name.text;
    if (piped >= 0) n.args.push_back(piped);
    if (!Expect(Tok::kBracket, "(")) return -1;
    const bool predicate = IsPredicateBuiltin(name.text);
    while (!Failed() && !Cur().Is(Tok::kBracket, ")")) {
      if (predicate && n.args.size() == 1) {
        n.args.push_back(ParseClosure());
      } else {
        n.args.push_back(ParseExpression(0));
      }
      if (Cur().Is(Tok::kPunct, ",")) {
        Next();
        continue;
      }
      if (!Cur().Is(Tok::kBracket, ")"))
        return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
    }
    if (!Expect(Tok::kBracket, ")")) return -1;
    return ParsePostfix(Add(std::move(n)));
  }

  int ParseClosure() {
    const int pos = Cur().pos;
    ++predicate_depth_;
    int body;
    if (Cur().Is(Tok::kBracket, "{")) {
      Next();
      body = ParseSequence();
      Expect(Tok::kBracket, "}");
    } else {
      body = ParseExpression(0);
      if (!Failed() && Cur().Is(Tok::kPunct, ";"))
        Fail(Cur().pos, "wrap predicate with brackets { and }");
    }
    --predicate_depth_;
    if (Failed()) return -1;
    return Make(Op::kClosure, pos, body);
  }

  int ParsePostfix(int node) {
    while (!Failed() && node >= 0) {
      const Token& t = Cur();
      if (t.kind == Tok::kOperator && (t.text == "." || t.text == "?.")) {
        const bool optional = t.text == "?.";
        const int pos = t.pos;
        Next();
        const Token& name = Cur();
        // After '.', keywords and operators spelled as words are property names.
        if (name.kind != Tok::kIdent && !(name.kind == Tok::kOperator &&
                                          std::isalpha(static_cast<unsigned char>(name.text[0])))) {
          if (optional && name.Is(Tok::kBracket, "[")) {  // a?.[k] written as "?." "["
            node = ParseIndex(node, pos, true);
            continue;
          }
          return Fail(name.pos, Cat("unexpected token ", Describe(name)));
        }
        const Token nm = name;
        Next();
        if (Cur().Is(Tok::kBracket, "(")) {  // method call
          Node n;
          n.op = Op::kMethod;
          n.pos = nm.pos;
          n.name = nm.text;
          n.a = node;
          n.optional = optional;
          Next();
          while (!Failed() && !Cur().Is(Tok::kBracket, ")")) {
            n.args.push_back(ParseExpression(0));
            if (Cur().Is(Tok::kPunct, ","))
              Next();
            else if (!Cur().Is(Tok::kBracket, ")"))
              return Fail(Cur().pos, Cat("unexpected token ", Describe(Cur())));
          }
          if (!Expect(Tok::kBracket, ")")) return -1;
          node = Add(std::move(n));
          continue;
        }
        Node key;
        key.op = Op::kLit;
        key.pos = nm.pos;
        key.name = nm.text;
        key.slot = 1;
        int k = Add(std::move(key));
        node = Make(Op::kMember, pos, node, k);
        if (node >= 0) nodes_[node].optional = optional;
        continue;
      }
      if (t.kind == Tok::kOperator && t.text == "?.[") {
        const int pos = t.pos;
        node = ParseIndex(node, pos, true, /*consumed_bracket=*/true);
        continue;
      }
      if (t.Is(Tok::kBracket, "[")) {
        node = ParseIndex(node, t.pos, false);
        continue;
      }
      break;
    }
    return Failed() ? -1 : node;
  }

  // node[...] or node[a:b]; the current token is '[' (or "?.[" when consumed_bracket).
  int ParseIndex(int node, int pos, bool optional, bool consumed_bracket = false) {
    Next();  // '[' or '?.['
    (void)consumed_bracket;
    if (Cur().Is(Tok::kPunct, ":")) {
      Next();
      int to = Cur().Is(Tok::kBracket, "]") ? -1 : ParseExpression(0);
      if (!Expect(Tok::kBracket, "]")) return -1;
      return Make(Op::kSlice, pos, node, -1, to);
    }
    int idx = ParseExpression(0);
    if (Cur().Is(Tok::kPunct, ":")) {
      Next();
      int to = Cur().Is(Tok::kBracket, "]") ? -1 : ParseExpression(0);
      if (!Expect(Tok::kBracket, "]")) return -1;
      return Make(Op::kSlice, pos, node, idx, to);
    }
    if (!Expect(Tok::kBracket, "]")) return -1;
    int m = Make(Op::kMember, pos, node, idx);
    if (m >= 0) nodes_[m].optional = optional;
    return m;
  }

  std::string_view src_;
  std::vector<Token> t_;
  size_t k_ = 0;
  std::vector<Node> nodes_;
  std::string err_;
  int err_pos_ = 0;
  int depth_ = 0;
  int predicate_depth_ = 0;
};

}  // namespace

bool IsPredicateBuiltin(std::string_view name) {
  static const char* kNames[] = {"all",      "any",           "none",    "one",    "filter",
                                 "map",      "count",         "sum",     "find",   "findIndex",
                                 "findLast", "findLastIndex", "groupBy", "sortBy", "reduce"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

StatusOr<Tree> Parse(std::string_view src) {
  auto toks = Lex(src);
  if (!toks.ok()) {
    const std::string m(toks.status().message());
    const size_t bar = m.rfind('|');
    return absl::InvalidArgumentError(
        FormatError(src, std::atoi(m.c_str() + bar + 1), m.substr(0, bar)));
  }
  if (toks->size() == 1)
    return absl::InvalidArgumentError(FormatError(src, 0, "unexpected token EOF"));
  return Parser(src, std::move(*toks)).Run();
}

}  // namespace sluice::expr
