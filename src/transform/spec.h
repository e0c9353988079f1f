// A pipeline's transforms as its document declares them (glassflow.md §3.1): plain data,
// parsed by pipeline/config.cc, compiled by Transforms. They run in GlassFlow's fixed
// order whatever the array order: filter, then dedup, then stateless.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sluice::transform {

struct StatelessOutput {
  std::string expression;
  std::string output_name;
  std::string output_type;
};

struct TransformSpec {
  bool filter = false;
  std::string filter_expression;  // keep the record when true (v3 semantics)
  int filter_index = -1;          // its position in `transforms` (for error paths)

  bool dedup = false;
  std::string dedup_key;  // a path or a multipath ({a,b} / [a,b]) of the flattened record
  std::chrono::milliseconds dedup_window{0};
  int dedup_index = -1;

  bool stateless = false;
  std::vector<StatelessOutput> outputs;
  int stateless_index = -1;

  bool empty() const { return !filter && !dedup && !stateless; }
};

// The longest dedup window (GlassFlow's documented maximum, 7 days).
inline constexpr std::chrono::milliseconds kMaxDedupWindow = std::chrono::hours(24 * 7);

}  // namespace sluice::transform
