#include "otlp/anyvalue.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "core/bytes.h"
#include "core/text.h"

namespace sluice::otlp {

AnyValueView ParseAnyValue(std::string_view msg) {
  AnyValueView v;
  if (AsShortString(msg, &v.bytes)) {
    v.kind = AnyValueView::kString;
    return v;
  }
  WireReader r(msg);
  while (r.Next()) {
    uint32_t f = r.field(), wt = r.wire_type();
    if ((f == 1 || f == 5 || f == 6 || f == 7) && wt == kLen) {
      v.bytes = r.Len();
      v.kind = f == 1   ? AnyValueView::kString
               : f == 5 ? AnyValueView::kArray
               : f == 6 ? AnyValueView::kKvlist
                        : AnyValueView::kBytes;
    } else if (f == 2 && wt == kVarint) {
      v.b = r.Varint() != 0;
      v.kind = AnyValueView::kBool;
    } else if (f == 3 && wt == kVarint) {
      v.i = static_cast<int64_t>(r.Varint());
      v.kind = AnyValueView::kInt;
    } else if (f == 4 && wt == kI64) {
      uint64_t bits = r.Fixed64();
      std::memcpy(&v.d, &bits, 8);
      v.kind = AnyValueView::kDouble;
    } else if (f == 8 && wt == kVarint) {
      r.Varint();  // profiles-only string table index: treated as an empty value
      v.kind = AnyValueView::kEmpty;
    } else {
      r.Skip();
    }
  }
  return v;
}

KeyValueView ParseKeyValue(std::string_view kv) {
  KeyValueView out;
  if (AsShortKeyValue(kv, &out.key, &out.value)) return out;
  WireReader r(kv);
  while (r.Next()) {
    if (r.field() == 1 && r.wire_type() == kLen) {
      out.key = r.Len();
    } else if (r.field() == 2 && r.wire_type() == kLen) {
      out.value = r.Len();
    } else {
      r.Skip();
    }
  }
  return out;
}

namespace {

std::vector<std::vector<KeyValueView>>& Pool() {
  thread_local std::vector<std::vector<KeyValueView>> pool;
  return pool;
}
std::vector<KeyValueView> TakeList() {
  auto& pool = Pool();
  if (pool.empty()) return {};
  std::vector<KeyValueView> v = std::move(pool.back());
  pool.pop_back();
  return v;
}
void GiveList(std::vector<KeyValueView>&& v) {
  v.clear();
  Pool().push_back(std::move(v));
}

// Writes a scalar value; false for arrays and key-value lists (kind set in *v).
bool AppendScalarJson(const AnyValueView& v, std::string* out) {
  switch (v.kind) {
    case AnyValueView::kEmpty: out->append("null"); return true;
    case AnyValueView::kString: AppendJsonString(v.bytes, out); return true;
    case AnyValueView::kBool: out->append(v.b ? "true" : "false"); return true;
    case AnyValueView::kInt: AppendInt(v.i, out); return true;
    case AnyValueView::kDouble:
      if (v.d != v.d || v.d - v.d != 0) {  // NaN or infinite: not a JSON number
        out->push_back('"');
        AppendDouble(v.d, out);
        out->push_back('"');
      } else {
        AppendDouble(v.d, out);
      }
      return true;
    case AnyValueView::kBytes:
      out->push_back('"');
      AppendHex(v.bytes, out);
      out->push_back('"');
      return true;
    case AnyValueView::kArray:
    case AnyValueView::kKvlist: return false;
  }
  return true;
}

}  // namespace

void AppendAnyValueText(std::string_view anyvalue, std::string* out) {
  AnyValueView v = ParseAnyValue(anyvalue);
  switch (v.kind) {
    case AnyValueView::kEmpty: break;
    case AnyValueView::kString: out->append(v.bytes); break;
    case AnyValueView::kBool: out->append(v.b ? "true" : "false"); break;
    case AnyValueView::kInt: AppendInt(v.i, out); break;
    case AnyValueView::kDouble: AppendDouble(v.d, out); break;
    case AnyValueView::kBytes: AppendHex(v.bytes, out); break;
    case AnyValueView::kArray:
    case AnyValueView::kKvlist: AppendAnyValueJson(anyvalue, out); break;
  }
}

void AppendAnyValueJson(std::string_view anyvalue, std::string* out) {
  // Arrays and key-value lists nest without a bound in OTLP (Go's decoders accept 10,000
  // levels of messages), so they are walked with an explicit stack rather than recursion.
  struct Frame {
    std::vector<KeyValueView> items;  // array elements (key empty) or de-duplicated pairs
    size_t next = 0;
    bool kvlist = false;
  };
  std::vector<Frame> stack;
  // Writes one value; an array or a list opens a frame whose items follow.
  auto open = [&](std::string_view value) {
    const AnyValueView v = ParseAnyValue(value);
    if (AppendScalarJson(v, out)) return;
    Frame f;
    f.kvlist = v.kind == AnyValueView::kKvlist;
    f.items = TakeList();
    if (f.kvlist) {
      CollectAttributes(Repeated{v.bytes, 1}, &f.items);
    } else {
      Repeated{v.bytes, 1}.ForEach([&](std::string_view e) { f.items.push_back({{}, e}); });
    }
    out->push_back(f.kvlist ? '{' : '[');
    stack.push_back(std::move(f));
  };
  open(anyvalue);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.items.size()) {
      out->push_back(f.kvlist ? '}' : ']');
      GiveList(std::move(f.items));
      stack.pop_back();
      continue;
    }
    if (f.next > 0) out->push_back(',');
    const KeyValueView item = f.items[f.next++];
    if (f.kvlist) {
      AppendJsonString(item.key, out);
      out->push_back(':');
    }
    open(item.value);  // may grow the stack: `f` is not used after this
  }
}

