#include "control/validation.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

using nlohmann::json;

const char* kDoc = R"({"version":"v3","pipeline_id":"unit-logs","sources":[{"type":"otlp.logs",
  "source_id":"logs"}],"sink":{"type":"clickhouse","connection_params":{"host":"127.0.0.1",
  "port":"1","database":"d","username":"u","password":""},"table":"t","max_batch_size":10,
  "mapping":[{"name":"body","column_name":"Body","column_type":"String"}]}})";

ValidationOptions Offline() {
  ValidationOptions o;
  o.check_tables = false;
  return o;
}

std::vector<std::string> Fields(const ApiError& e) {
  std::vector<std::string> out;
  for (const auto& x : e.errors) out.push_back(x.value("field", ""));
  return out;
}

TEST(Validation, AValidDocument) {
  pipeline::PipelineConfig c;
  EXPECT_TRUE(ValidateDocument(kDoc, Offline(), &c).ok());
  EXPECT_EQ(c.id, "unit-logs");
}

TEST(Validation, EachProblemNamesItsField) {
  pipeline::PipelineConfig c;
  EXPECT_EQ(ValidateDocument("{\"a\":", Offline(), &c).status, 400);
  EXPECT_EQ(ValidateDocument("[]", Offline(), &c).status, 422);
  json d = json::parse(kDoc);
  d["sink"]["batch"] = 1;
  d["extra"] = true;
  ApiError e = ValidateDocument(d.dump(), Offline(), &c);
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(Fields(e), (std::vector<std::string>{"extra", "sink.batch"}));
  d = json::parse(kDoc);
  d["sink"]["mapping"].push_back(
      {{"name", "bodyy"}, {"column_name", "B"}, {"column_type", "Strin"}});
  e = ValidateDocument(d.dump(), Offline(), &c);
  EXPECT_EQ(Fields(e),
            (std::vector<std::string>{"sink.mapping[1].name", "sink.mapping[1].column_type"}));
  EXPECT_FALSE(e.details["error"].get<std::string>().empty());
  d = json::parse(kDoc);
  d["sink"]["max_batch_size"] = 0;
  EXPECT_EQ(Fields(ValidateDocument(d.dump(), Offline(), &c)),
            std::vector<std::string>{"sink.max_batch_size"});
}

TEST(Validation, DuplicateKeysAndWrongTypesAreRefused) {
  pipeline::PipelineConfig c;
  std::string dup = kDoc;
  dup.insert(dup.rfind('}') - 1, R"(,"table":"other")");  // a second sink.table
  ApiError e = ValidateDocument(dup, Offline(), &c);
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(Fields(e), std::vector<std::string>{"sink.table"});
  json d = json::parse(kDoc);
  d["pipeline_id"] = false;
  d["sink"]["max_batch_size"] = "10";
  d["sink"]["connection_params"]["secure"] = "yes";
  d["sink"]["mapping"][0]["column_type"] = 5;
  d["metadata"] = {{"tags", {"a", 1}}};
  e = ValidateDocument(d.dump(), Offline(), &c);
  EXPECT_EQ(Fields(e), (std::vector<std::string>{
                           "pipeline_id", "metadata.tags[1]", "sink.max_batch_size",
                           "sink.connection_params.secure", "sink.mapping[0].column_type"}));
  EXPECT_EQ(ValidateDocument("{\"name\":\"\xff\"}", Offline(), &c).status, 400);  // not UTF-8
}

// ClickHouse that does not answer is no reason to refuse: the pipeline checks when it starts.
TEST(Validation, UnreachableClickHouseIsNotAnError) {
  ValidationOptions o;
  o.timeout = std::chrono::milliseconds(500);
  pipeline::PipelineConfig c;
  EXPECT_TRUE(ValidateDocument(kDoc, o, &c).ok());
}

}  // namespace
}  // namespace sluice::control
