#include "control/migrate.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

using nlohmann::json;

TEST(Migrate, KafkaPipelineWithDedupFilterAndStateless) {
  json v2 = json::parse(R"J({
    "version": "v2", "pipeline_id": "orders", "name": "Orders",
    "source": {"type": "kafka", "connection_params": {"brokers": ["k:9092"]},
      "topics": [{"name": "orders", "consumer_group_initial_offset": "latest",
                  "deduplication": {"enabled": true, "key": "order_id", "time_window": "12h"},
                  "schema": {"type": "json", "fields": [{"name": "order_id", "type": "string"}]}}]},
    "filter": {"enabled": true, "expression": "amount < 0"},
    "stateless_transformation": {"id": "t", "type": "expr_lang_transform", "enabled": true,
      "source_id": "orders", "config": {"transform": [{"expression": "upper(x)", "output_name": "y",
      "output_type": "string"}]}},
    "sink": {"type": "clickhouse", "provider": "x", "connection_params": {"host": "ch", "port": "9000",
      "database": "db", "username": "u", "password": "cGFzcw==", "secure": true},
      "table": "orders", "max_batch_size": 500, "max_delay_time": "5s",
      "mapping": [{"name": "order_id", "column_name": "id", "column_type": "String"}]},
    "metadata": {"tags": ["a"]},
    "pipeline_resources": {"nats": {"stream": {"maxAge": "24h"}}, "transform": {"replicas": 2,
      "storage": {"size": "5Gi"}}, "ingestor": {"base": {"replicas": 3}}}
  })J");
  auto v3 = MigrateV2ToV3(v2);
  ASSERT_TRUE(v3.ok()) << v3.status();
  const json& d = *v3;
  EXPECT_EQ(d["version"], "v3");
  EXPECT_EQ(d["sources"][0]["topic"], "orders");
  EXPECT_EQ(d["sources"][0]["consumer_group_initial_offset"], "latest");
  EXPECT_EQ(d["sources"][0]["schema_fields"],
            json::parse(R"J([{"name":"order_id","type":"string"}])J"));
  EXPECT_EQ(
      d["transforms"][0],
      json::parse(
          R"J({"type":"dedup","source_id":"orders","config":{"key":"order_id","time_window":"12h"}})J"));
  EXPECT_EQ(d["transforms"][1]["config"]["expression"], "!(amount < 0)");
  EXPECT_EQ(d["transforms"][2]["type"], "stateless");
  EXPECT_EQ(d["transforms"][2]["config"]["transforms"][0]["output_name"], "y");
  EXPECT_EQ(d["sink"]["connection_params"]["password"], "pass");
  EXPECT_EQ(d["sink"]["connection_params"]["secure"], true);
  EXPECT_EQ(d["sink"]["max_batch_size"], 500);
  EXPECT_EQ(d["resources"]["transform"][0]["source_id"], "orders");
  EXPECT_EQ(d["resources"]["sources"][0]["replicas"], 3);
  EXPECT_EQ(d["metadata"]["tags"][0], "a");
}

TEST(Migrate, OtlpSourceAndFlatSink) {
  auto v3 = MigrateV2ToV3(json::parse(R"J({"pipeline_id": "otel-logs",
    "source": {"type": "otlp.logs"},
    "sink": {"host": "ch", "port": "9000", "database": "d", "username": "u", "password": "",
             "table": "t", "table_mapping": [{"field_name": "body", "column_name": "Body",
             "column_type": "String"}]}})J"));
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ((*v3)["sources"], json::parse(R"J([{"type":"otlp.logs","source_id":"logs"}])J"));
  EXPECT_EQ((*v3)["sink"]["mapping"][0]["name"], "body");
  EXPECT_FALSE(v3->contains("transforms"));
}

TEST(Migrate, RefusesWhatIsNotV2) {
  EXPECT_FALSE(MigrateV2ToV3(json::array()).ok());
  EXPECT_FALSE(MigrateV2ToV3(json::parse(R"J({"version":"v3"})J")).ok());
  EXPECT_FALSE(MigrateV2ToV3(json::parse(R"J({"source":{"type":"kafka","topics":[]}})J")).ok());
  EXPECT_FALSE(MigrateV2ToV3(json::parse(R"J({"source":{"type":"otlp.logs"}})J")).ok());  // no sink
}

}  // namespace
}  // namespace sluice::control
