// The one way the sink talks to ClickHouse: queries and INSERTs to an Endpoint, over HTTP or
// the native protocol, with TLS and compression as configured, across the endpoint's hosts.
// INSERTs go round-robin over the hosts that are up; a host that cannot be reached is
// marked down (for every client in the process) and the INSERT moves to the next one at
// once. A down host is tried again after a backoff (1 s doubling to 30 s), by the next
// INSERT that comes to it: a connection and handshake are its health check. Not
// thread-safe: each inserter thread owns a Client (its connections, one per host).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/endpoint.h"
#include "clickhouse/insert_plan.h"
#include "clickhouse/native_client.h"
#include "core/status.h"

namespace sluice::clickhouse {

class HttpClient;

class Client {
 public:
  explicit Client(Endpoint ep, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs a statement and returns its result as TabSeparated text (whatever the protocol).
  // ClickHouse's errors are classified (errors.h); an unreachable host fails over.
  StatusOr<std::string> Query(std::string_view sql);

  // Inserts `rows` (RowBinary rows of plan.columns, `row_count` of them). A non-empty
  // dedup_token is sent as insert_deduplication_token. `answered` is false when no host
  // could be reached.
  Outcome Insert(const InsertPlan& plan, std::string_view rows, uint64_t row_count,
                 std::string_view dedup_token);

  // An exchange in progress gives up (Unavailable) soon after *cancel becomes true.
  void set_cancel(const std::atomic<bool>* cancel);
  const Endpoint& endpoint() const { return ep_; }

 private:
  struct Host;
  // Indexes of the hosts in the order to try: from `first` round the ring, those up before
  // those down.
  std::vector<size_t> Order(size_t first);

  const Endpoint ep_;
  const std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Host>> hosts_;
  size_t current_ = 0;  // the host queries go to while it answers
  const std::atomic<bool>* cancel_ = nullptr;
};

// Whether a host answers, shared by every client in the process (tests reset it).
bool HostIsUp(const HostPort& h, Protocol p);
void ResetHostHealthForTesting();
struct HostState {
  std::string protocol;  // "native" or "http"
  std::string host;      // host:port
  bool up;
};
// Every host any client has used, sorted (for /metrics).
std::vector<HostState> HostStates();

}  // namespace sluice::clickhouse
