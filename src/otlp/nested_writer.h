// Writes protobuf with nested length-delimited messages in one pass and linear time.
// A message's length is unknown until its content is written; inserting it afterwards
// would move every byte after it once per enclosing level (quadratic in the nesting
// depth). Instead each length is written as a 5-byte placeholder when the message is
// opened, and Finish() rewrites all placeholders as minimal varints while moving the bytes
// down once.
// Thread-compatible; one writer per output string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::otlp {

class NestedWriter {
 public:
  explicit NestedWriter(std::string* out) : out_(out) {}

  // Writes the tag of length-delimited field `field` and a placeholder for its length;
  // the message's content follows. Returns the handle for Close.
  size_t Open(uint32_t field);
  // The message opened as `handle` ends at the current end of the output.
  void Close(size_t handle);
  // Replaces every placeholder with its length (every opened message must be closed).
  void Finish();

 private:
  static constexpr size_t kPlaceholder = 5;  // a varint of up to 2^35 - 1
  struct Fixup {
    size_t pos;    // offset of the placeholder
    uint64_t len;  // content length including placeholders inside it, then final length
  };
  std::string* out_;
  std::vector<Fixup> fixups_;  // in the order messages were opened
};

}  // namespace sluice::otlp
