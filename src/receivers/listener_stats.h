// Figures of one listener (the OTLP/HTTP, OTLP/gRPC or admin port) for the metrics page:
// connections open and accepted, connections and requests refused by reason, and the TLS
// certificate served. Process-wide: the metrics page lists every registered listener.
// Thread-safe (atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::receivers {

enum class Refusal {
  kMaxConnections,    // over the listener's connection limit
  kTlsHandshake,      // the TLS handshake failed (no or untrusted client certificate, ...)
  kHandshakeTimeout,  // no handshake (or, without TLS, no first byte) in time
  kHeaderTooLarge,    // request header over the limit (431, RESOURCE_EXHAUSTED)
  kRequestTimeout,    // a request not received in time (408)
  kUnauthenticated,   // no or unknown credentials (401, UNAUTHENTICATED)
  kForbidden,         // credentials not allowed the pipeline (403, PERMISSION_DENIED)
  kCount
};

std::string_view RefusalName(Refusal r);

struct ListenerStats {
  explicit ListenerStats(std::string n) : name(std::move(n)) {}
  void Refuse(Refusal r) {
    refused[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  const std::string name;  // the metrics' listener label: http, grpc, admin
  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> accepted{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Refusal::kCount)> refused{};
  std::atomic<bool> tls{false};
  std::atomic<int64_t> tls_not_after{0};  // Unix seconds
  std::atomic<uint64_t> tls_reloads_ok{0}, tls_reloads_failed{0};
};

// The stats of the listener named `name`, created on first use; the same object for the
// life of the process (a restarted listener in tests keeps counting).
std::shared_ptr<ListenerStats> ListenerStatsFor(std::string_view name);
// Every listener's stats, in the order they were first asked for.
std::vector<std::shared_ptr<ListenerStats>> AllListenerStats();

}  // namespace sluice::receivers
