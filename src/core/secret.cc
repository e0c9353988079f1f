#include "core/secret.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/cat.h"

namespace sluice {
namespace {

std::string Scalar(const YAML::Node& node, const std::string& key) {
  if (!node || !node.IsMap()) return "";
  const YAML::Node n = node[key];
  if (!n || n.IsNull() || !n.IsScalar()) return "";
  return n.as<std::string>();
}

std::string Trimmed(std::string s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  const size_t b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

bool HasSecret(const YAML::Node& node, std::string_view name) {
  const std::string n(name);
  return !Scalar(node, n).empty() || !Trimmed(Scalar(node, n + "_env")).empty() ||
         !Trimmed(Scalar(node, n + "_file")).empty();
}

StatusOr<std::string> ReadSecret(const YAML::Node& node, std::string_view name,
                                 std::string_view where) {
  const std::string n(name);
  const std::string inline_value = Scalar(node, n);
  const std::string env = Trimmed(Scalar(node, n + "_env"));
  const std::string file = Trimmed(Scalar(node, n + "_file"));
  if (!inline_value.empty() + !env.empty() + !file.empty() > 1)
    return absl::InvalidArgumentError(
        Cat(where, ": give one of ", n, ", ", n, "_env and ", n, "_file"));
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr)
      return absl::InvalidArgumentError(
          Cat(where, ".", n, "_env: environment variable ", env, " is not set"));
    return std::string(v);
  }
  if (!file.empty()) {
    std::ifstream f(file, std::ios::binary);
    std::stringstream ss;
    if (!f || !(ss << f.rdbuf()))
      return absl::InvalidArgumentError(Cat(where, ".", n, "_file: cannot read ", file));
    std::string out = ss.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  return inline_value;
}

}  // namespace sluice
