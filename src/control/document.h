// Pipeline documents as JSON values: JSON text as it is, YAML (pipeline files may be YAML)
// converted. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::control {

// Plain YAML scalars that read as numbers, booleans or null become those; quoted ones stay
// strings. An empty object when the text is neither JSON nor YAML.
nlohmann::json DocumentJson(const std::string& text);

}  // namespace sluice::control
