#include "otlp/nested_writer.h"

#include <cstring>

#include "otlp/wire.h"

namespace sluice::otlp {
namespace {
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
}  // namespace

size_t NestedWriter::Open(uint32_t field) {
  PutTag(field, kLen, out_);
  fixups_.push_back({out_->size(), 0});
  out_->append(kPlaceholder, '\0');
  return fixups_.size() - 1;
}

void NestedWriter::Close(size_t handle) {
  Fixup& f = fixups_[handle];
  f.len = out_->size() - f.pos - kPlaceholder;
}

void NestedWriter::Finish() {
  if (fixups_.empty()) return;
  // Final lengths, innermost first: a message shrinks by what its children's placeholders
  // save. Walking in reverse opening order, the children of a message are the completed
  // messages on top of the stack that start before it ends.
  struct Done {
    size_t pos;
    uint64_t saved;  // bytes its subtree's placeholders save
  };
  std::vector<Done> stack;
  for (size_t i = fixups_.size(); i-- > 0;) {
    Fixup& f = fixups_[i];
    const size_t end = f.pos + kPlaceholder + f.len;
    uint64_t saved = 0;
    while (!stack.empty() && stack.back().pos < end) {
      saved += stack.back().saved;
      stack.pop_back();
    }
    f.len -= saved;
    stack.push_back({f.pos, saved + kPlaceholder - VarintSize(f.len)});
  }
  // Move the bytes down once, writing each length in place of its placeholder.
  char* data = out_->data();
  size_t w = 0, r = 0;
  for (const Fixup& f : fixups_) {
    std::memmove(data + w, data + r, f.pos - r);
    w += f.pos - r;
    uint64_t v = f.len;
    while (v >= 0x80) {
      data[w++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    data[w++] = static_cast<char>(v);
    r = f.pos + kPlaceholder;
  }
  std::memmove(data + w, data + r, out_->size() - r);
  w += out_->size() - r;
  out_->resize(w);
  fixups_.clear();
}

}  // namespace sluice::otlp
