#include "control/stats_json.h"

#include "core/text.h"

namespace sluice::control {

using nlohmann::json;
using pipeline::Pipeline;

json TimeJson(int64_t unix_ms) {
  if (unix_ms <= 0) return nullptr;
  std::string s;
  AppendRfc3339Nano(static_cast<uint64_t>(unix_ms) * 1000000u, &s);
  return s;
}

json PipelineStatsJson(const Pipeline& p) {
  const Pipeline::Snapshot snap = p.TakeSnapshot();
  json dead = json::object();
  for (const auto& [reason, n] : p.metrics().dead_letters()) dead[reason] = n;
  const bool failed = snap.state == Pipeline::State::kFailed;
  return {
      {"records_in", p.stats().records_accepted.load()},
      {"rows_written", p.stats().rows_inserted.load()},
      {"dead_letters", dead},
      {"buffer",
       {{"records", snap.buffer.unacked_records},
        {"bytes", snap.buffer.unacked_bytes},
        {"limit_bytes", p.buffer_limit_bytes()},
        {"oldest_age_seconds", snap.oldest_age_seconds}}},
      {"inserts_in_flight", snap.inserts_in_flight},
      // Why it is Failed now; null otherwise.
      {"reason", failed ? json(snap.error) : json(nullptr)},
      {"last_error", snap.error.empty() ? json(nullptr) : json(snap.error)},
      {"last_error_at", TimeJson(snap.error.empty() ? 0 : snap.error_ms)},
      {"last_insert_at", TimeJson(p.metrics().last_insert_ms.load())},
  };
}

}  // namespace sluice::control
