// A blocking HTTP GET to the admin listener, for the command-line tools (`sluice status`).
#pragma once

#include <string>

#include "core/status.h"

namespace sluice::server {

struct AdminTarget {
  std::string host = "127.0.0.1";
  int port = 8081;
  std::string token;  // sent as a bearer token when set
  // Set when the admin listener has TLS: the certificate it serves (the config's
  // admin.tls.cert_file). The CLI trusts exactly that certificate (no name check: it is
  // pinned), so a self-signed one works as well as one from a CA.
  std::string tls_cert_file;
};

struct AdminResponse {
  int status = 0;
  std::string body;
};

// GET path with a timeout of a few seconds. Unavailable when the server cannot be reached.
StatusOr<AdminResponse> AdminGet(const AdminTarget& target, const std::string& path);

}  // namespace sluice::server
