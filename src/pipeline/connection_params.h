// The sink's connection_params (GlassFlow's keys and Sluice's additions) read into an
// Endpoint: which protocol and ports, the hosts, credentials (from the file, an environment
// variable or a file), TLS and compression. Errors name the key and never the password.
#pragma once

#include <yaml-cpp/yaml.h>

#include "clickhouse/endpoint.h"
#include "core/status.h"

namespace sluice::pipeline {

// Protocol: `protocol: native|http` when given; else HTTP when `http_port` is given or
// `port` is 8123/8443; else native (GlassFlow's `port` is the native port). Ports default
// to 9000/8123, or 9440/8443 with `secure: true`.
Status ParseConnectionParams(const YAML::Node& cp, clickhouse::Endpoint* ep);

}  // namespace sluice::pipeline
