// Error values used across Sluice. Every error is an absl::Status; whether it may be
// retried is a function of its code alone (see IsRetryable), never a separate flag.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice {

using Status = absl::Status;
template <class T>
using StatusOr = absl::StatusOr<T>;

// Retryable: the same request may succeed later (overload, outage, timeout).
// Permanent: the request itself is wrong and must not be retried.
inline bool IsRetryable(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace sluice
