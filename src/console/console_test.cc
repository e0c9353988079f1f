#include "console/console.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "console/assets.h"

namespace sluice::console {
namespace {

using receivers::HttpAnswer;

std::string Header(const HttpAnswer& a, std::string_view name) {
  for (const auto& [k, v] : a.headers)
    if (k == name) return v;
  return "";
}

TEST(Console, ServesItsEmbeddedFilesWithAStrictPolicy) {
  HttpAnswer a;
  EXPECT_FALSE(ServeConsole("GET", "/api/v1/pipeline", &a));
  EXPECT_FALSE(ServeConsole("GET", "/uix", &a));
  ASSERT_TRUE(ServeConsole("GET", "/ui/", &a));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/html; charset=utf-8");
  EXPECT_NE(a.body.find("<html"), std::string::npos);
  EXPECT_NE(Header(a, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(a, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(a, "X-Frame-Options"), "DENY");
  // Every embedded file is served byte for byte, with its type.
  size_t files = 0;
  for (const Asset& f : Assets()) {
    HttpAnswer b;
    ASSERT_TRUE(ServeConsole("GET", f.path, &b)) << f.path;
    EXPECT_EQ(b.status, 200) << f.path;
    EXPECT_EQ(b.body, f.body) << f.path;
    EXPECT_EQ(b.content_type, f.content_type) << f.path;
    ++files;
  }
  EXPECT_GE(files, 9u);  // index, script, style and six templates at least
  ASSERT_TRUE(ServeConsole("GET", "/ui/app.js", &a));
  EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8");
  ASSERT_TRUE(ServeConsole("GET", "/ui/app.css", &a));
  EXPECT_EQ(a.content_type, "text/css; charset=utf-8");
}

TEST(Console, ListsTheTemplates) {
  HttpAnswer a;
  ASSERT_TRUE(ServeConsole("GET", "/ui/templates/", &a));
  ASSERT_EQ(a.status, 200);
  const auto list = nlohmann::json::parse(a.body);
  for (const char* name : {"otel-logs", "otel-traces", "otel-metrics", "clickstack-logs",
                           "clickstack-traces", "clickstack-metrics"}) {
    EXPECT_NE(std::find(list.begin(), list.end(), name), list.end()) << name << " " << a.body;
    ASSERT_TRUE(ServeConsole("GET", std::string("/ui/templates/") + name + ".json", &a));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(nlohmann::json::parse(a.body)["version"], "v3") << name;
  }
}

TEST(Console, RedirectsRefusesAndMisses) {
  HttpAnswer a;
  ASSERT_TRUE(ServeConsole("GET", "/ui", &a));
  EXPECT_EQ(a.status, 308);
  EXPECT_EQ(Header(a, "Location"), "/ui/");
  ASSERT_TRUE(ServeConsole("POST", "/ui/", &a));
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(Header(a, "Allow"), "GET, HEAD");
  ASSERT_TRUE(ServeConsole("GET", "/ui/../etc/passwd", &a));
  EXPECT_EQ(a.status, 404);
  ASSERT_TRUE(ServeConsole("GET", "/ui/nothing.js", &a));
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.content_type, "text/plain; charset=utf-8");
}

}  // namespace
}  // namespace sluice::console
