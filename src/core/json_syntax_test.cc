#include "core/json_syntax.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string Where(std::string_view text) {
  JsonSyntaxError e = CheckJsonSyntax(text);
  if (e.line == 0) return "ok";
  return std::to_string(e.line) + ":" + std::to_string(e.column) + " " + e.message;
}

TEST(JsonSyntax, AcceptsValidDocuments) {
  EXPECT_EQ(Where("{}"), "ok");
  EXPECT_EQ(Where(" {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\n\"], \"b\": {}}\n"), "ok");
  EXPECT_EQ(Where("[]"), "ok");
}

TEST(JsonSyntax, PointsAtTheError) {
  EXPECT_EQ(Where("{\n  \"a\": 1,\n  \"b\": 2,\n}"), "4:1 expected a quoted key after ','");
  EXPECT_EQ(Where("{\n  \"a\": 1\n  \"b\": 2\n}"),
            "3:3 expected ',' or '}' after a value in an object");
  EXPECT_EQ(Where("{\"a\" 1}"), "1:6 expected ':' after the key");
  EXPECT_EQ(Where("{\"a\": [1, 2,]}"), "1:13 expected a value (a trailing comma?)");
  EXPECT_EQ(Where("{\"a\": tru}"),
            "1:7 expected a value (a string, number, object, array, true, false or null)");
  EXPECT_EQ(Where("{\"a\": \"x}"), "1:10 a string is not closed");
  EXPECT_EQ(Where("{\"a\": 1} x"), "1:10 unexpected text after the end of the document");
  EXPECT_EQ(Where("{\"a\": [1"),
            "1:9 unexpected end of the document (an object or array is not closed)");
  EXPECT_EQ(Where("{'a': 1}"), "1:2 expected a quoted key or '}'");
  EXPECT_EQ(Where("{\"a\": 01}"), "1:8 expected ',' or '}' after a value in an object");
}

TEST(JsonSyntax, DeepNestingIsIterative) {
  std::string deep(1000000, '[');
  deep += std::string(1000000, ']');
  EXPECT_EQ(Where(deep), "ok");
}

}  // namespace
}  // namespace sluice
