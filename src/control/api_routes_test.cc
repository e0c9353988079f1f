#include "control/api_routes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "control/openapi.h"
#include "control/store.h"
#include "core/cat.h"

namespace sluice::control {
namespace {

using nlohmann::json;
using receivers::HttpAnswer;

// A pipeline whose ClickHouse never answers (port 1): it fails at start, which is all the
// routing needs.
const char* kDoc = R"({"version":"v3","pipeline_id":"unit-api","sources":[{"type":"otlp.logs",
  "source_id":"logs"}],"sink":{"type":"clickhouse","connection_params":{"host":"127.0.0.1",
  "port":"1","database":"d","username":"u","password":""},"table":"t","max_batch_size":10,
  "mapping":[{"name":"body","column_name":"Body","column_type":"String"}]}})";

class ApiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = Cat(::testing::TempDir(), "/api_routes_", getpid());
    std::filesystem::remove_all(dir_);
    Open();
  }
  // A registry and a controller over dir_, loaded as at a server's start.
  void Open() {
    pipeline::Limits limits;
    limits.data_dir = dir_;
    limits.shutdown_timeout = std::chrono::milliseconds(2000);
    registry_ = std::make_unique<pipeline::Registry>(limits);
    ControllerOptions o;
    o.data_dir = dir_;
    o.validation.check_tables = false;
    controller_ = std::make_unique<Controller>(*registry_, o);
    controller_->Load();
  }
  // Stops everything as a server's shutdown does.
  void Close() {
    controller_->Shutdown();
    registry_->StopAll();
    controller_.reset();
    registry_.reset();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  HttpAnswer Call(std::string_view method, std::string_view path, std::string_view query = "",
                  std::string_view body = "") {
    HttpAnswer a;
    EXPECT_TRUE(ServeApi(*controller_, method, path, query, body, &a)) << path;
    return a;
  }
  std::string WaitStatus(const std::string& want) {
    std::string last;
    for (int i = 0; i < 200; ++i) {
      auto s = controller_->StatusOf("unit-api");
      last = s ? std::string(StatusName(*s)) : "none";
      if (last == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }
  std::string dir_;
  std::unique_ptr<pipeline::Registry> registry_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(ApiRoutesTest, RoutesMethodsAndErrors) {
  HttpAnswer a;
  EXPECT_FALSE(ServeApi(*controller_, "GET", "/metrics", "", "", &a));
  EXPECT_EQ(Call("GET", "/api/v1/pipeline").body, "[]");
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/").status, 200);  // a trailing slash
  EXPECT_EQ(Call("PUT", "/api/v1/pipeline").status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/nothing").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api").status, 404);
  a = Call("POST", "/api/v1/pipeline", "", kDoc);
  EXPECT_EQ(a.status, 204) << a.body;
  EXPECT_EQ(Call("POST", "/api/v1/pipeline", "", kDoc).status, 409);
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api/dlq/consume", "batch_size=0").status, 422);
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api/dlq/consume", "batch_size=1000").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api/dlq/list", "cursor=-1").status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/filter/validate", "", "{}").status, 422);  // no expression
  EXPECT_EQ(Call("POST", "/api/v1/filter/validate", "",
                 R"({"expression": "body != ''", "source_type": "otlp.logs"})")
                .status,
            204);
  // Its ClickHouse does not answer: Failed, which may be stopped (it still buffers).
  EXPECT_EQ(WaitStatus("Failed"), "Failed");
  EXPECT_EQ(Call("POST", "/api/v1/pipeline/unit-api/stop").status, 204);
  EXPECT_EQ(WaitStatus("Stopped"), "Stopped");
  a = Call("POST", "/api/v1/pipeline/unit-api/terminate");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(json::parse(a.body)["code"], "PIPELINE_ALREADY_IN_STATE");
  EXPECT_EQ(Call("POST", "/api/v1/pipeline/unit-api/edit", "", kDoc).status, 204);  // resumes
  EXPECT_EQ(WaitStatus("Failed"), "Failed");
  EXPECT_EQ(Call("POST", "/api/v1/pipeline/unit-api/terminate").status, 204);
  EXPECT_EQ(WaitStatus("Stopped"), "Stopped");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/pipelines/unit-api"));
  EXPECT_EQ(Call("DELETE", "/api/v1/pipeline/unit-api").status, 204);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/pipelines/unit-api"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/api/pipelines/unit-api.json"));
  EXPECT_EQ(registry_->Find("unit-api"), nullptr);
}

TEST_F(ApiRoutesTest, TheDocumentDescribesEveryRoute) {
  const json& doc = OpenApiDocument();
  size_t ops = 0;
  for (const auto& [path, methods] : doc["paths"].items()) ops += methods.size();
  EXPECT_EQ(ops, ApiRoutes().size());
  for (const RouteSpec& r : ApiRoutes()) {
    std::string m = r.method;
    for (char& c : m) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(doc["paths"].contains(r.path)) << r.path;
    const json& op = doc["paths"][r.path][m];
    for (const auto& [code, schema] : r.responses) {
      ASSERT_TRUE(op["responses"].contains(std::to_string(code))) << r.path << " " << code;
      if (!schema.empty()) {
        EXPECT_TRUE(doc["components"]["schemas"].contains(schema)) << schema;
      }
    }
    if (!r.request_schema.empty()) {
      EXPECT_TRUE(doc["components"]["schemas"].contains(r.request_schema)) << r.request_schema;
    }
  }
}

