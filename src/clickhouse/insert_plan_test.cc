#include "clickhouse/insert_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clickhouse/errors.h"

namespace sluice::clickhouse {
namespace {

std::vector<TableColumn> Table(const std::string& tsv) {
  auto cols = ParseDescribe(tsv);
  EXPECT_TRUE(cols.ok());
  return *cols;
}

TEST(InsertPlan, BindsColumnsAndNested) {
  auto table = Table(
      "Body\tString\t\t\n"
      "Attrs.key\tArray(String)\t\t\n"
      "Attrs.value\tArray(String)\t\t\n"
      "Events.Name\tArray(String)\t\t\n"
      "Events.Timestamp\tArray(DateTime64(9))\t\t\n"
      "Service\tLowCardinality(String)\tDEFAULT\t''\n");
  std::vector<MappingEntry> m = {{"body", "Body", "String"},
                                 {"attributes", "Attrs", "Nested(key String, value String)"},
                                 {"events", "Events", ""},
                                 {"resource_attributes.service.name", "Service", ""}};
  auto plan = BuildPlan(Signal::kTraces, {m[2], m[3], m[1]}, table, "otel", "t");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->insert_into,
            "INSERT INTO `otel`.`t` (`Events.Name`, `Events.Timestamp`, `Service`, `Attrs.key`, "
            "`Attrs.value`)");
  EXPECT_EQ(plan->columns[0].part, Part::kMember);
  EXPECT_EQ(plan->columns[3].part, Part::kMapKeys);
  EXPECT_EQ(plan->columns[4].part, Part::kMapValues);
}

TEST(InsertPlan, FailsClearly) {
  auto table = Table(
      "Body\tString\n"
      "N\tUInt64\n"
      "M\tMap(String, String)\n"
      "Mat\tString\tMATERIALIZED\tBody\n"
      "D\tDecimal(10, 2)\n"
      "Ev.Bogus\tArray(String)\n");
  auto err = [&](std::vector<MappingEntry> m) {
    auto p = BuildPlan(Signal::kLogs, m, table, "db", "t");
    EXPECT_FALSE(p.ok());
    return std::string(p.status().message());
  };
  using ::testing::HasSubstr;
  EXPECT_THAT(err({{"body", "Missing", "String"}}),
              HasSubstr("column 'Missing' (mapped from 'body') does not exist in db.t"));
  EXPECT_THAT(err({{"no_such_field", "Body", "String"}}), HasSubstr("not in the otlp.logs schema"));
  EXPECT_THAT(err({{"attributes", "N", "UInt64"}}), HasSubstr("cannot be written to column 'N'"));
  EXPECT_THAT(err({{"body", "M", ""}}), HasSubstr("only map fields fit Map columns"));
  EXPECT_THAT(err({{"body", "Mat", ""}}), HasSubstr("MATERIALIZED"));
  EXPECT_THAT(err({{"body", "D", ""}}), HasSubstr("cannot write"));
  EXPECT_THAT(err({{"body", "Body", ""}, {"severity_text", "Body", ""}}),
              HasSubstr("mapped twice"));
  EXPECT_THAT(err({{"body", "Body", "NotAType("}}), HasSubstr("mapping for 'body'"));
  auto traces_table = Table("Ev.Bogus\tArray(String)\n");
  auto p = BuildPlan(Signal::kTraces, {{"events", "Ev", ""}}, traces_table, "db", "t");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("matches no member of 'events'"));
}

TEST(ClickHouseErrors, Classification) {
  EXPECT_EQ(ParseErrorCode("Code: 252, e.displayText() = DB::Exception: Too many parts"), 252);
  EXPECT_EQ(ParseErrorCode("Code: 60. DB::Exception: Table x does not exist. (UNKNOWN_TABLE)"), 60);
  EXPECT_EQ(ParseErrorCode("nothing"), -1);
  EXPECT_TRUE(IsRetryableCode(252, "Too many parts (300). Merges are processing slower"));
  EXPECT_FALSE(IsRetryableCode(252, "Too many partitions for single INSERT block (more than 100)"));
  EXPECT_TRUE(IsRetryableCode(241, ""));
  EXPECT_FALSE(IsRetryableCode(53, ""));
  EXPECT_EQ(
      StatusFromResponse(500, "Code: 241, e.displayText() = DB::Exception: Memory limit").code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(
      StatusFromResponse(500, "Code: 27, e.displayText() = DB::Exception: Cannot parse").code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromResponse(503, "Service Unavailable").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromResponse(404, "Not Found").code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sluice::clickhouse
