// The pipeline's dead-letter queue: records ClickHouse rejects permanently (or that cannot
// be converted to the table's types) are written here, durably, instead of being dropped.
// Each entry is a JSON object {component, reason, error, original_message, time[, request]},
// with original_message the flattened record as JSON text (GlassFlow's DLQ shape plus
// reason and time) and request the record as a one-record OTLP request (protobuf, base64),
// which reprocessing sends through the pipeline again. Stored in a LocalLog of its own; the
// entry's sequence number is its message id. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "buffer/local_log.h"
#include "core/status.h"

namespace sluice::pipeline {

class DeadLetters {
 public:
  explicit DeadLetters(std::shared_ptr<buffer::LocalLog> log) : log_(std::move(log)) {}

  // Durable when it returns OK.
  Status Write(std::string_view component, std::string_view reason, std::string_view error,
               std::string_view original_message, std::string_view request = {});

  // The JSON of one entry (exposed for tests).
  static std::string EntryJson(std::string_view component, std::string_view reason,
                               std::string_view error, std::string_view original_message,
                               uint64_t unix_nanos, std::string_view request = {});

 private:
  std::shared_ptr<buffer::LocalLog> log_;
};

}  // namespace sluice::pipeline
