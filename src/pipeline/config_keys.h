// The check that names every unknown key of a document (a pipeline file, the server config)
// with its path and the closest known key, and the keys a v3 pipeline document may hold,
// object by object (GlassFlow's schema, Kafka-only and resource keys included so that its
// documents load unchanged). Thread-safe (pure).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace sluice::pipeline {

// Allowed keys by object path: "" is the top level, "a.b" an object within it, "a[]" the
// items of the array a. Objects whose path is not listed may hold any key.
using KeyShapes = std::map<std::string, std::vector<std::string_view>, std::less<>>;

// A pipeline document's shapes (tables_by_metric_type and components' resources are free).
const KeyShapes& PipelineKeyShapes();

// One message per unknown key, in document order: "unknown key 'max_batch_sise' in sink;
// did you mean 'max_batch_size'?" ("at the top level" for the top level).
std::vector<std::string> UnknownKeys(const YAML::Node& root, const KeyShapes& shapes);

// The candidate closest to `word` by edit distance (transpositions count as one), when it
// is close enough to be a likely typo; empty otherwise.
std::string_view ClosestMatch(std::string_view word,
                              const std::vector<std::string_view>& candidates);

}  // namespace sluice::pipeline
