#include "receivers/status_map.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace sluice::receivers {
namespace {

TEST(StatusMap, HttpCodes) {
  EXPECT_EQ(HttpError(absl::InvalidArgumentError("x"), true).status, 400);
  EXPECT_EQ(HttpError(absl::NotFoundError("x"), true).status, 404);
  EXPECT_EQ(HttpError(absl::ResourceExhaustedError("x"), true).status, 413);
  EXPECT_EQ(HttpError(absl::UnimplementedError("x"), true).status, 415);
  HttpAnswer overload = HttpError(Overloaded("busy"), true);
  EXPECT_EQ(overload.status, 429);
  EXPECT_EQ(overload.retry_after_seconds, 1);
  HttpAnswer down = HttpError(absl::UnavailableError("down"), true);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.retry_after_seconds, 5);
  EXPECT_EQ(HttpError(absl::InternalError("x"), true).status, 500);
}

TEST(StatusMap, Bodies) {
  HttpAnswer j = HttpError(absl::InvalidArgumentError("bad \"id\""), true);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(j.body, R"({"code":3,"message":"bad \"id\""})");
  HttpAnswer p = HttpError(absl::InvalidArgumentError("bad"), false);
  EXPECT_EQ(p.content_type, "application/x-protobuf");
  EXPECT_EQ(absl::BytesToHexString(p.body), "08031203626164");
  HttpAnswer o = HttpError(Overloaded("busy"), true);
  EXPECT_EQ(
      o.body,
      R"({"code":14,"message":"busy","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}]})");
}

TEST(StatusMap, GrpcRetryInfoMatchesTheWireVector) {
  // otlp-wire.md §2.10: Status{14, "busy", [RetryInfo{5 s}]}.
  GrpcAnswer a = GrpcError(absl::UnavailableError("busy"));
  EXPECT_EQ(a.code, 14);
  EXPECT_EQ(
      absl::BytesToHexString(a.details),
      "080e1204627573791a300a28747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e52"
      "65747279496e666f12040a020805");
  GrpcAnswer r = GrpcError(absl::ResourceExhaustedError("too big"));
  EXPECT_EQ(r.code, 8);
  EXPECT_EQ(r.details.find("RetryInfo"), std::string::npos);  // not retryable
}

TEST(StatusMap, SuccessBodies) {
  EXPECT_EQ(ExportResponseProto(0, ""), "");
  EXPECT_EQ(absl::BytesToHexString(ExportResponseProto(2, "bad")), "0a0708021203626164");
  EXPECT_EQ(HttpSuccess(Signal::kTraces, 0, "", true).body, "{}");
  EXPECT_EQ(HttpSuccess(Signal::kTraces, 2, "bad", true).body,
            R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad"}})");
  EXPECT_EQ(HttpSuccess(Signal::kLogs, 1, "x", true).body,
            R"({"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"x"}})");
}

}  // namespace
}  // namespace sluice::receivers
