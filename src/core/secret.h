// A secret (password, token) from a configuration node: inline (`<name>`), from an
// environment variable (`<name>_env`) or from a file (`<name>_file`, trailing newlines cut),
// at most one of the three. Secrets never appear in error messages: only the key, the
// variable's name or the file's path do. Pure apart from reading the environment and file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

// Whether any of the three keys is present (a `<name>: ""` counts as absent).
bool HasSecret(const YAML::Node& node, std::string_view name);

// The secret; "" when none of the keys is given. InvalidArgument names `where` and the key:
// "<where>.<name>_env: environment variable X is not set".
StatusOr<std::string> ReadSecret(const YAML::Node& node, std::string_view name,
                                 std::string_view where);

}  // namespace sluice
