// The keys a v3 pipeline document may hold, object by object (GlassFlow's schema, Kafka-only
// and resource keys included so that its documents load unchanged), and the check that
// names every other key with its JSON path and the closest known key.
// Thread-safe (pure).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace sluice::pipeline {

// One message per unknown key: "unknown key 'max_batch_sise' in sink; did you mean
// 'max_batch_size'?". Objects whose keys are free (tables_by_metric_type, resources of
// components) are not checked.
std::vector<std::string> UnknownKeys(const YAML::Node& root);

// The candidate closest to `word` by edit distance (transpositions count as one), when it
// is close enough to be a likely typo; empty otherwise.
std::string_view ClosestMatch(std::string_view word,
                              const std::vector<std::string_view>& candidates);

}  // namespace sluice::pipeline
