#include "clickhouse/errors.h"

#include <gtest/gtest.h>

namespace sluice::clickhouse {
namespace {

TEST(ClickHouseErrors, ClassifiesWhatTheBodySays) {
  const Status dropped = StatusFromResponse(
      404, "Code: 60, e.displayText() = DB::Exception: Table otel.t doesn't exist.");
  EXPECT_EQ(ParseErrorCode(dropped), 60);
  EXPECT_TRUE(IsTableLevelCode(ParseErrorCode(dropped)));
  const Status parts = StatusFromResponse(500, "Code: 252, e.displayText() = Too many parts");
  EXPECT_TRUE(IsRetryable(parts));
  EXPECT_TRUE(IsPressureCode(ParseErrorCode(parts)));
  const Status view = StatusFromResponse(
      500, "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is "
           "non zero: while pushing to view t1.mv");
  EXPECT_TRUE(IsViewRejection(std::string(view.message())));
  EXPECT_FALSE(IsTableLevelCode(ParseErrorCode(view)));
  EXPECT_EQ(ParseErrorCode(absl::UnavailableError("connect: refused")), -1);
}

}  // namespace
}  // namespace sluice::clickhouse
