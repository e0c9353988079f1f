// Protobuf wire-format reading primitives for the hand-written OTLP decoder.
// A WireReader walks one message's bytes without allocating; every string, bytes or
// sub-message value is a view into the caller's buffer, which must outlive the views.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::otlp {

enum WireType : uint32_t { kVarint = 0, kI64 = 1, kLen = 2, kSGroup = 3, kEGroup = 4, kI32 = 5 };

class WireReader {
 public:
  WireReader() = default;
  explicit WireReader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  // Reads the next tag. Returns false at the end of the message or on a malformed tag
  // (then ok() is false).
  bool Next() {
    if (p_ >= end_) return false;
    uint64_t tag;
    const uint8_t* start = p_;
    if (!ReadVarint(&tag) || p_ - start > 5 || tag > 0xffffffffu) return Fail();
    field_ = static_cast<uint32_t>(tag >> 3);
    wt_ = static_cast<uint32_t>(tag & 7);
    if (field_ == 0 || wt_ == 6 || wt_ == 7) return Fail();
    return true;
  }
  uint32_t field() const { return field_; }
  uint32_t wire_type() const { return wt_; }
  bool ok() const { return ok_; }
  bool at_end() const { return p_ >= end_; }
  // Where the next tag starts: with the position after Skip(), a field's bytes as they are.
  const char* position() const { return reinterpret_cast<const char*>(p_); }
  const char* pos() const { return reinterpret_cast<const char*>(p_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  uint64_t Varint() {
    uint64_t v = 0;
    if (!ReadVarint(&v)) Fail();
    return v;
  }
  uint64_t Fixed64() {
    if (end_ - p_ < 8) return Fail(), 0;
    uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  uint32_t Fixed32() {
    if (end_ - p_ < 4) return Fail(), 0;
    uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return v;
  }
  double Double() {
    uint64_t b = Fixed64();
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }
  // The next n bytes as they are (fixed-width values of other formats read with this
  // reader, such as ClickHouse's RowBinary).
  std::string_view Raw(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return Fail(), std::string_view();
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }
  std::string_view Len() {
    uint64_t n;
    if (!ReadVarint(&n) || n > static_cast<uint64_t>(end_ - p_)) return Fail(), std::string_view();
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }
  // Skips the current field's value according to its wire type (groups included, nested
  // up to 10,000 levels, without recursion).
  bool Skip() {
    switch (wt_) {  // the common cases inline; nested groups out of line
      case kLen: Len(); return ok_;
      case kVarint: Varint(); return ok_;
      case kI64: Fixed64(); return ok_;
      case kI32: Fixed32(); return ok_;
      default: return SkipGroup();
    }
  }

 private:
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }
  bool ReadVarint(uint64_t* out) {
    // Most tags and lengths in OTLP fit one byte.
    if (p_ < end_ && *p_ < 0x80) [[likely]] {
      *out = *p_++;
      return true;
    }
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      if (i == 9 && b > 1) return false;
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  // A start-group (or a stray end-group) at the current field. Groups (deprecated; no OTLP
  // sender writes them) nest: skipped with an explicit stack of open group numbers, up to
  // Go's depth limit.
  [[gnu::noinline]] bool SkipGroup() {
    if (wt_ != kSGroup) return Fail();
    std::vector<uint32_t> open{field_};
    while (!open.empty()) {
      if (!Next()) return Fail();
      if (wt_ == kEGroup) {
        if (field_ != open.back()) return Fail();
        open.pop_back();
      } else if (wt_ == kSGroup) {
        if (open.size() >= 10000) return Fail();
        open.push_back(field_);
      } else if (!Skip()) {
        return false;
      }
    }
    return ok_;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint32_t field_ = 0;
  uint32_t wt_ = 0;
  bool ok_ = true;
};

// ZigZag decoding of a sint32 carried in a 64-bit varint.
inline int32_t ZigZag32(uint64_t v) {
  uint32_t n = static_cast<uint32_t>(v);
  return static_cast<int32_t>((n >> 1) ^ (~(n & 1) + 1));
}

// Appends a varint to out (used by writers of protobuf bytes).
inline void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline void PutTag(uint32_t field, uint32_t wt, std::string* out) {
  PutVarint((static_cast<uint64_t>(field) << 3) | wt, out);
}

}  // namespace sluice::otlp
