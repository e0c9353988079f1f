#include "clickhouse/endpoint.h"

#include "core/cat.h"

namespace sluice::clickhouse {

std::vector<HostPort> Endpoint::Hosts() const {
  std::vector<HostPort> all{{host, port}};
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

std::string Endpoint::Key() const {
  std::string key = Cat(protocol == Protocol::kNative ? "native" : "http", "|", user, "|", password,
                        "|", static_cast<int>(compression));
  for (const HostPort& h : Hosts()) key += Cat("|", h.host, ":", h.port);
  if (tls.enabled)
    key += Cat("|tls:", tls.ca_file, ":", tls.verify, ":", tls.cert_file, ":", tls.key_file, ":",
               tls.server_name);
  return key;
}

std::string Endpoint::Describe() const {
  std::string out = Cat(protocol == Protocol::kNative ? "native " : "HTTP ", host, ":", port);
  if (!more.empty()) out += Cat(" (+", more.size(), more.size() == 1 ? " host)" : " hosts)");
  if (tls.enabled) out += ", TLS";
  return out;
}

}  // namespace sluice::clickhouse
