// Minimal leveled logging to stderr, one line per message, safe from any thread.
// Usage: SLOG(INFO) << "text " << value;
#pragma once

#include <sstream>
#include <string_view>

namespace sluice {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, std::string_view text);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace sluice

#define SLOG_DEBUG ::sluice::LogLevel::kDebug
#define SLOG_INFO ::sluice::LogLevel::kInfo
#define SLOG_WARN ::sluice::LogLevel::kWarn
#define SLOG_ERROR ::sluice::LogLevel::kError
#define SLOG(level)                          \
  if (!::sluice::LogEnabled(SLOG_##level)) { \
  } else                                     \
    ::sluice::LogMessage(SLOG_##level).stream()
