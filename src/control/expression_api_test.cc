#include "control/expression_api.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

TEST(ExpressionApi, ValidateFilter) {
  const std::string fields =
      R"j("fields": [{"field_name": "env", "field_type": "string"}, {"field_name": "value", "field_type": "int32"},
                    {"field_name": "user.age", "field_type": "int"}, {"field_name": "tags", "field_type": "array"}])j";
  auto v = [&](const std::string& e) {
    return ValidateFilter(R"j({"expression": )j" + e + ", " + fields + "}");
  };
  EXPECT_TRUE(v(R"j("env == \"production\"")j").ok());
  EXPECT_TRUE(v(R"j("user.age > 18 and 'x' in tags")j").ok());  // dotted names nest
  ApiError e = v(R"j("env == ")j");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "validation_error");
  EXPECT_EQ(e.message, "Filter expression validation failed");
  EXPECT_EQ(e.details["error"],
            "compile expression: unexpected token EOF (1:7)\n | env == \n | ......^");
  EXPECT_EQ(v(R"j("value % 2 == 0")j").status, 400);  // numbers are float64
  EXPECT_TRUE(v(R"j("int(value) % 2 == 0")j").ok());
  EXPECT_EQ(v(R"j("env")j").details["error"], "expression evaluated to string, not bool");
  EXPECT_EQ(v(R"j("nosuch > 1")j").status, 400);
  EXPECT_EQ(v(R"j("  ")j").details["error"], "empty expression");
  EXPECT_EQ(ValidateFilter(R"j({"fields": []})j").status, 422);
  EXPECT_EQ(ValidateFilter("[1]").status, 422);
  EXPECT_EQ(ValidateFilter(
                R"j({"expression": "x", "fields": [{"field_name": "x", "field_type": "uuid"}]})j")
                .details["error"],
            "get default value for field x: unknown field type: uuid");
  EXPECT_TRUE(
      ValidateFilter(
          R"j({"expression": "span_id != '' and duration_ns > 5", "source_type": "otlp.traces"})j")
          .ok());
  EXPECT_EQ(ValidateFilter(R"j({"expression": "nope", "source_type": "otlp.traces"})j").status,
            400);
}

TEST(ExpressionApi, EvaluateTransform) {
  std::string out;
  ApiError e = EvaluateTransform(
      R"j({"type": "expr_lang_transform", "config": {"transform": [
          {"expression": "upper(status)", "output_name": "s", "output_type": "string"},
          {"expression": "n", "output_name": "f", "output_type": "float64"},
          {"expression": "n * 1e21", "output_name": "big", "output_type": "float64"},
          {"expression": "1e-7", "output_name": "small", "output_type": "float64"},
          {"expression": "'010'", "output_name": "octal", "output_type": "int"},
          {"expression": "'yes'", "output_name": "s2", "output_type": "string"},
          {"expression": "parseQuery(q)", "output_name": "q", "output_type": "map"}]},
          "sample": {"status": "ok", "n": 4, "q": "a=1&a=2&b=<"}})j",
      &out);
  ASSERT_TRUE(e.ok()) << e.Body();
  EXPECT_EQ(
      out,
      R"j({"big":4000000000000000000000.0,"f":4.0,"octal":8,"q":{"a":["1","2"],"b":"\u003c"},"s":"OK","s2":"yes","small":0.0000001})j");
  // With no transforms the sample comes back as it is.
  ASSERT_TRUE(
      EvaluateTransform(
          R"j({"type": "expr_lang_transform", "config": {"transform": []}, "sample": {"a": 1}})j",
          &out)
          .ok());
  EXPECT_EQ(out, R"j({"a":1})j");
  e = EvaluateTransform(R"j({"type": "expr_lang_transform", "config": {"transforms": [
      {"expression": "x +", "output_name": "y", "output_type": "string"}]}, "sample": {}})j",
                        &out);
  EXPECT_EQ(e.code, "transformation_error");
  EXPECT_EQ(e.details["error"].get<std::string>().rfind(
                "compile transformations: failed to compile transformation: compile transformation "
                "0 expression: ",
                0),
            0u);
  e = EvaluateTransform(R"j({"type": "expr_lang_transform", "config": {"transform": [
      {"expression": "'abc'", "output_name": "y", "output_type": "bool"}]}, "sample": {}})j",
                        &out);
  EXPECT_EQ(e.details["error"],
            "execute transformation: convert result for column y: unable to cast abc of type "
            "string to bool");
  e = EvaluateTransform(R"j({"type": "expr_lang_transform", "config": {"transform": [
      {"expression": "1 / 0", "output_name": "y", "output_type": "float64"}]}, "sample": {}})j",
                        &out);
  EXPECT_EQ(e.status, 400);
  e = EvaluateTransform(R"j({"type": "other", "config": {}, "sample": {}})j", &out);
  EXPECT_EQ(e.code, "invalid_transformation_type");
}

}  // namespace
}  // namespace sluice::control
