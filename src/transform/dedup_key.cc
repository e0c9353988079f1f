#include "transform/dedup_key.h"

#include "core/cat.h"
#include "core/text.h"

namespace sluice::transform {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

StatusOr<DedupKey> DedupKey::Parse(Signal s, std::string_view key) {
  DedupKey k;
  key = Trim(key);
  if (key.empty()) return absl::InvalidArgumentError("the dedup key is empty");
  std::vector<std::pair<std::string, std::string>> items;  // (json name, path)
  if ((key.front() == '{' && key.back() == '}') || (key.front() == '[' && key.back() == ']')) {
    k.shape_ = key.front() == '{' ? Shape::kObject : Shape::kArray;
    std::string_view body = key.substr(1, key.size() - 2);
    size_t start = 0;
    while (start <= body.size()) {
      size_t comma = body.find(',', start);
      if (comma == std::string_view::npos) comma = body.size();
      std::string_view item = Trim(body.substr(start, comma - start));
      start = comma + 1;
      if (item.empty())
        return absl::InvalidArgumentError(Cat("the dedup key '", key, "' has an empty part"));
      std::string name;
      std::string_view path = item;
      if (k.shape_ == Shape::kObject) {
        // "name":path or name:path; a bare path names itself by its last element.
        if (item.front() == '"') {
          const size_t close = item.find('"', 1);
          if (close == std::string_view::npos || close + 1 >= item.size() || item[close + 1] != ':')
            return absl::InvalidArgumentError(
                Cat("the dedup key '", key, "' has a malformed part '", item, "'"));
          name = std::string(item.substr(1, close - 1));
          path = Trim(item.substr(close + 2));
        } else if (const size_t colon = item.find(':'); colon != std::string_view::npos) {
          name = std::string(Trim(item.substr(0, colon)));
          path = Trim(item.substr(colon + 1));
        } else {
          const size_t dot = item.rfind('.');
          name = std::string(dot == std::string_view::npos ? item : item.substr(dot + 1));
        }
      }
      items.push_back({name, std::string(path)});
      if (comma == body.size()) break;
    }
  } else {
    items.push_back({"", std::string(key)});
  }
  for (const auto& [name, path] : items) {
    auto p = otlp::ResolvePath(s, path);
    if (!p.ok())
      return absl::InvalidArgumentError(Cat("dedup key '", key, "': ", p.status().message()));
    if (p->member >= 0)
      return absl::InvalidArgumentError(
          Cat("dedup key '", key, "': '", path,
              "' is a member of every element of an array; use the array"));
    k.parts_.push_back({name, *p});
  }
  return k;
}

void DedupKey::Text(const otlp::RecordCtx& ctx, std::string* out) const {
  out->clear();
  if (shape_ == Shape::kSingle) {
    const otlp::Value v = otlp::ExtractPath(parts_[0].path, ctx);
    if (v.kind != otlp::VKind::kNull) otlp::AppendValueText(v, out);
    return;
  }
  out->push_back(shape_ == Shape::kObject ? '{' : '[');
  bool first = true;
  for (const Part& p : parts_) {
    const otlp::Value v = otlp::ExtractPath(p.path, ctx);
    if (v.kind == otlp::VKind::kNull) continue;
    if (!first) out->push_back(',');
    first = false;
    if (shape_ == Shape::kObject) {
      AppendJsonString(p.name, out);
      out->push_back(':');
    }
    otlp::AppendValueJson(v, out);
  }
  out->push_back(shape_ == Shape::kObject ? '}' : ']');
}

}  // namespace sluice::transform
