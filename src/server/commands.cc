#include "server/commands.h"

#include <cstdio>

namespace sluice::server {

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
  return 1;
}

StatusOr<std::string> FlagOrConfig(const std::string& given, const std::string& config_path,
                                   std::string ServerConfig::*field) {
  if (!given.empty()) return given;
  auto cfg = LoadConfig(config_path);
  if (!cfg.ok()) return cfg.status();
  return (*cfg).*field;
}

}  // namespace sluice::server
