#include "pipeline/dead_letters.h"

#include <chrono>

#include "absl/strings/escaping.h"
#include "core/text.h"

namespace sluice::pipeline {

std::string DeadLetters::EntryJson(std::string_view component, std::string_view reason,
                                   std::string_view error, std::string_view original_message,
                                   uint64_t unix_nanos, std::string_view request) {
  std::string j = "{\"component\":";
  AppendJsonString(component, &j);
  j += ",\"reason\":";
  AppendJsonString(reason, &j);
  j += ",\"error\":";
  AppendJsonString(error, &j);
  j += ",\"original_message\":";
  AppendJsonString(original_message, &j);
  j += ",\"time\":\"";
  AppendRfc3339Nano(unix_nanos, &j);
  j += "\"";
  if (!request.empty()) {
    j += ",\"request\":\"";
    j += absl::Base64Escape(absl::string_view(request.data(), request.size()));
    j += "\"";
  }
  j += "}";
  return j;
}

Status DeadLetters::Write(std::string_view component, std::string_view reason,
                          std::string_view error, std::string_view original_message,
                          std::string_view request) {
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  // A full DLQ must not block the pipeline forever, but it must not lose either: the
  // caller keeps the record in the buffer and retries when Write fails.
  auto seq = log_->Append(Signal::kLogs, 1,
                          EntryJson(component, reason, error, original_message, now, request));
  return seq.ok() ? absl::OkStatus() : seq.status();
}

}  // namespace sluice::pipeline
