// Where and how a pipeline reaches ClickHouse: one or several hosts, the protocol (HTTP or
// native TCP), credentials, TLS and compression. A value type, built once from the pipeline's
// connection_params; the TLS context it carries is shared and immutable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "clickhouse/compressed_frames.h"
#include "core/tls.h"

namespace sluice::clickhouse {

enum class Protocol : uint8_t { kHttp, kNative };

struct HostPort {
  std::string host;
  int port = 0;
  bool operator==(const HostPort&) const = default;
};

struct Endpoint {
  std::string host = "127.0.0.1";  // the first host
  int port = 8123;                 // its port, for the protocol in use
  std::vector<HostPort> more;      // further hosts (connection_params.hosts), failed over to
  Protocol protocol = Protocol::kHttp;
  std::string user = "default";
  std::string password;  // never logged or shown
  std::string database = "default";
  Codec compression = Codec::kNone;
  TlsOptions tls;
  std::shared_ptr<const TlsContext> tls_context;  // set when tls.enabled

  // Every host, the first one first.
  std::vector<HostPort> Hosts() const;
  // What makes two endpoints share inserters: hosts, protocol, TLS, user and password.
  std::string Key() const;
  // "native 10.0.0.1:9000 (+2 hosts), TLS": for logs and status, without credentials.
  std::string Describe() const;
};

}  // namespace sluice::clickhouse
