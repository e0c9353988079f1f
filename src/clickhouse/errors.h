// Classification of ClickHouse failures into retryable and permanent statuses, the one
// place that knows ClickHouse error codes (clickhouse-protocol.md §8, glassflow.md §5.5).
#pragma once

#include <string_view>

#include "core/status.h"

namespace sluice::clickhouse {

// Extracts N from a "Code: N" error body; -1 when absent.
int ParseErrorCode(std::string_view body);

// True when an error with this code may succeed if the same insert is retried later.
bool IsRetryableCode(int code, std::string_view message);

// Builds the status for a failed HTTP exchange with ClickHouse: Unavailable for
// retryable failures, InvalidArgument/FailedPrecondition for permanent ones.
Status StatusFromResponse(int http_status, std::string_view body);

}  // namespace sluice::clickhouse
