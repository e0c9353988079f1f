// Small readers shared by the pipeline document's parsers. Pure; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "core/cat.h"
#include "core/status.h"

namespace sluice::pipeline {

// An InvalidArgument naming the field: "pipeline sink.table: is required".
inline Status Invalid(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(Cat("pipeline ", where, ": ", what));
}

// A scalar's text; "" for a missing, null or non-scalar node.
inline std::string Str(const YAML::Node& n) {
  if (!n || n.IsNull() || !n.IsScalar()) return "";
  return n.as<std::string>();
}

inline std::string Trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  size_t b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace sluice::pipeline
