#include "control/validation.h"

#include <set>
#include <sstream>

#include "clickhouse/client.h"
#include "clickhouse/type.h"
#include "core/cat.h"
#include "core/json_syntax.h"
#include "core/log.h"
#include "otlp/fields.h"
#include "pipeline/table_plan.h"

namespace sluice::control {
namespace {

nlohmann::json FieldError(std::string field, std::string code, std::string message) {
  return {{"field", std::move(field)}, {"code", std::move(code)}, {"message", std::move(message)}};
}

// The mapping entry a plan error is about: the one whose source field or column it quotes.
std::string MappingFieldOf(std::string_view message, const pipeline::PipelineConfig& c) {
  // The column first: a source field may feed several columns.
  const auto& m = c.sink.mapping;
  for (size_t i = 0; i < m.size(); ++i)
    if (message.find(Cat("'", m[i].column_name, "'")) != std::string_view::npos)
      return Cat("sink.mapping[", i, "]");
  for (size_t i = 0; i < m.size(); ++i)
    if (message.find(Cat("'", m[i].name, "'")) != std::string_view::npos)
      return Cat("sink.mapping[", i, "]");
  return "sink.mapping";
}

ApiError Invalid(nlohmann::json errors) {
  ApiError e{422, "unprocessable_entity", "the pipeline configuration is invalid",
             std::move(errors), nullptr};
  std::string first = e.errors.empty() ? "" : e.errors[0].value("message", "");
  if (!e.errors.empty() && !e.errors[0].value("field", "").empty())
    first = Cat(e.errors[0].value("field", ""), ": ", first);
  e.details = {{"error", first}};  // GlassFlow's SDK shows details.error
  return e;
}

// Duplicate keys: yaml-cpp (the document's parser) keeps the first, nlohmann (which the API
// uses to show and edit documents) the last, so a document with one means two things.
class DuplicateKeys : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string found;  // the path of the first duplicate key

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Value();
    frames_.push_back({true, {}, "", 0});
    return true;
  }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second && found.empty()) found = Path(k);
    f.key = k;
    return found.empty();
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Value();
    frames_.push_back({false, {}, "", 0});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    size_t index;  // arrays: the next element's
  };
  // A value starts: in an array it takes the next index.
  bool Value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }
  std::string Path(const std::string& last) const {
    std::string p;
    for (const Frame& f : frames_) {
      if (&f == &frames_.back()) break;
      if (f.object)
        p += (p.empty() ? "" : ".") + f.key;
      else
        p += Cat("[", f.index - 1, "]");
    }
    return p.empty() ? last : Cat(p, ".", last);
  }
  std::vector<Frame> frames_;
};

// The JSON types of the document's known fields (GlassFlow's API decodes into typed
// structs: a number where a string belongs is refused there too). Null counts as absent.
void CheckTypes(const nlohmann::json& doc, nlohmann::json* errors) {
  using J = nlohmann::json;
  enum Kind { kString, kStringOrNumber, kInteger, kBool, kObject, kArray };
  auto expect = [&](const J& v, const std::string& path, Kind k) {
    if (v.is_null()) return;
    const bool ok = k == kString           ? v.is_string()
                    : k == kStringOrNumber ? v.is_string() || v.is_number()
                    : k == kInteger        ? v.is_number_integer()
                    : k == kBool           ? v.is_boolean()
                    : k == kObject         ? v.is_object()
                                           : v.is_array();
    static constexpr const char* kNames[] = {
        "a string", "a string or a number", "an integer", "true or false", "an object", "an array"};
    if (!ok) errors->push_back(FieldError(path, "invalid_type", Cat("must be ", kNames[k])));
  };
  auto field = [&](const J& obj, const char* key, const std::string& path, Kind k) {
    if (obj.is_object() && obj.contains(key)) expect(obj[key], path, k);
  };
  if (!doc.is_object()) return;
  for (const char* k : {"version", "pipeline_id", "name"}) field(doc, k, k, kString);
  for (const char* k : {"sink", "metadata", "resources", "join"}) field(doc, k, k, kObject);
  for (const char* k : {"sources", "transforms"}) field(doc, k, k, kArray);
  if (doc.contains("sources") && doc["sources"].is_array())
    for (size_t i = 0; i < doc["sources"].size(); ++i) {
      const J& s = doc["sources"][i];
      const std::string at = Cat("sources[", i, "]");
      expect(s, at, kObject);
      for (const char* k : {"type", "source_id"}) field(s, k, Cat(at, ".", k), kString);
    }
  if (doc.contains("metadata") && doc["metadata"].is_object()) {
    field(doc["metadata"], "tags", "metadata.tags", kArray);
    if (doc["metadata"].contains("tags") && doc["metadata"]["tags"].is_array())
      for (size_t i = 0; i < doc["metadata"]["tags"].size(); ++i)
        expect(doc["metadata"]["tags"][i], Cat("metadata.tags[", i, "]"), kString);
  }
  if (!doc.contains("sink") || !doc["sink"].is_object()) return;
  const J& sink = doc["sink"];
  for (const char* k : {"type", "table", "max_delay_time", "source_id"})
    field(sink, k, Cat("sink.", k), kString);
  field(sink, "max_batch_size", "sink.max_batch_size", kInteger);
  field(sink, "connection_params", "sink.connection_params", kObject);
  field(sink, "mapping", "sink.mapping", kArray);
  if (sink.contains("connection_params") && sink["connection_params"].is_object()) {
    const J& cp = sink["connection_params"];
    for (const char* k : {"host", "database", "username", "password", "protocol"})
      field(cp, k, Cat("sink.connection_params.", k), kString);
    for (const char* k : {"port", "http_port"})
      field(cp, k, Cat("sink.connection_params.", k), kStringOrNumber);
    for (const char* k : {"secure", "skip_certificate_verification"})
      field(cp, k, Cat("sink.connection_params.", k), kBool);
  }
  if (sink.contains("mapping") && sink["mapping"].is_array())
    for (size_t i = 0; i < sink["mapping"].size(); ++i) {
      const J& m = sink["mapping"][i];
      const std::string at = Cat("sink.mapping[", i, "]");
      expect(m, at, kObject);
      for (const char* k : {"name", "column_name", "column_type"})
        field(m, k, Cat(at, ".", k), kString);
    }
}

}  // namespace

