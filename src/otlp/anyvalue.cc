#include "otlp/anyvalue.h"

#include <cstring>

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

void AppendArrayJson(std::string_view array_msg, std::string* out) {
  out->push_back('[');
  bool first = true;
  Repeated{array_msg, 1}.ForEach([&](std::string_view v) {
    if (!first) out->push_back(',');
    first = false;
    AppendAnyValueJson(v, out);
  });
  out->push_back(']');
}

void AppendKvlistJson(std::string_view kvlist_msg, std::string* out) {
  const AttributeList list(Repeated{kvlist_msg, 1});
  const auto& local = list.items();
  out->push_back('{');
  for (size_t i = 0; i < local.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(local[i].key, out);
    out->push_back(':');
    AppendAnyValueJson(local[i].value, out);
  }
  out->push_back('}');
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
    case AnyValueView::kArray: AppendArrayJson(v.bytes, out); break;
    case AnyValueView::kKvlist: AppendKvlistJson(v.bytes, out); break;
  }
}

void AppendAnyValueJson(std::string_view anyvalue, std::string* out) {
  AnyValueView v = ParseAnyValue(anyvalue);
  switch (v.kind) {
    case AnyValueView::kEmpty: out->append("null"); break;
    case AnyValueView::kString: AppendJsonString(v.bytes, out); break;
    case AnyValueView::kBool: out->append(v.b ? "true" : "false"); break;
    case AnyValueView::kInt: AppendInt(v.i, out); break;
    case AnyValueView::kDouble:
      if (v.d != v.d || v.d - v.d != 0) {  // NaN or infinite: not a JSON number
        out->push_back('"');
        AppendDouble(v.d, out);
        out->push_back('"');
      } else {
        AppendDouble(v.d, out);
      }
      break;
    case AnyValueView::kBytes:
      out->push_back('"');
      AppendHex(v.bytes, out);
      out->push_back('"');
      break;
    case AnyValueView::kArray: AppendArrayJson(v.bytes, out); break;
    case AnyValueView::kKvlist: AppendKvlistJson(v.bytes, out); break;
  }
}

void CollectAttributes(const Repeated& attrs, std::vector<KeyValueView>* out) {
  out->clear();
  attrs.ForEach([&](std::string_view kv_msg) {
    std::string_view key, value;
    if (!AsShortKeyValue(kv_msg, &key, &value)) {
      const KeyValueView kv = ParseKeyValue(kv_msg);
      key = kv.key;
      value = kv.value;
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
  });
}

bool FindAttribute(const Repeated& attrs, std::string_view key, std::string_view* value) {
  bool found = false;
  attrs.ForEach([&](std::string_view kv_msg) {
    KeyValueView kv = ParseKeyValue(kv_msg);
    if (kv.key == key) {
      *value = kv.value;
      found = true;
    }
  });
  return found;
}

namespace {
std::vector<std::vector<KeyValueView>>& Pool() {
  thread_local std::vector<std::vector<KeyValueView>> pool;
  return pool;
}
}  // namespace

AttributeList::AttributeList(const Repeated& attrs) {
  auto& pool = Pool();
  if (!pool.empty()) {
    items_.swap(pool.back());
    pool.pop_back();
  }
  CollectAttributes(attrs, &items_);
}

AttributeList::~AttributeList() { Pool().push_back(std::move(items_)); }

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
