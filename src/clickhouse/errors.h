// Classification of ClickHouse failures into retryable and permanent statuses, the one
// place that knows ClickHouse error codes (clickhouse-protocol.md §8, glassflow.md §5.5).
#pragma once

#include <string_view>

#include "core/status.h"

namespace sluice::clickhouse {

// Extracts N from a "Code: N" error body; -1 when absent.
int ParseErrorCode(std::string_view body);
// The same for a status made by StatusFromResponse (its message carries the body).
int ParseErrorCode(const Status& s);

// True when an error with this code may succeed if the same insert is retried later.
bool IsRetryableCode(int code, std::string_view message);

// The table's fault, not the rows': the table, database or a column is gone, or the user
// may not write. Permanent for the rows, but a pipeline waits them out.
bool IsTableLevelCode(int code);

// ClickHouse is overwhelmed by parts or by concurrent queries: fewer, larger INSERTs help.
bool IsPressureCode(int code);

// A materialized view rejected the INSERT: ClickHouse writes the table before its views,
// so the table holds the INSERT's rows already (unless it stores nothing).
bool IsViewRejection(std::string_view message);

// Builds the status for a failed HTTP exchange with ClickHouse: Unavailable for
// retryable failures, InvalidArgument/FailedPrecondition for permanent ones.
Status StatusFromResponse(int http_status, std::string_view body);

// The same for an Exception packet of the native protocol (`text` starts "Code: N.").
Status StatusFromException(int code, std::string_view text);

}  // namespace sluice::clickhouse
