// Little helpers for writing binary data into a growable byte string.
// Thread-compatible: a ByteWriter is owned by one thread at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void Bytes(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  void Bytes(std::string_view s) { out_->append(s.data(), s.size()); }
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  template <class T>
  void Fixed(T v) {  // little-endian host assumed (x86_64, aarch64)
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_->append(b, sizeof(T));
  }
  void VarUInt(uint64_t v) {
    char b[10];
    int n = 0;
    while (v >= 0x80) {
      b[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    b[n++] = static_cast<char>(v);
    out_->append(b, n);
  }
  // A VarUInt length, then the bytes: ClickHouse's String (RowBinary, Native, the native
  // protocol's fields).
  void String(std::string_view s) {
    VarUInt(s.size());
    Bytes(s);
  }
  size_t size() const { return out_->size(); }
  std::string* str() { return out_; }

 private:
  std::string* out_;
};

// Reads a value ByteWriter::Fixed wrote (little-endian host, as there) from `p`, which must
// hold sizeof(T) bytes.
template <class T>
T LoadFixed(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Lowercase hex of raw bytes, written to out, which must hold 2 * raw.size() chars.
inline void WriteHex(std::string_view raw, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : raw) {
    *out++ = kHex[c >> 4];
    *out++ = kHex[c & 15];
  }
}

// Lowercase hex of raw bytes, appended to out.
inline void AppendHex(std::string_view raw, std::string* out) {
  const size_t at = out->size();
  out->resize(at + raw.size() * 2);
  WriteHex(raw, out->data() + at);
}

}  // namespace sluice
