// The values of the expression language (expressions.md §1.1) and the arena they live in.
// A Value is a small copyable handle: strings, arrays and maps point into the request
// being evaluated or into an Arena that the evaluator resets per record, so evaluating
// allocates nothing once the arena's first block is warm.
// Thread-compatible: one Arena per evaluating thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::expr {

enum class Kind : uint8_t {
  kNil,
  kBool,
  kInt,       // Go int (64-bit, wrapping)
  kFloat,     // float64; every number read from a record is one (JSON decoding)
  kString,    // UTF-8 bytes
  kArray,     // []any
  kMap,       // map[string]any (keys unique, in insertion order)
  kAttrs,     // an OTLP attribute list read lazily: map[string]string
  kTime,      // instant: i = Unix nanoseconds, aux = UTC offset in seconds
  kDuration,  // i = nanoseconds
  kAnyMap,    // a map whose keys are not all strings (groupBy, fromPairs): not JSON-encodable
  kByte,      // uint8 (indexing a string dynamically)
};

struct Value;
struct Entry;

struct Value {
  Kind kind = Kind::kNil;
  bool b = false;
  int32_t aux = 0;  // kAttrs: the repeated field number; kTime: UTC offset (seconds)
  int64_t i = 0;
  double f = 0;
  std::string_view s;              // kString; kAttrs: the message holding the attributes
  const Value* items = nullptr;    // kArray
  const Entry* entries = nullptr;  // kMap, kAnyMap
  size_t n = 0;                    // element count of kArray / kMap / kAnyMap
  // kMap with many entries: a hash index (index[0] = mask, then mask + 1 slots holding
  // entry + 1, 0 = empty), so look-ups stay O(1). See MakeMap.
  const uint32_t* index = nullptr;

  static Value Nil() { return {}; }
  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.kind = Kind::kFloat;
    x.f = v;
    return x;
  }
  static Value Str(std::string_view v) {
    Value x;
    x.kind = Kind::kString;
    x.s = v;
    return x;
  }
  static Value Array(std::span<const Value> v) {
    Value x;
    x.kind = Kind::kArray;
    x.items = v.data();
    x.n = v.size();
    return x;
  }
  static Value Map(const Entry* e, size_t n, bool any_keys = false) {
    Value x;
    x.kind = any_keys ? Kind::kAnyMap : Kind::kMap;
    x.entries = e;
    x.n = n;
    return x;
  }
  static Value Attrs(std::string_view msg, uint32_t field) {
    Value x;
    x.kind = Kind::kAttrs;
    x.s = msg;
    x.aux = static_cast<int32_t>(field);
    return x;
  }
  static Value Time(int64_t ns, int32_t offset = 0) {
    Value x;
    x.kind = Kind::kTime;
    x.i = ns;
    x.aux = offset;
    return x;
  }
  static Value Dur(int64_t ns) {
    Value x;
    x.kind = Kind::kDuration;
    x.i = ns;
    return x;
  }

  bool nil() const { return kind == Kind::kNil; }
  bool number() const { return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kByte; }
  double AsDouble() const { return kind == Kind::kFloat ? f : static_cast<double>(i); }
  std::span<const Value> array() const { return {items, n}; }
};

// A map entry. The key is a string in kMap (`key` holds it, `kv` unused) and any value in
// kAnyMap (`kv`).
struct Entry {
  std::string_view key;
  Value kv;
  Value value;
};

// Bump allocator for one evaluation. Reset() keeps the largest block, so a steady stream
// of similar records allocates nothing. `used()` bounds what one evaluation may allocate.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* Alloc(size_t bytes, size_t align = alignof(std::max_align_t)) {
    size_t at = (pos_ + align - 1) & ~(align - 1);
    if (blocks_.empty() || at + bytes > cap_) {
      NewBlock(bytes + align);
      at = (pos_ + align - 1) & ~(align - 1);
    }
    pos_ = at + bytes;
    used_ += bytes;
    return blocks_.back().get() + at;
  }
  template <class T>
  T* Make(size_t n) {
    return static_cast<T*>(Alloc(sizeof(T) * (n == 0 ? 1 : n), alignof(T)));
  }
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = static_cast<char*>(Alloc(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  // Whether p points into memory this arena handed out (and Reset may reuse).
  bool Contains(const void* p) const {
    const char* c = static_cast<const char*>(p);
    for (const auto& b : blocks_)
      if (c >= b.get() && c < b.get() + cap_) return true;
    return false;
  }
  // Bytes handed out since the last Reset.
  size_t used() const { return used_; }
  void Reset() {
    if (blocks_.size() > 1) {
      // Keep only the last (largest) block.
      auto keep = std::move(blocks_.back());
      blocks_.clear();
      blocks_.push_back(std::move(keep));
    }
    pos_ = 0;
    used_ = 0;
  }

 private:
  void NewBlock(size_t at_least) {
    size_t size = std::max<size_t>(cap_ * 2, 16 << 10);
    while (size < at_least) size *= 2;
    blocks_.push_back(std::make_unique<char[]>(size));
    cap_ = size;
    pos_ = 0;
  }
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t cap_ = 0, pos_ = 0, used_ = 0;
};

// Grows an array in an arena (copying on growth; amortized linear).
class ArrayBuilder {
 public:
  explicit ArrayBuilder(Arena& a, size_t reserve = 4) : arena_(a) { Grow(reserve); }
  void Push(const Value& v) {
    if (n_ == cap_) Grow(cap_ * 2);
    data_[n_++] = v;
  }
  size_t size() const { return n_; }
  Value* data() { return data_; }
  Value Done() const { return Value::Array({data_, n_}); }

 private:
  void Grow(size_t cap) {
    if (cap == 0) cap = 4;
    Value* d = arena_.Make<Value>(cap);
    for (size_t k = 0; k < n_; ++k) d[k] = data_[k];
    data_ = d;
    cap_ = cap;
  }
  Arena& arena_;
  Value* data_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

}  // namespace sluice::expr
