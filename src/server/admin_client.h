// Blocking HTTP requests to the admin listener, for the command-line tools (`sluice
// status`, `sluice pipeline`, `sluice dlq`).
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

// One request (a JSON body when given) with a timeout of `timeout_s` seconds.
// Unavailable when the server cannot be reached.
StatusOr<AdminResponse> AdminCall(const AdminTarget& target, const std::string& method,
                                  const std::string& path, const std::string& body = "",
                                  int timeout_s = 5);
inline StatusOr<AdminResponse> AdminGet(const AdminTarget& target, const std::string& path) {
  return AdminCall(target, "GET", path);
}

// The admin listener of the server config at `config_path` (address, admin token,
// certificate); `admin` ("host:port") overrides the address, SLUICE_ADMIN_TOKEN the token.
// InvalidArgument for a malformed `admin`.
StatusOr<AdminTarget> ResolveAdminTarget(const std::string& config_path, const std::string& admin);

}  // namespace sluice::server