nlohmann::json FieldErrorsOf(std::string_view message, const pipeline::PipelineConfig* config) {
  nlohmann::json out = nlohmann::json::array();
  std::istringstream lines{std::string(message)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(" | ", 0) == 0 && !out.empty()) {
      // An expression error's source line and caret: part of the error before it.
      out.back()["message"] = Cat(out.back()["message"].get<std::string>(), "\n", line);
      continue;
    }
    if (line.rfind("unknown key '", 0) == 0) {
      const size_t end = line.find('\'', 13);
      const std::string key = line.substr(13, end - 13);
      std::string path;
      if (const size_t in = line.find("' in ", end); in == end) {
        const size_t stop = line.find(';', in);
        path = line.substr(in + 5, stop == std::string::npos ? std::string::npos : stop - in - 5);
      }
      out.push_back(FieldError(path.empty() ? key : Cat(path, ".", key), "unknown_key", line));
    } else if (line.rfind("pipeline ", 0) == 0 && line.find(": ") != std::string::npos) {
      const size_t colon = line.find(": ");
      out.push_back(FieldError(line.substr(9, colon - 9), "invalid", line.substr(colon + 2)));
    } else if (config) {
      out.push_back(FieldError(MappingFieldOf(line, *config), "invalid", line));
    } else {
      out.push_back(FieldError("", "invalid", line));
    }
  }
  return out;
}

nlohmann::json MappingErrors(const pipeline::PipelineConfig& c) {
  nlohmann::json errors = nlohmann::json::array();
  for (size_t i = 0; i < c.sink.mapping.size(); ++i) {
    const auto& m = c.sink.mapping[i];
    if (auto path = otlp::ResolvePath(c.signal, m.name, c.outputs); !path.ok())
      errors.push_back(FieldError(Cat("sink.mapping[", i, "].name"), "unknown_field",
                                  std::string(path.status().message())));
    if (!m.column_type.empty() && m.column_type.rfind("Nested", 0) != 0)
      if (auto t = clickhouse::ParseType(m.column_type); !t.ok())
        errors.push_back(FieldError(Cat("sink.mapping[", i, "].column_type"), "unsupported_type",
                                    std::string(t.status().message())));
  }
  return errors;
}

ApiError ValidateDocument(std::string_view body, const ValidationOptions& o,
                          pipeline::PipelineConfig* out) {
  if (JsonSyntaxError e = CheckJsonSyntax(body); e.line != 0)
    return BadRequest("bad_request",
                      Cat("invalid json: line ", e.line, ", column ", e.column, ": ", e.message));
  DuplicateKeys dups;
  if (!nlohmann::json::sax_parse(body, &dups) && dups.found.empty())
    // The syntax was checked: what is left is text that is not UTF-8 (RFC 8259 asks it).
    return BadRequest("bad_request", "invalid json: the body is not valid UTF-8");
  if (!dups.found.empty())
    return Invalid({FieldError(dups.found, "duplicate_key", "the key appears more than once")});
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object())
    return Invalid({FieldError("", "invalid", "the body must be a JSON object")});
  nlohmann::json types = nlohmann::json::array();
  CheckTypes(doc, &types);
  if (!types.empty()) return Invalid(std::move(types));
  auto parsed = pipeline::ParsePipeline(std::string(body), pipeline::DocFormat::kJson);
  if (!parsed.ok()) return Invalid(FieldErrorsOf(std::string(parsed.status().message()), nullptr));
  pipeline::PipelineConfig& c = *parsed;
  if (nlohmann::json errors = MappingErrors(c); !errors.empty()) return Invalid(std::move(errors));
  if (o.check_tables) {
    clickhouse::Client client(c.sink.endpoint, o.timeout);
    auto plan = pipeline::ReadTables(c, client);
    if (!plan.ok()) {
      if (IsRetryable(plan.status())) {
        // ClickHouse does not answer: the pipeline is created and checks its table when it
        // starts (Failed, with the reason, if it does not fit).
        SLOG(WARN) << "pipeline " << c.id << ": its table could not be checked now ("
                   << plan.status().message() << "); it is checked when the pipeline starts";
      } else {
        const std::string m(plan.status().message());
        const bool table = m.find("UNKNOWN_TABLE") != std::string::npos ||
                           m.find("doesn't exist") != std::string::npos ||
                           m.find("does not exist") != std::string::npos;
        return Invalid({FieldError(
            table && m.find("column '") == std::string::npos ? "sink.table" : MappingFieldOf(m, c),
            "table_mismatch", Cat("ClickHouse at ", c.sink.endpoint.Describe(), ": ", m))});
      }
    }
  }
  *out = std::move(c);
  return {};
}

}  // namespace sluice::control
