#include "control/expression_api.h"

#include <nlohmann/json.hpp>

#include "core/cat.h"
#include "core/text.h"
#include "expr/compiled.h"
#include "expr/json_record.h"
#include "expr/ops.h"
#include "expr/program.h"
#include "transform/otlp_record.h"
#include "transform/output.h"

namespace sluice::control {

using nlohmann::json;

namespace {

ApiError ShapeError(std::string message) {
  return {422, "unprocessable_entity", "validation failed: " + message, nullptr, nullptr};
}

ApiError FilterInvalid(const std::string& why) {
  ApiError e{400, "validation_error", "Filter expression validation failed", nullptr, nullptr};
  e.details = {{"error", why}};
  return e;
}

ApiError TransformError(const std::string& why) {
  ApiError e{400, "transformation_error", "Failed to evaluate transformation", nullptr, nullptr};
  e.details = {{"error", why}};
  return e;
}

// GlassFlow's normalisation of a declared field type; "" when unknown.
std::string NormalType(std::string t) {
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "string" || t == "bytes") return "string";
  if (t == "bool" || t == "boolean") return "bool";
  if (t == "int" || t == "integer" || t == "int8" || t == "int16" || t == "int32" || t == "int64")
    return "int";
  if (t == "uint" || t == "uint8" || t == "uint16" || t == "uint32" || t == "uint64") return "uint";
  if (t == "float" || t == "float32" || t == "float64" || t == "number") return "float";
  if (t == "array") return "array";
  if (t == "map" || t == "object") return "map";
  return "";
}

// A sample record of zero values for the declared fields; dotted names nest.
bool BuildSample(const json& fields, json* sample, std::string* why) {
  *sample = json::object();
  for (const json& f : fields) {
    if (!f.is_object() || !f.contains("field_name") || !f["field_name"].is_string()) {
      *why = "fields[] need a field_name";
      return false;
    }
    const std::string name = f["field_name"];
    const std::string declared = f.value("field_type", "");
    const std::string type = NormalType(declared);
    json zero;
    if (type == "string")
      zero = "";
    else if (type == "bool")
      zero = false;
    else if (type == "int" || type == "uint" || type == "float")
      zero = 0;
    else if (type == "array")
      zero = json::array();  // Sluice: arrays stay arrays
    else if (type == "map")
      zero = json::object();  // and maps maps
    else {
      *why = Cat("get default value for field ", name, ": unknown field type: ", declared);
      return false;
    }
    json* at = sample;
    size_t start = 0;
    while (true) {
      const size_t dot = name.find('.', start);
      const std::string part =
          name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (dot == std::string::npos) {
        (*at)[part] = zero;
        break;
      }
      if (!(*at)[part].is_object()) (*at)[part] = json::object();
      at = &(*at)[part];
      start = dot + 1;
    }
  }
  return true;
}

// The output record as Go's encoder writes it; float64 outputs keep a decimal point.
bool OutputJson(const std::vector<std::pair<std::string, expr::Value>>& outputs,
                const std::vector<bool>& float64, std::string* out, std::string* error) {
  std::vector<size_t> order(outputs.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return outputs[a].first < outputs[b].first; });
  out->push_back('{');
  bool first = true;
  for (size_t i : order) {
    if (!first) out->push_back(',');
    first = false;
    expr::AppendJson(expr::Value::Str(outputs[i].first), out, error);
    out->push_back(':');
    const expr::Value& v = outputs[i].second;
    if (float64[i] && v.kind == expr::Kind::kFloat) {
      if (v.f != v.f || v.f - v.f != 0) {
        *error = "json: unsupported value";
        return false;
      }
      std::string f;
      AppendDouble(v.f, &f);
      if (f.find('.') == std::string::npos) f += ".0";
      out->append(f);
    } else if (!expr::AppendJson(v, out, error)) {
      return false;
    }
  }
  out->push_back('}');
  return true;
}

}  // namespace

