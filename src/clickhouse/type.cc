#include "clickhouse/type.h"

#include <cctype>
#include <charconv>
#include <string_view>

#include "core/cat.h"

namespace sluice::clickhouse {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  StatusOr<Type> Parse() {
    auto t = ParseOne();
    if (!t.ok()) return t;
    SkipSpace();
    if (i_ != s_.size()) return Err("unexpected text after type");
    return t;
  }

 private:
  Status Err(std::string_view what) {
    return absl::InvalidArgumentError(Cat("cannot parse ClickHouse type '", s_, "': ", what));
  }
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view Ident() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
      ++i_;
    return s_.substr(start, i_ - start);
  }
  bool Quoted(std::string* out) {
    SkipSpace();
    if (i_ >= s_.size() || s_[i_] != '\'') return false;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '\'') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out->push_back(s_[i_++]);
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  bool Number(long* out) {
    SkipSpace();
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (start == i_) return false;
    // Type text can come from a server: out-of-range numbers are errors, not exceptions.
    const auto r = std::from_chars(s_.data() + start, s_.data() + i_, *out);
    return r.ec == std::errc() && r.ptr == s_.data() + i_;
  }

  StatusOr<Type> ParseOne() {
    // Nesting is bounded: the parse, the tree's destructor and every walk over it recurse.
    if (++depth_ > kMaxDepth) return Err("types nested too deeply");
    struct Leave {
      int* d;
      ~Leave() { --*d; }
    } leave{&depth_};
    size_t start = i_;
    std::string_view name = Ident();
    if (name.empty()) return Err("expected a type name");
    Type t;
    struct Simple {
      std::string_view name;
      Type::Kind kind;
    };
    static constexpr Simple kSimple[] = {
        {"String", Type::kString},   {"UInt8", Type::kUInt8},     {"UInt16", Type::kUInt16},
        {"UInt32", Type::kUInt32},   {"UInt64", Type::kUInt64},   {"Int8", Type::kInt8},
        {"Int16", Type::kInt16},     {"Int32", Type::kInt32},     {"Int64", Type::kInt64},
        {"Float32", Type::kFloat32}, {"Float64", Type::kFloat64}, {"Bool", Type::kBool},
        {"Boolean", Type::kBool},    {"Date", Type::kDate},       {"UUID", Type::kUUID},
    };
    bool found = false;
    for (const Simple& s : kSimple) {
      if (s.name == name) {
        t.kind = s.kind;
        found = true;
      }
    }
    if (found) {
      // no parameters
    } else if (name == "DateTime") {
      t.kind = Type::kDateTime;
      if (Eat('(')) {  // timezone: affects text only
        std::string tz;
        if (!Quoted(&tz) || !Eat(')')) return Err("bad DateTime parameters");
      }
    } else if (name == "DateTime64") {
      t.kind = Type::kDateTime64;
      t.param =
          3;  // a bare DateTime64 is ClickHouse's default precision (GlassFlow's SDK writes it)
      if (Eat('(')) {
        long p;
        if (!Number(&p) || p < 0 || p > 9) return Err("bad DateTime64 precision");
        t.param = static_cast<int>(p);
        if (Eat(',')) {
          std::string tz;
          if (!Quoted(&tz)) return Err("bad DateTime64 timezone");
        }
        if (!Eat(')')) return Err("expected ')'");
      }
    } else if (name == "FixedString") {
      t.kind = Type::kFixedString;
      long n;
      if (!Eat('(') || !Number(&n) || n <= 0 || n > (1 << 20) || !Eat(')'))
        return Err("bad FixedString length");
      t.param = static_cast<int>(n);
    } else if (name == "Enum8" || name == "Enum16") {
      t.kind = name == "Enum8" ? Type::kEnum8 : Type::kEnum16;
      if (!Eat('(')) return Err("expected '('");
      do {
        std::string label;
        long v;
        if (!Quoted(&label) || !Eat('=') || !Number(&v) || v < -32768 || v > 65535)
          return Err("bad Enum value");
        t.enum_values.emplace_back(label, static_cast<int>(v));
      } while (Eat(','));
      if (!Eat(')')) return Err("expected ')'");
    } else if (name == "Nullable" || name == "LowCardinality" || name == "Array") {
      t.kind = name == "Nullable"         ? Type::kNullable
               : name == "LowCardinality" ? Type::kLowCardinality
                                          : Type::kArray;
      if (!Eat('(')) return Err("expected '('");
      auto c = ParseOne();
      if (!c.ok()) return c;
      t.children.push_back(std::move(*c));
      if (!Eat(')')) return Err("expected ')'");
    } else if (name == "Map") {
      t.kind = Type::kMap;
      if (!Eat('(')) return Err("expected '('");
      for (int k = 0; k < 2; ++k) {
        if (k == 1 && !Eat(',')) return Err("expected ','");
        auto c = ParseOne();
        if (!c.ok()) return c;
        t.children.push_back(std::move(*c));
      }
      if (!Eat(')')) return Err("expected ')'");
    } else if (name == "Tuple" || name == "Nested") {
      t.kind = name == "Tuple" ? Type::kTuple : Type::kNested;
      if (!Eat('(')) return Err("expected '('");
      do {
        // Either "name Type" or just "Type" (unnamed tuple element).
        size_t save = i_;
        std::string_view first = Ident();
        SkipSpace();
        std::string elem_name;
        if (!first.empty() && i_ < s_.size() && s_[i_] != '(' && s_[i_] != ',' && s_[i_] != ')') {
          elem_name = std::string(first);
        } else {
          i_ = save;
        }
        auto c = ParseOne();
        if (!c.ok()) return c;
        t.children.push_back(std::move(*c));
        t.names.push_back(std::move(elem_name));
      } while (Eat(','));
      if (!Eat(')')) return Err("expected ')'");
    } else {
      return absl::UnimplementedError(Cat("unsupported ClickHouse type '", name, "'"));
    }
    t.text = std::string(s_.substr(start, i_ - start));
    while (!t.text.empty() && std::isspace(static_cast<unsigned char>(t.text[0])))
      t.text.erase(0, 1);
    return t;
  }

  static constexpr int kMaxDepth = 64;
  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

const Type& Type::Base() const {
  const Type* t = this;
  while (t->kind == kNullable || t->kind == kLowCardinality) t = &t->children[0];
  return *t;
}

StatusOr<Type> ParseType(const std::string& text) { return Parser(text).Parse(); }

}  // namespace sluice::clickhouse
