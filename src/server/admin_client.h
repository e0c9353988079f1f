// A blocking HTTP GET to the admin listener, for the command-line tools (`sluice status`).
#pragma once

#include <string>

#include "core/status.h"

namespace sluice::server {

struct AdminResponse {
  int status = 0;
  std::string body;
};

// GET http://host:port/path with a timeout of a few seconds. Unavailable when the server
// cannot be reached.
StatusOr<AdminResponse> AdminGet(const std::string& host, int port, const std::string& path);

}  // namespace sluice::server
