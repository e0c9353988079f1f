#include "clickhouse/client.h"

#include <map>
#include <mutex>

#include "clickhouse/errors.h"
#include "clickhouse/http_client.h"
#include "core/cat.h"
#include "core/log.h"

namespace sluice::clickhouse {

namespace {

using Clock = std::chrono::steady_clock;

// One host's health, shared by all clients: down until a time, with a backoff that doubles
// while it stays down.
struct Health {
  std::mutex mu;
  Clock::time_point down_until{};  // guarded by mu
  std::chrono::milliseconds backoff{0};
  bool down = false;

  bool Up() {
    std::lock_guard<std::mutex> lock(mu);
    return !down || Clock::now() >= down_until;
  }
  // Logged when the endpoint has other hosts to take over (with one, the pipeline's own
  // retry log says it).
  void Failed(const std::string& name, const Status& why, bool log) {
    std::lock_guard<std::mutex> lock(mu);
    backoff = down ? std::min(backoff * 2, std::chrono::milliseconds(30000))
                   : std::chrono::milliseconds(1000);
    down_until = Clock::now() + backoff;
    if (!down && log)
      SLOG(WARN) << "ClickHouse host " << name << " is down (the other hosts take its INSERTs; "
                 << "it is tried again with backoff): " << why.message();
    down = true;
  }
  void Answered(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    if (down) SLOG(INFO) << "ClickHouse host " << name << " is up again";
    down = false;
    backoff = std::chrono::milliseconds(0);
  }
};

std::mutex health_mu;
std::map<std::string, std::shared_ptr<Health>>& HealthMap() {
  static auto* m = new std::map<std::string, std::shared_ptr<Health>>();
  return *m;
}

std::string HealthKey(const HostPort& h, Protocol p) {
  return Cat(p == Protocol::kNative ? "native:" : "http:", h.host, ":", h.port);
}

std::shared_ptr<Health> HealthOf(const HostPort& h, Protocol p) {
  std::lock_guard<std::mutex> lock(health_mu);
  auto& slot = HealthMap()[HealthKey(h, p)];
  if (!slot) slot = std::make_shared<Health>();
  return slot;
}

}  // namespace

bool HostIsUp(const HostPort& h, Protocol p) { return HealthOf(h, p)->Up(); }

std::vector<HostState> HostStates() {
  std::vector<std::pair<std::string, std::shared_ptr<Health>>> all;
  {
    std::lock_guard<std::mutex> lock(health_mu);
    all.assign(HealthMap().begin(), HealthMap().end());
  }
  std::vector<HostState> out;
  for (const auto& [key, h] : all) {
    const size_t colon = key.find(':');
    std::lock_guard<std::mutex> lock(h->mu);
    out.push_back({key.substr(0, colon), key.substr(colon + 1), !h->down});
  }
  return out;
}

void ResetHostHealthForTesting() {
  std::lock_guard<std::mutex> lock(health_mu);
  HealthMap().clear();
}

struct Client::Host {
  std::string name;  // host:port
  std::shared_ptr<Health> health;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<NativeConnection> native;
};

Client::Client(Endpoint ep, std::chrono::milliseconds timeout)
    : ep_(std::move(ep)), timeout_(timeout) {
  for (const HostPort& hp : ep_.Hosts()) {
    auto h = std::make_unique<Host>();
    h->name = Cat(hp.host, ":", hp.port);
    h->health = HealthOf(hp, ep_.protocol);
    if (ep_.protocol == Protocol::kNative) {
      h->native = std::make_unique<NativeConnection>(ep_, hp.host, hp.port, timeout);
    } else {
      Endpoint one = ep_;
      one.host = hp.host;
      one.port = hp.port;
      one.more.clear();
      h->http = std::make_unique<HttpClient>(std::move(one), timeout);
    }
    hosts_.push_back(std::move(h));
  }
}

Client::~Client() = default;

void Client::set_cancel(const std::atomic<bool>* cancel) {
  cancel_ = cancel;
  for (auto& h : hosts_) {
    if (h->http) h->http->set_cancel(cancel);
    if (h->native) h->native->set_cancel(cancel);
  }
}

std::vector<size_t> Client::Order(size_t first) {
  std::vector<size_t> up, down;
  for (size_t k = 0; k < hosts_.size(); ++k) {
    const size_t i = (first + k) % hosts_.size();
    (hosts_[i]->health->Up() ? up : down).push_back(i);
  }
  up.insert(up.end(), down.begin(), down.end());  // all down: try them anyway
  return up;
}

StatusOr<std::string> Client::Query(std::string_view sql) {
  Status last = absl::UnavailableError("no ClickHouse host");
  for (size_t i : Order(current_)) {
    Host* h = hosts_[i].get();
    Outcome how;
    StatusOr<std::string> r = absl::UnknownError("");
    if (h->native) {
      r = h->native->Query(sql, &how);
    } else {
      r = h->http->Query(sql);
      // HttpClient marks transport failures Unavailable without a "Code:" of ClickHouse's.
      how.answered = r.ok() || !absl::IsUnavailable(r.status()) || ParseErrorCode(r.status()) >= 0;
    }
    if (how.answered || r.ok()) {
      h->health->Answered(h->name);
      current_ = i;
      return r;
    }
    h->health->Failed(h->name, r.status(), hosts_.size() > 1);
    last = r.status();
    if (cancel_ && cancel_->load()) break;
  }
  return last;
}

Outcome Client::Insert(const InsertPlan& plan, std::string_view rows, uint64_t row_count,
                       std::string_view dedup_token) {
  // One position for every client in the process: inserter threads that each do a few
  // INSERTs still spread them over all the hosts.
  static std::atomic<size_t> round_robin{0};
  const size_t first = round_robin.fetch_add(1, std::memory_order_relaxed) % hosts_.size();
  Outcome out{absl::UnavailableError("no ClickHouse host"), false};
  // HTTP: the query in the URL, the rows as the body (ClickHouse's frames with decompress=1
  // when compressed). Built once for every host tried.
  std::string params;
  thread_local std::string framed;
  std::string_view body = rows;
  native::Settings settings;
  if (ep_.protocol == Protocol::kHttp) {
    params = Cat("database=", UrlEncode(ep_.database),
                 "&query=", UrlEncode(Cat(plan.insert_into, " FORMAT RowBinary")));
    if (!dedup_token.empty()) params += Cat("&insert_deduplication_token=", UrlEncode(dedup_token));
    if (ep_.compression != Codec::kNone) {
      framed.clear();
      AppendFrames(ep_.compression, rows, &framed);
      body = framed;
      params += "&decompress=1";
    }
  } else if (!dedup_token.empty()) {
    settings.emplace_back("insert_deduplication_token", std::string(dedup_token));
  }
  uint64_t sent = 0;
  for (size_t i : Order(first)) {
    Host* h = hosts_[i].get();
    if (h->native) {
      out = h->native->Insert(Cat(plan.insert_into, " VALUES"), plan.columns, rows, row_count,
                              settings);
    } else {
      auto r = h->http->Post(params, body);
      if (!r.ok()) {
        out = {r.status(), false, body.size()};
      } else {
        out = {r->status == 200 ? absl::OkStatus() : StatusFromResponse(r->status, r->body), true,
               body.size()};
      }
    }
    sent += out.sent_bytes;
    if (out.answered) {
      h->health->Answered(h->name);
      out.sent_bytes = sent;
      return out;
    }
    h->health->Failed(h->name, out.status, hosts_.size() > 1);
    if (cancel_ && cancel_->load()) break;
  }
  out.sent_bytes = sent;
  return out;
}

}  // namespace sluice::clickhouse
