// The three OTLP signals Sluice carries.
#pragma once

#include <optional>
#include <string_view>

namespace sluice {

enum class Signal { kLogs, kMetrics, kTraces };

inline std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kLogs: return "logs";
    case Signal::kMetrics: return "metrics";
    case Signal::kTraces: return "traces";
  }
  return "?";
}

// Pipeline source type for a signal: "otlp.logs", "otlp.metrics", "otlp.traces".
inline std::string_view SourceTypeOf(Signal s) {
  switch (s) {
    case Signal::kLogs: return "otlp.logs";
    case Signal::kMetrics: return "otlp.metrics";
    case Signal::kTraces: return "otlp.traces";
  }
  return "?";
}

inline std::optional<Signal> SignalFromSourceType(std::string_view t) {
  if (t == "otlp.logs") return Signal::kLogs;
  if (t == "otlp.metrics") return Signal::kMetrics;
  if (t == "otlp.traces") return Signal::kTraces;
  return std::nullopt;
}

}  // namespace sluice
