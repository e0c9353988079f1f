#include "receivers/status_map.h"

#include "core/text.h"
#include "otlp/wire.h"

namespace sluice::receivers {
namespace {

using otlp::kLen;
using otlp::kVarint;
using otlp::PutTag;
using otlp::PutVarint;

void PutLenField(uint32_t field, std::string_view bytes, std::string* out) {
  PutTag(field, kLen, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

std::string RetryInfoProto(int seconds) {
  std::string duration;  // google.protobuf.Duration{seconds}
  PutTag(1, kVarint, &duration);
  PutVarint(static_cast<uint64_t>(seconds), &duration);
  std::string retry_info;  // google.rpc.RetryInfo{retry_delay}
  PutLenField(1, duration, &retry_info);
  std::string any;  // google.protobuf.Any
  PutLenField(1, "type.googleapis.com/google.rpc.RetryInfo", &any);
  PutLenField(2, retry_info, &any);
  return any;
}

std::string StatusProto(int code, std::string_view message, int retry_seconds) {
  std::string out;
  if (code != 0) {
    PutTag(1, kVarint, &out);
    PutVarint(static_cast<uint64_t>(code), &out);
  }
  if (!message.empty()) PutLenField(2, message, &out);
  if (retry_seconds > 0) PutLenField(3, RetryInfoProto(retry_seconds), &out);
  return out;
}

std::string StatusJson(int code, std::string_view message, int retry_seconds) {
  std::string out = "{\"code\":";
  AppendInt(code, &out);
  out += ",\"message\":";
  AppendJsonString(message, &out);
  if (retry_seconds > 0) {
    out +=
        ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"";
    AppendInt(retry_seconds, &out);
    out += "s\"}]";
  }
  out += "}";
  return out;
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kResourceExhausted: return 413;
    case absl::StatusCode::kUnimplemented: return 415;
    case absl::StatusCode::kUnavailable: return IsOverload(s) ? 429 : 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

}  // namespace

int RetryDelaySeconds(const Status& s) {
  if (s.code() != absl::StatusCode::kUnavailable) return 0;
  return IsOverload(s) ? 1 : 5;
}

HttpAnswer HttpError(const Status& s, bool json) {
  HttpAnswer a;
  a.status = HttpStatusOf(s);
  int retry = RetryDelaySeconds(s);
  a.retry_after_seconds = retry;
  const int code = static_cast<int>(s.code());
  if (json) {
    a.content_type = "application/json";
    a.body = StatusJson(code, std::string(s.message()), retry);
  } else {
    a.content_type = "application/x-protobuf";
    a.body = StatusProto(code, std::string(s.message()), retry);
  }
  return a;
}

std::string ExportResponseProto(uint64_t rejected, const std::string& message) {
  if (rejected == 0 && message.empty()) return "";
  std::string partial;
  if (rejected > 0) {
    PutTag(1, kVarint, &partial);
    PutVarint(rejected, &partial);
  }
  if (!message.empty()) PutLenField(2, message, &partial);
  std::string out;
  PutLenField(1, partial, &out);
  return out;
}

HttpAnswer HttpSuccess(Signal signal, uint64_t rejected, const std::string& message, bool json) {
  HttpAnswer a;
  a.status = 200;
  if (!json) {
    a.content_type = "application/x-protobuf";
    a.body = ExportResponseProto(rejected, message);
    return a;
  }
  a.content_type = "application/json";
  if (rejected == 0 && message.empty()) {
    a.body = "{}";
    return a;
  }
  const char* key = signal == Signal::kLogs     ? "rejectedLogRecords"
                    : signal == Signal::kTraces ? "rejectedSpans"
                                                : "rejectedDataPoints";
  a.body = "{\"partialSuccess\":{\"";
  a.body += key;
  a.body += "\":\"";
  AppendUInt(rejected, &a.body);
  a.body += "\",\"errorMessage\":";
  AppendJsonString(message, &a.body);
  a.body += "}}";
  return a;
}

GrpcAnswer GrpcError(const Status& s) {
  GrpcAnswer a;
  a.code = static_cast<int>(s.code());                           // absl codes are the gRPC codes
  if (s.code() == absl::StatusCode::kUnimplemented) a.code = 3;  // unsupported coding: bad input
  a.message = std::string(s.message());
  int retry = RetryDelaySeconds(s);
  a.details = StatusProto(a.code, a.message, retry);
  return a;
}

}  // namespace sluice::receivers
