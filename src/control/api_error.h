// An answer of the REST API that is not a success, in GlassFlow's (Huma's) error shape:
// {status, code, message, errors?, details?}. Plain data.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::control {

struct ApiError {
  int status = 0;  // HTTP status; 0: no error
  std::string code;
  std::string message;
  nlohmann::json errors;   // [{field, code, message}] or null
  nlohmann::json details;  // an object or null

  bool ok() const { return status == 0; }
  std::string Body() const {
    nlohmann::json j = {{"status", status}, {"code", code}, {"message", message}};
    if (!errors.is_null()) j["errors"] = errors;
    if (!details.is_null()) j["details"] = details;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
};

inline ApiError NotFound(const std::string& id) {
  return {404, "not_found", "pipeline '" + id + "' not found", nullptr, nullptr};
}
inline ApiError BadRequest(std::string code, std::string message) {
  return {400, std::move(code), std::move(message), nullptr, nullptr};
}
// 422 for one field, with GlassFlow's details.error (its SDK shows it).
inline ApiError Unprocessable(const std::string& field, std::string code, std::string message) {
  ApiError e{
      422, "unprocessable_entity", message,
      nlohmann::json::array({{{"field", field}, {"code", std::move(code)}, {"message", message}}}),
      nullptr};
  e.details = {{"error", field + ": " + message}};
  return e;
}
inline ApiError Unavailable(std::string message) {
  return {503, "unavailable", std::move(message), nullptr, nullptr};
}

}  // namespace sluice::control
