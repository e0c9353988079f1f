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

// Turns the stream expression into void for the conditional in SLOG.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace sluice

#define SLOG_DEBUG ::sluice::LogLevel::kDebug
#define SLOG_INFO ::sluice::LogLevel::kInfo
#define SLOG_WARN ::sluice::LogLevel::kWarn
#define SLOG_ERROR ::sluice::LogLevel::kError
// An expression (glog's voidify trick), so it is safe inside an unbraced if/else.
#define SLOG(level)                   \
  !::sluice::LogEnabled(SLOG_##level) \
      ? (void)0                       \
      : ::sluice::LogVoidify() & ::sluice::LogMessage(SLOG_##level).stream()