namespace {
// Kept out of CollectAttributes so that the common short lists never touch the
// thread-local (its guard and address computation cost on every call).
[[gnu::noinline]] absl::flat_hash_map<std::string_view, uint32_t>& AttributeIndex() {
  thread_local absl::flat_hash_map<std::string_view, uint32_t> index;
  return index;
}
}  // namespace

void CollectAttributes(const Repeated& attrs, std::vector<KeyValueView>* out) {
  out->clear();
  // Short lists (almost all) are de-duplicated by a scan; past kScan keys an index takes
  // over, so a record with a million attributes costs linear time, not quadratic. The
  // index holds views into the request and is emptied before returning.
  constexpr size_t kScan = 16;
  absl::flat_hash_map<std::string_view, uint32_t>* index = nullptr;
  attrs.ForEach([&](std::string_view kv_msg) {
    std::string_view key, value;
    if (!AsShortKeyValue(kv_msg, &key, &value)) {
      const KeyValueView kv = ParseKeyValue(kv_msg);
      key = kv.key;
      value = kv.value;
    }
    if (index) {
      auto [it, added] = index->try_emplace(key, static_cast<uint32_t>(out->size()));
      if (added)
        out->push_back({key, value});
      else
        (*out)[it->second].value = value;
      return;
    }
    for (KeyValueView& seen : *out) {
      // Lengths and last bytes first: distinct keys rarely get as far as memcmp.
      if (seen.key.size() == key.size() && (key.empty() || seen.key.back() == key.back()) &&
          seen.key == key) {
        seen.value = value;
        return;
      }
    }
    out->push_back({key, value});
    if (out->size() > kScan) {
      index = &AttributeIndex();
      for (size_t i = 0; i < out->size(); ++i)
        index->emplace((*out)[i].key, static_cast<uint32_t>(i));
    }
  });
  if (index) index->clear();
}

bool FindAttribute(const Repeated& attrs, std::string_view key, std::string_view* value) {
  bool found = false;
  attrs.ForEach([&](std::string_view kv_msg) {
    // The common shape (a short key, then a short value) is checked inline, the key's
    // length first: most attributes are rejected without a call or a compare.
    std::string_view k, v;
    if (AsShortKeyValue(kv_msg, &k, &v)) {
      if (k.size() == key.size() && std::memcmp(k.data(), key.data(), k.size()) == 0) {
        *value = v;
        found = true;
      }
      return;
    }
    KeyValueView kv = ParseKeyValue(kv_msg);
    if (kv.key == key) {
      *value = kv.value;
      found = true;
    }
  });
  return found;
}

AttributeList::AttributeList(const Repeated& attrs) : items_(TakeList()) {
  CollectAttributes(attrs, &items_);
}

AttributeList::~AttributeList() { GiveList(std::move(items_)); }

void AppendAttributesJson(const Repeated& attrs, std::string* out) {
  const AttributeList list(attrs);
  const auto& local = list.items();
  out->push_back('{');
  std::string text;
  for (size_t i = 0; i < local.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(local[i].key, out);
    out->push_back(':');
    text.clear();
    AppendAnyValueText(local[i].value, &text);
    AppendJsonString(text, out);
  }
  out->push_back('}');
}

}  // namespace sluice::otlp
