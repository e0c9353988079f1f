// AnyValue and attribute helpers: typed view, text form, JSON form and key look-up.
// All functions are pure and allocate only by appending to the caller's string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/views.h"

namespace sluice::otlp {

struct AnyValueView {
  enum Kind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kArray, kKvlist, kBytes };
  Kind kind = kEmpty;
  std::string_view bytes;  // string, bytes, or the ArrayValue / KeyValueList message
  bool b = false;
  int64_t i = 0;
  double d = 0;
};

// Parses an AnyValue message; the last oneof member present wins.
AnyValueView ParseAnyValue(std::string_view msg);

// The length-delimited field that starts at p (tag byte `tag`, length below 128) when it
// ends exactly at `end`: the shape serializers give a lone short string. Null otherwise.
inline const char* LoneShortField(const char* p, const char* end, char tag) {
  if (end - p < 2 || p[0] != tag || static_cast<unsigned char>(p[1]) >= 0x80) return nullptr;
  return p + 2 + static_cast<unsigned char>(p[1]) == end ? p + 2 : nullptr;
}

// The common AnyValue, a short string_value and nothing else, recognized inline (the hot
// loops would otherwise wait on a returned AnyValueView). False: use ParseAnyValue.
inline bool AsShortString(std::string_view msg, std::string_view* s) {
  const char* end = msg.data() + msg.size();
  const char* p = LoneShortField(msg.data(), end, 0x0a);
  if (p == nullptr) return false;
  *s = std::string_view(p, end - p);
  return true;
}

// The flattened text of a value (GlassFlow's rule): strings as they are, bools
// true/false, ints in decimal, doubles as AppendDouble, bytes as lowercase hex, arrays
// and key-value lists as compact JSON (like the Collector's AsString), empty as "".
void AppendAnyValueText(std::string_view anyvalue, std::string* out);

// The value as a JSON value (strings quoted; bytes as a hex string; NaN/Inf as strings).
void AppendAnyValueJson(std::string_view anyvalue, std::string* out);

struct KeyValueView {
  std::string_view key;
  std::string_view value;  // AnyValue message bytes (empty when absent)
};

// The common KeyValue, a short key then a short value, recognized inline. False: use
// ParseKeyValue.
inline bool AsShortKeyValue(std::string_view kv, std::string_view* key, std::string_view* value) {
  const char* p = kv.data();
  const char* end = p + kv.size();
  if (kv.size() < 4 || p[0] != 0x0a || static_cast<unsigned char>(p[1]) >= 0x80) return false;
  const char* v = p + 2 + static_cast<unsigned char>(p[1]);
  if (v >= end) return false;
  const char* val = LoneShortField(v, end, 0x12);
  if (val == nullptr) return false;
  *key = std::string_view(p + 2, v - p - 2);
  *value = std::string_view(val, end - val);
  return true;
}

// Collects the attributes into `out` (cleared first). A duplicated key keeps its first
// position and its last value, which is what building a map by assignment gives.
void CollectAttributes(const Repeated& attrs, std::vector<KeyValueView>* out);

// The attributes of a list, collected as CollectAttributes does into a vector borrowed
// from a per-thread pool, so that nothing is allocated per record once warm and nested
// lists (kvlist values) can be collected while an outer one is in use. Thread-compatible.
class AttributeList {
 public:
  explicit AttributeList(const Repeated& attrs);
  ~AttributeList();
  AttributeList(const AttributeList&) = delete;
  AttributeList& operator=(const AttributeList&) = delete;
  const std::vector<KeyValueView>& items() const { return items_; }

 private:
  std::vector<KeyValueView> items_;
};

// Looks `key` up; the last occurrence wins. Returns false when absent.
bool FindAttribute(const Repeated& attrs, std::string_view key, std::string_view* value);

// Appends the attributes as a JSON object of strings: {"k":"text",...}.
void AppendAttributesJson(const Repeated& attrs, std::string* out);

KeyValueView ParseKeyValue(std::string_view kv);

}  // namespace sluice::otlp
