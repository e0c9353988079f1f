// The release version, reported by `sluice --version` and /metrics (sluice_build_info).
#pragma once

namespace sluice {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace sluice
