#include "server/status_api.h"

#include "core/cat.h"
#include "core/text.h"

namespace sluice::server {
namespace {

using pipeline::Pipeline;

void AppendKey(std::string_view key, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
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

bool Ready(const pipeline::Registry& registry, std::string* why) {
  std::string out = "{";
  for (const auto& p : registry.List()) {
    const Pipeline::Snapshot snap = p->TakeSnapshot();
    std::string reason;
    if (snap.parked) {
      // Stopped on purpose: ready as long as it can take requests into its buffer.
      if (!snap.storage_ready)
        reason = "its buffer is not open";
      else if (snap.buffer.unacked_bytes >= p->buffer_limit_bytes())
        reason = "its buffer is full";
    } else if (snap.state != Pipeline::State::kRunning)
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
