#include "receivers/listener_stats.h"

#include <mutex>

namespace sluice::receivers {
namespace {

struct Listeners {
  std::mutex mu;
  std::vector<std::shared_ptr<ListenerStats>> all;
};

Listeners& Global() {
  static auto* l = new Listeners;  // never destroyed: listeners may outlive static teardown
  return *l;
}

}  // namespace

std::string_view RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kMaxConnections: return "max_connections";
    case Refusal::kTlsHandshake: return "tls_handshake";
    case Refusal::kHandshakeTimeout: return "handshake_timeout";
    case Refusal::kHeaderTooLarge: return "header_too_large";
    case Refusal::kRequestTimeout: return "request_timeout";
    case Refusal::kUnauthenticated: return "unauthenticated";
    case Refusal::kForbidden: return "forbidden";
    case Refusal::kCount: break;
  }
  return "unknown";
}

std::shared_ptr<ListenerStats> ListenerStatsFor(std::string_view name) {
  Listeners& l = Global();
  std::lock_guard lock(l.mu);
  for (const auto& s : l.all)
    if (s->name == name) return s;
  l.all.push_back(std::make_shared<ListenerStats>(std::string(name)));
  return l.all.back();
}

std::vector<std::shared_ptr<ListenerStats>> AllListenerStats() {
  Listeners& l = Global();
  std::lock_guard lock(l.mu);
  return l.all;
}

}  // namespace sluice::receivers
