// Error values used across Sluice. Every error is an absl::Status; whether it may be
// retried is a function of its code alone (see IsRetryable), never a separate flag.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"

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
    case absl::StatusCode::kCancelled: return true;
    default: return false;
  }
}

}  // namespace sluice

namespace sluice {

// Overload is Unavailable tagged with a payload, so that the status map can answer
// 429 + Retry-After (HTTP) instead of 503; gRPC gets UNAVAILABLE + RetryInfo for both.
inline constexpr char kOverloadPayload[] = "sluice.dev/overload";

inline Status Overloaded(std::string_view message) {
  Status s = absl::UnavailableError(std::string(message));
  s.SetPayload(kOverloadPayload, absl::Cord("1"));
  return s;
}
inline bool IsOverload(const Status& s) {
  return s.code() == absl::StatusCode::kUnavailable && s.GetPayload(kOverloadPayload).has_value();
}

}  // namespace sluice
