#include "pipeline/connection_params.h"

#include <algorithm>
#include <sstream>

#include "core/secret.h"
#include "pipeline/yaml_fields.h"

namespace sluice::pipeline {

namespace {

constexpr std::string_view kWhere = "sink.connection_params";

bool Flag(const YAML::Node& n, bool* out) {
  const std::string v = Trim(Str(n));
  if (v.empty()) return true;
  if (v == "true" || v == "1") return *out = true, true;
  if (v == "false" || v == "0") return *out = false, true;
  return false;
}

bool ParsePort(const std::string& text, int* port) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v <= 0 || v > 65535) return false;
  *port = static_cast<int>(v);
  return true;
}

// "host", "host:port" or "[v6]:port"; the port defaults to `port`.
bool ParseHost(std::string text, int port, clickhouse::HostPort* out) {
  text = Trim(text);
  if (text.empty()) return false;
  std::string host = text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':' || !ParsePort(text.substr(close + 2), &port)) return false;
    }
  } else if (const size_t colon = text.rfind(':');
             colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    if (!ParsePort(text.substr(colon + 1), &port)) return false;
  }
  if (host.empty()) return false;
  *out = {host, port};
  return true;
}

}  // namespace

Status ParseConnectionParams(const YAML::Node& cp, clickhouse::Endpoint* ep) {
  bool secure = false, skip_verify = false;
  if (!Flag(cp["secure"], &secure)) return Invalid(Cat(kWhere, ".secure"), "must be true or false");
  if (!Flag(cp["skip_certificate_verification"], &skip_verify))
    return Invalid(Cat(kWhere, ".skip_certificate_verification"), "must be true or false");

  const std::string port_text = Trim(Str(cp["port"]));
  const std::string http_port_text = Trim(Str(cp["http_port"]));
  int port = 0, http_port = 0;
  if (!port_text.empty() && !ParsePort(port_text, &port))
    return Invalid(Cat(kWhere, ".port"), Cat("'", port_text, "' is not a port"));
  if (!http_port_text.empty() && !ParsePort(http_port_text, &http_port))
    return Invalid(Cat(kWhere, ".http_port"), Cat("'", http_port_text, "' is not a port"));

  const std::string protocol = Trim(Str(cp["protocol"]));
  if (protocol == "native") {
    ep->protocol = clickhouse::Protocol::kNative;
  } else if (protocol == "http") {
    ep->protocol = clickhouse::Protocol::kHttp;
  } else if (!protocol.empty()) {
    return Invalid(Cat(kWhere, ".protocol"), Cat("'", protocol, "' is not native or http"));
  } else {
    const bool http = http_port != 0 || port == 8123 || port == 8443;
    ep->protocol = http ? clickhouse::Protocol::kHttp : clickhouse::Protocol::kNative;
  }
  if (ep->protocol == clickhouse::Protocol::kNative) {
    ep->port = port != 0 ? port : secure ? 9440 : 9000;
  } else if (http_port != 0) {
    ep->port = http_port;
  } else if (port != 0 && port != 9000 && port != 9440) {
    ep->port = port;  // `protocol: http` with the HTTP port given as `port`
  } else {
    ep->port = secure ? 8443 : 8123;
  }

  // Hosts: `host` and/or `hosts` (a list, or one string separated by commas).
  std::vector<std::string> names;
  if (std::string h = Trim(Str(cp["host"])); !h.empty()) names.push_back(h);
  if (const YAML::Node hosts = cp["hosts"]; hosts) {
    if (hosts.IsSequence()) {
      for (const auto& h : hosts) names.push_back(Str(h));
    } else {
      std::stringstream ss(Str(hosts));
      for (std::string h; std::getline(ss, h, ',');) names.push_back(h);
    }
  }
  if (names.empty()) return Invalid(Cat(kWhere, ".host"), "is required");
  std::vector<clickhouse::HostPort> all;
  for (const std::string& n : names) {
    clickhouse::HostPort hp;
    if (!ParseHost(n, ep->port, &hp))
      return Invalid(Cat(kWhere, ".hosts"), Cat("'", n, "' is not host or host:port"));
    if (std::find(all.begin(), all.end(), hp) == all.end()) all.push_back(hp);
  }
  ep->host = all[0].host;
  ep->port = all[0].port;
  ep->more.assign(all.begin() + 1, all.end());

  ep->database = Str(cp["database"]);
  if (ep->database.empty()) ep->database = "default";
  ep->user = Str(cp["username"]);
  if (ep->user.empty()) ep->user = "default";
  auto password = ReadSecret(cp, "password", Cat("pipeline ", kWhere));
  if (!password.ok()) return password.status();
  ep->password = std::move(*password);

  if (std::string c = Trim(Str(cp["compression"])); !c.empty()) {
    if (!clickhouse::ParseCodec(c, &ep->compression))
      return Invalid(Cat(kWhere, ".compression"), Cat("'", c, "' is not none, lz4 or zstd"));
  } else if (ep->protocol == clickhouse::Protocol::kNative) {
    ep->compression = clickhouse::Codec::kLz4;  // measured: docs/performance.md
  }

  ep->tls = TlsOptions();
  ep->tls.enabled = secure;
  ep->tls.verify = !skip_verify;
  ep->tls.ca_file = Trim(Str(cp["tls_ca_file"]));
  ep->tls.cert_file = Trim(Str(cp["tls_cert_file"]));
  ep->tls.key_file = Trim(Str(cp["tls_key_file"]));
  ep->tls.server_name = Trim(Str(cp["tls_server_name"]));
  if (!secure && (!ep->tls.ca_file.empty() || !ep->tls.cert_file.empty()))
    return Invalid(kWhere, "tls_ca_file and tls_cert_file need secure: true");
  ep->tls_context.reset();
  if (secure) {
    auto ctx = TlsContext::Create(ep->tls);
    if (!ctx.ok()) return Invalid(kWhere, std::string(ctx.status().message()));
    ep->tls_context = std::move(*ctx);
  }
  return absl::OkStatus();
}

}  // namespace sluice::pipeline