// The console's routes: validate without creating, a test record followed into the buffer,
// the table view when ClickHouse does not answer, and the sampled history.
TEST_F(ApiRoutesTest, ConsoleRoutes) {
  HttpAnswer a = Call("POST", "/api/v1/pipeline/validate", "", kDoc);
  EXPECT_EQ(a.status, 204) << a.body;
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api").status, 404);  // nothing was created
  std::string bad = kDoc;
  bad.replace(bad.find("\"name\":\"body\""), 13, "\"name\":\"bodx\"");
  a = Call("POST", "/api/v1/pipeline/validate", "", bad);
  ASSERT_EQ(a.status, 422) << a.body;
  EXPECT_EQ(json::parse(a.body)["errors"][0]["field"], "sink.mapping[0].name") << a.body;
  EXPECT_EQ(Call("POST", "/api/v1/pipeline/validate", "", "{").status, 400);

  EXPECT_EQ(Call("POST", "/api/v1/pipeline/unit-api/test-record").status, 404);
  ASSERT_EQ(Call("POST", "/api/v1/pipeline", "", kDoc).status, 204);
  ASSERT_EQ(WaitStatus("Failed"), "Failed");
  a = Call("POST", "/api/v1/pipeline/unit-api/test-record");
  ASSERT_EQ(a.status, 202) << a.body;
  const json sent = json::parse(a.body);
  const std::string test_id = sent["test_id"];
  EXPECT_EQ(sent["text"], Cat("sluice test record ", sent["marker"].get<std::string>()));
  // Its ClickHouse does not answer: the record waits in the buffer, with the reason.
  a = Call("GET", "/api/v1/pipeline/unit-api/test-record", Cat("test_id=", test_id));
  ASSERT_EQ(a.status, 200) << a.body;
  const json where = json::parse(a.body);
  EXPECT_EQ(where["status"], "buffered") << a.body;
  EXPECT_NE(where["detail"].get<std::string>().find("last error"), std::string::npos) << a.body;
  for (std::string bad_id :
       {"", "xyz", "0123456789abcdef", "0123456789abcdeg-1", "0123456789abcdef-1x", "0123-1"})
    EXPECT_EQ(Call("GET", "/api/v1/pipeline/unit-api/test-record", Cat("test_id=", bad_id)).status,
              422)
        << bad_id;
  a = Call("GET", "/api/v1/pipeline/unit-api/table");
  EXPECT_EQ(a.status, 503) << a.body;
  EXPECT_EQ(Call("GET", "/api/v1/pipeline/nope/table").status, 404);
  a = Call("GET", "/api/v1/stats/history");
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(json::parse(a.body).contains("interval_seconds")) << a.body;
}

// A DELETE cut short by a crash (its record says "being deleted") is finished at the next
// start: the data goes, then the record; the pipeline does not come back.
TEST_F(ApiRoutesTest, AnInterruptedDeleteIsFinishedAtStart) {
  ASSERT_EQ(Call("POST", "/api/v1/pipeline", "", kDoc).status, 204);
  ASSERT_EQ(WaitStatus("Failed"), "Failed");
  Close();
  PipelineStore store(PosixFilesystem(), dir_);
  std::vector<std::string> problems;
  auto recs = store.LoadAll(&problems);
  ASSERT_EQ(recs.size(), 1u);
  recs[0].deleted = true;
  ASSERT_TRUE(store.Put(recs[0]).ok());
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/pipelines/unit-api"));
  Open();
  EXPECT_FALSE(controller_->StatusOf("unit-api").has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/pipelines/unit-api"));
  EXPECT_TRUE(store.LoadAll(&problems).empty());
}

// A stored record brings its pipeline back in its state after a restart.
TEST_F(ApiRoutesTest, StoppedStaysStoppedAcrossRestarts) {
  ASSERT_EQ(Call("POST", "/api/v1/pipeline", "", kDoc).status, 204);
  ASSERT_EQ(WaitStatus("Failed"), "Failed");
  ASSERT_EQ(Call("POST", "/api/v1/pipeline/unit-api/resume").status, 204);
  EXPECT_EQ(Call("POST", "/api/v1/pipeline/unit-api/terminate").status, 204);
  ASSERT_EQ(WaitStatus("Stopped"), "Stopped");
  Close();
  Open();
  EXPECT_EQ(WaitStatus("Stopped"), "Stopped");
  ASSERT_NE(registry_->Find("unit-api"), nullptr);  // parked: it takes requests
}

}  // namespace
}  // namespace sluice::control