ApiError ValidateFilter(std::string_view body) {
  const json req = json::parse(body, nullptr, false);
  if (!req.is_object()) return ShapeError("the body must be a JSON object");
  if (!req.contains("expression") || !req["expression"].is_string())
    return ShapeError("expression: a string is required");
  const std::string expression = req["expression"];
  if (expression.find_first_not_of(" \t\r\n") == std::string::npos)
    return FilterInvalid("empty expression");
  expr::Arena arena;
  expr::JsonRecord sample_record;
  std::unique_ptr<transform::OtlpSchema> otlp;
  const expr::Schema* schema = &sample_record;
  std::string why;
  if (req.contains("source_type")) {
    const std::string st = req.value("source_type", "");
    Signal s;
    if (st == "otlp.logs")
      s = Signal::kLogs;
    else if (st == "otlp.traces")
      s = Signal::kTraces;
    else if (st == "otlp.metrics")
      s = Signal::kMetrics;
    else
      return ShapeError("source_type: one of otlp.logs, otlp.traces, otlp.metrics");
    otlp = std::make_unique<transform::OtlpSchema>(s);
    schema = otlp.get();
  } else {
    const json fields = req.value("fields", json::array());
    if (!fields.is_array()) return ShapeError("fields: an array is required");
    json sample;
    if (!BuildSample(fields, &sample, &why)) return FilterInvalid(why);
    if (!sample_record.Parse(sample.dump(), arena, &why)) return FilterInvalid(why);
  }
  auto p = expr::Program::Compile(expression, {schema, true, false});
  if (!p.ok()) return FilterInvalid(Cat("compile expression: ", p.status().message()));
  if (p->result_type() != expr::Type::kUnknown && p->result_type() != expr::Type::kBool)
    return FilterInvalid(
        Cat("expression evaluated to ", expr::TypeName(p->result_type()), ", not bool"));
  if (!otlp) {
    expr::Value v;
    if (!p->Run(sample_record, arena, &v, &why))
      return FilterInvalid(Cat("eval expression: ", why));
    if (v.kind != expr::Kind::kBool) {
      std::string shown;
      expr::AppendGoV(v, &shown);
      return FilterInvalid(
          Cat("expression evaluated to ", expr::GoTypeName(v), " ", shown, ", not bool"));
    }
  }
  return {};
}

ApiError EvaluateTransform(std::string_view body, std::string* out) {
  const json req = json::parse(body, nullptr, false);
  if (!req.is_object()) return ShapeError("the body must be a JSON object");
  if (req.value("type", "") != "expr_lang_transform") {
    ApiError e{400, "invalid_transformation_type", "Invalid transformation type", nullptr, nullptr};
    e.details = {{"error", "only expr_lang_transform is supported"}};
    return e;
  }
  const json config = req.value("config", json::object());
  // "transform" as GlassFlow's endpoint names it; "transforms" as pipelines do.
  json list = config.contains("transform") ? config["transform"]
                                           : config.value("transforms", json::array());
  if (!list.is_array()) return ShapeError("config.transform: an array is required");
  if (!req.contains("sample") || !req["sample"].is_object())
    return TransformError(
        "execute transformation: unmarshal input data: the sample must be a JSON object");
  if (list.empty()) {
    *out = req["sample"].dump();
    return {};
  }
  expr::Arena arena;
  expr::JsonRecord record;
  std::string why;
  if (!record.Parse(req["sample"].dump(), arena, &why))
    return TransformError(Cat("execute transformation: unmarshal input data: ", why));
  std::vector<expr::Program> programs;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object() || !list[i].contains("expression") ||
        !list[i]["expression"].is_string())
      return ShapeError(Cat("config.transform[", i, "].expression: a string is required"));
    auto p =
        expr::Program::Compile(list[i]["expression"].get<std::string>(), {&record, false, true});
    if (!p.ok())
      return TransformError(
          Cat("compile transformations: failed to compile transformation: compile "
              "transformation ",
              i, " expression: ", p.status().message()));
    programs.push_back(std::move(*p));
  }
  std::vector<std::pair<std::string, expr::Value>> outputs;
  std::vector<bool> float64;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string name = list[i].value("output_name", "");
    const std::string type = list[i].value("output_type", "");
    expr::Value v, converted;
    if (!programs[i].Run(record, arena, &v, &why))
      return TransformError(Cat("execute transformation: run transformation ", i, ": ", why));
    if (!transform::ConvertOutput(v, type, arena, &converted, &why))
      return TransformError(
          Cat("execute transformation: convert result for column ", name, ": ", why));
    bool replaced = false;  // a repeated name: the last one wins
    for (size_t k = 0; k < outputs.size(); ++k)
      if (outputs[k].first == name)
        outputs[k].second = converted, float64[k] = type == "float64", replaced = true;
    if (!replaced) outputs.push_back({name, converted}), float64.push_back(type == "float64");
  }
  out->clear();
  if (!OutputJson(outputs, float64, out, &why))
    return TransformError(Cat("execute transformation: marshal output: ", why));
  return {};
}

}  // namespace sluice::control
