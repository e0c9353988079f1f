#include "server/status_api.h"

#include "core/cat.h"
#include "core/text.h"

namespace sluice::server {
namespace {

using pipeline::Pipeline;

void AppendTime(int64_t ms, std::string* out) {
  if (ms <= 0) {
    out->append("null");
    return;
  }
  out->push_back('"');
  AppendRfc3339Nano(static_cast<uint64_t>(ms) * 1000000u, out);
  out->push_back('"');
}

void AppendKey(std::string_view key, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
}

void AppendStats(const Pipeline& p, const Pipeline::Snapshot& snap, std::string* out) {
  out->push_back('{');
  AppendKey("records_in", out);
  AppendUInt(p.stats().records_accepted.load(), out);
  AppendKey("rows_written", out);
  AppendUInt(p.stats().rows_inserted.load(), out);
  AppendKey("dead_letters", out);
  out->push_back('{');
  for (const auto& [reason, n] : p.metrics().dead_letters()) {
    AppendKey(reason, out);
    AppendUInt(n, out);
  }
  out->push_back('}');
  AppendKey("buffer", out);
  out->push_back('{');
  AppendKey("records", out);
  AppendUInt(snap.buffer.unacked_records, out);
  AppendKey("bytes", out);
  AppendUInt(snap.buffer.unacked_bytes, out);
  AppendKey("limit_bytes", out);
  AppendUInt(p.buffer_limit_bytes(), out);
  AppendKey("oldest_age_seconds", out);
  AppendDouble(snap.oldest_age_seconds, out);
  out->push_back('}');
  AppendKey("inserts_in_flight", out);
  AppendUInt(snap.inserts_in_flight, out);
  AppendKey("reason", out);  // why it is Failed now; null otherwise
  if (snap.state == Pipeline::State::kFailed)
    AppendJsonString(snap.error, out);
  else
    out->append("null");
  AppendKey("last_error", out);
  if (snap.error.empty())
    out->append("null");
  else
    AppendJsonString(snap.error, out);
  AppendKey("last_error_at", out);
  AppendTime(snap.error.empty() ? 0 : snap.error_ms, out);
  AppendKey("last_insert_at", out);
  AppendTime(p.metrics().last_insert_ms.load(), out);
  out->push_back('}');
}

// The fields GlassFlow's list and health documents share.
void AppendCommon(const Pipeline& p, const Pipeline::Snapshot& snap, bool health,
                  std::string* out) {
  AppendKey("pipeline_id", out);
  AppendJsonString(p.config().id, out);
  AppendKey(health ? "pipeline_name" : "name", out);
  AppendJsonString(p.config().name.empty() ? p.config().id : p.config().name, out);
  if (!health) {
    AppendKey("transformation_type", out);
    AppendJsonString("Ingest Only", out);
  }
  AppendKey(health ? "overall_status" : "status", out);
  AppendJsonString(StatusName(snap.state), out);
  AppendKey("created_at", out);
  AppendTime(snap.created_ms, out);
  AppendKey("updated_at", out);
  AppendTime(snap.state_changed_ms, out);
  if (!health) {
    AppendKey("metadata", out);
    out->append("{}");
  }
  AppendKey("source_type", out);
  AppendJsonString(SourceTypeOf(p.config().signal), out);
  AppendKey("stats", out);
  AppendStats(p, snap, out);
}

}  // namespace

std::string_view StatusName(Pipeline::State s) {
  switch (s) {
    case Pipeline::State::kStarting: return "Created";
    case Pipeline::State::kRunning: return "Running";
    case Pipeline::State::kFailed: return "Failed";
    case Pipeline::State::kStopped: return "Stopped";
  }
  return "Failed";
}

std::string PipelineListJson(const pipeline::Registry& registry) {
  std::string out = "[";
  for (const auto& p : registry.List()) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('{');
    AppendCommon(*p, p->TakeSnapshot(), false, &out);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string PipelineHealthJson(const pipeline::Registry& registry, std::string_view id) {
  auto p = registry.Find(id);
  if (!p) return "";
  std::string out = "{";
  AppendCommon(*p, p->TakeSnapshot(), true, &out);
  out.push_back('}');
  return out;
}

bool Ready(const pipeline::Registry& registry, std::string* why) {
  std::string out = "{";
  for (const auto& p : registry.List()) {
    const Pipeline::Snapshot snap = p->TakeSnapshot();
    std::string reason;
    if (snap.state != Pipeline::State::kRunning)
      reason =
          Cat(StatusName(snap.state), snap.state == Pipeline::State::kFailed && !snap.error.empty()
                                          ? Cat(": ", snap.error)
                                          : std::string());
    else if (!snap.storage_ready)
      reason = "its buffer is not open";
    else if (snap.buffer.unacked_bytes >= p->buffer_limit_bytes())
      reason = "its buffer is full";
    if (reason.empty()) continue;
    AppendKey(p->config().id, &out);
    AppendJsonString(reason, &out);
  }
  out.push_back('}');
  *why = std::move(out);
  return why->size() == 2;
}

}  // namespace sluice::server
