// The dead-letter half of the Controller: state, consume, purge, list and reprocess, each
// holding the pipeline's DLQ lock (its read position is shared).
#include <charconv>
#include <functional>
#include <future>
#include <set>

#include "absl/strings/escaping.h"
#include "control/controller.h"
#include "control/stats_json.h"
#include "core/cat.h"
#include "core/log.h"
#include "core/random_id.h"
#include "core/wall_clock.h"
#include "otlp/fields.h"

namespace sluice::control {

using nlohmann::json;
using pipeline::Pipeline;

namespace {

constexpr size_t kDlqReadBytes = 4u << 20;
// An answer of consume or list stops growing past this many bytes of dead letters (at least
// one is always returned): 1000 dead letters of a few megabytes each would be gigabytes.
constexpr size_t kDlqAnswerBytes = 16u << 20;
// A search of the queue (a test record's dead letter) reads at most this much of it.
constexpr size_t kDlqFindBytes = 256u << 20;
constexpr size_t kReprocessAll = 10000;      // dead letters per `all` request (as GlassFlow EE)
constexpr size_t kReprocessSelected = 1000;  // ids per `selected` request

json DeadLetterJson(const buffer::Entry& e, bool full) {
  json j = json::parse(e.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    j = {{"component", "unknown"},
         {"error", "unreadable dead-letter entry"},
         {"original_message", e.payload}};
  json out = {{"component", j.value("component", "")},
              {"error", j.value("error", "")},
              {"original_message", j.value("original_message", "")}};
  if (full) {
    out["message_id"] = e.seq;
    out["reason"] = j.value("reason", "");
    out["received_at"] = j.contains("time") ? j["time"] : TimeJson(e.append_ms);
  }
  return out;
}

// Reads the queue from its head without consuming anything: `visit` sees each entry until
// it returns false. The read position is back at the head afterwards. 503 when a read fails.
ApiError ScanDeadLetters(buffer::LocalLog& log,
                         const std::function<bool(const buffer::Entry&)>& visit) {
  log.Rewind();
  bool more = true;
  while (more) {
    auto entries = log.Read(256, kDlqReadBytes);
    if (!entries.ok()) {
      log.Rewind();
      return Unavailable(std::string(entries.status().message()));
    }
    if (entries->empty()) break;
    for (const buffer::Entry& e : *entries)
      if (!(more = visit(e))) break;
  }
  log.Rewind();
  return {};
}

uint64_t CountRecords(Signal s, std::string_view request) {
  uint64_t n = 0;
  otlp::ForEachRecord(s, request, [&](const otlp::RecordCtx&) { ++n; });
  return n;
}

}  // namespace

ApiError Controller::DlqLog(const std::string& id, std::unique_lock<std::mutex>* hold,
                            std::shared_ptr<buffer::LocalLog>* log, Signal* signal) {
  std::shared_ptr<std::mutex> m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.deleting) return NotFound(id);
    m = it->second.dlq_mu;
  }
  *hold = std::unique_lock<std::mutex>(*m);
  pipeline::PipelineConfig cfg;
  {
    // Looked at again once the queue is ours: a DELETE may have come first.
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.deleting || it->second.dlq_mu != m) return NotFound(id);
    cfg = it->second.config;
  }
  if (signal) *signal = cfg.signal;
  auto st = registry_.StorageOf(cfg);
  if (!st.ok())
    return Unavailable(Cat("the dead-letter queue cannot be opened: ", st.status().message()));
  *log = st->dlq;
  return {};
}

ApiError Controller::DlqState(const std::string& id, json* out) {
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  if (ApiError err = DlqLog(id, &hold, &log); !err.ok()) return err;
  const buffer::LogStats st = log->stats();
  int64_t consumed = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) consumed = it->second.last_consumed_ms;
  }
  *out = {{"last_received_at", TimeJson(st.newest_ms)},
          {"last_consumed_at", TimeJson(consumed)},
          {"total_messages", log->next_seq() - 1},
          {"unconsumed_messages", st.unacked_entries}};
  return {};
}

ApiError Controller::DlqConsume(const std::string& id, size_t n, json* out) {
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  if (ApiError err = DlqLog(id, &hold, &log); !err.ok()) return err;
  log->Rewind();
  *out = json::array();
  uint64_t next = 0;
  size_t bytes = 0;
  bool full = false;
  while (out->size() < n && !full) {
    auto entries = log->Read(n - out->size(), kDlqReadBytes);
    if (!entries.ok()) return Unavailable(std::string(entries.status().message()));
    if (entries->empty()) break;
    for (const buffer::Entry& e : *entries) {
      if (!out->empty() && bytes + e.payload.size() > kDlqAnswerBytes) {
        full = true;  // the rest stays for the next call
        break;
      }
      bytes += e.payload.size();
      out->push_back(DeadLetterJson(e, true));
      next = e.seq + 1;
    }
  }
  if (next > 0) {
    if (Status s = log->Ack(next); !s.ok()) {
      log->Rewind();
      return Unavailable(Cat("cannot record the consumption: ", s.message()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end())
      it->second.last_consumed_ms = UnixMillis();
  }
  return {};
}

ApiError Controller::DlqPurge(const std::string& id) {
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  if (ApiError err = DlqLog(id, &hold, &log); !err.ok()) return err;
  if (Status s = log->Ack(log->next_seq()); !s.ok())
    return Unavailable(Cat("cannot purge: ", s.message()));
  log->Rewind();
  return {};
}

ApiError Controller::DlqList(const std::string& id, uint64_t cursor, size_t n,
                             const std::string& component, const std::string& reason, json* out) {
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  if (ApiError err = DlqLog(id, &hold, &log); !err.ok()) return err;
  json messages = json::array();
  json next_cursor = nullptr;
  bool more = false;
  size_t bytes = 0;
  ApiError err = ScanDeadLetters(*log, [&](const buffer::Entry& e) {
    if (e.seq < cursor) return true;
    json m = DeadLetterJson(e, true);
    if (!component.empty() && m["component"] != component) return true;
    if (!reason.empty() && m["reason"] != reason) return true;
    if (messages.size() == n || (!messages.empty() && bytes + e.payload.size() > kDlqAnswerBytes)) {
      more = true;
      next_cursor = std::to_string(e.seq);
      return false;
    }
    bytes += e.payload.size();
    messages.push_back(std::move(m));
    return true;
  });
  if (!err.ok()) return err;
  *out = {{"messages", messages}, {"next_cursor", next_cursor}, {"has_more", more}};
  return {};
}

ApiError Controller::DlqFind(const std::string& id, std::string_view needle, json* found,
                             bool* complete) {
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  if (ApiError err = DlqLog(id, &hold, &log); !err.ok()) return err;
  *found = nullptr;
  *complete = true;
  size_t bytes = 0;
  return ScanDeadLetters(*log, [&](const buffer::Entry& e) {
    if (e.payload.find(needle) != std::string::npos) *found = DeadLetterJson(e, true);
    bytes += e.payload.size();
    *complete = bytes < kDlqFindBytes;
    return *complete;
  });
}

ApiError Controller::DlqReprocess(const std::string& id, std::string_view body, json* out) {
  json j = json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Unprocessable("", "invalid",
                         "expected {\"mode\": \"all\"|\"selected\", \"message_ids\": [...]}");
  const std::string mode = j.value("mode", "all");
  std::set<uint64_t> ids;
  if (mode == "selected") {
    if (!j.contains("message_ids") || !j["message_ids"].is_array() || j["message_ids"].empty())
      return Unprocessable("message_ids", "required", "mode \"selected\" needs message_ids");
    if (j["message_ids"].size() > kReprocessSelected)
      return Unprocessable("message_ids", "too_many",
                           Cat("at most ", kReprocessSelected, " ids per request"));
    for (const auto& v : j["message_ids"]) {
      uint64_t seq = 0;
      if (v.is_number_unsigned()) {
        seq = v.get<uint64_t>();
      } else if (v.is_string()) {
        const std::string t = v.get<std::string>();
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seq);
        if (ec != std::errc() || end != t.data() + t.size()) seq = 0;
      }
      if (seq == 0)
        return Unprocessable("message_ids", "invalid", "message ids are positive integers");
      ids.insert(seq);
    }
  } else if (mode != "all") {
    return Unprocessable("mode", "invalid", "mode is \"all\" or \"selected\"");
  }
  std::shared_ptr<buffer::LocalLog> log;
  std::unique_lock<std::mutex> hold;
  Signal signal;
  if (ApiError err = DlqLog(id, &hold, &log, &signal); !err.ok()) return err;
  log->Rewind();
  size_t reprocessed = 0, seen = 0;
  json skipped = json::array();
  std::string failure;
  // The queue cannot drop entries in its middle: what was scanned and not sent again is
  // appended anew (new ids, same order) and the scanned range is consumed.
  uint64_t handled_through = 0;  // the leading run of entries handled
  uint64_t scanned_through = 0;
  bool any_handled = false;
  std::vector<std::string> keep;
  bool leading = true;
  bool done = false;
  while (!done) {
    auto entries = log->Read(256, kDlqReadBytes);
    if (!entries.ok()) {
      failure = std::string(entries.status().message());
      break;
    }
    if (entries->empty()) break;
    for (const buffer::Entry& e : *entries) {
      if (mode == "all" && seen >= kReprocessAll) {
        done = true;
        break;
      }
      if (mode == "selected" && ids.empty()) {  // every id found: the rest stays as it is
        done = true;
        break;
      }
      scanned_through = e.seq + 1;
      if (mode == "selected" && !ids.count(e.seq)) {
        leading = false;
        keep.push_back(e.payload);
        continue;
      }
      ++seen;
      ids.erase(e.seq);
      json d = json::parse(e.payload, nullptr, false);
      const std::string reason = d.is_object() ? d.value("reason", "") : "";
      std::string request;
      bool handled = false;
      if (reason.starts_with("view_rejected_")) {
        skipped.push_back({{"message_id", e.seq}, {"reason", "the row is already in the table"}});
        handled = true;
      } else if (d.is_object() &&
                 ((d.contains("request") &&
                   absl::Base64Unescape(d.value("request", ""), &request)) ||
                  (reason == "quarantined_entry" &&
                   absl::Base64Unescape(d.value("original_message", ""), &request))) &&
                 !request.empty()) {
        auto p = registry_.Find(id);
        if (!p) {
          failure = "the pipeline is gone";
          done = true;
          break;
        }
        const uint64_t records = CountRecords(signal, request);
        std::promise<sluice::Status> sent;
        auto result = sent.get_future();
        p->SubmitAsync(
            std::move(request), records, [] { return absl::OkStatus(); },
            [&sent](sluice::Status s) { sent.set_value(std::move(s)); });
        if (sluice::Status s = result.get(); !s.ok()) {
          failure = Cat("message ", e.seq, ": ", s.message());
          scanned_through = e.seq;  // this one and the rest stay as they are
          done = true;
          break;
        }
        ++reprocessed;
        handled = true;
      } else {
        skipped.push_back({{"message_id", e.seq},
                           {"reason",
                            "no re-sendable copy of the record (written before "
                            "reprocessing was available)"}});
      }
      if (leading && handled) handled_through = e.seq + 1;
      any_handled |= handled;
      if (!handled) {
        leading = false;
        keep.push_back(e.payload);
      }
    }
  }
  uint64_t consume_to = handled_through;
  if (any_handled && !leading) {
    bool requeued = true;
    for (const std::string& payload : keep)
      if (!log->Append(Signal::kLogs, 1, payload).ok()) {
        requeued = false;  // keep the scanned range (some entries may now be there twice)
        SLOG(ERROR) << "pipeline " << id << ": cannot requeue dead letters after reprocessing;"
                    << " the ones sent again stay in the queue too";
        break;
      }
    if (requeued) consume_to = scanned_through;
  }
  if (consume_to > 0) (void)log->Ack(consume_to);
  log->Rewind();
  for (uint64_t missing : ids)
    skipped.push_back({{"message_id", missing}, {"reason", "no such unconsumed message"}});
  const bool partial = !failure.empty() || !skipped.empty() || done;
  *out = {{"request_id", RandomHex(32)},
          {"status", partial ? "partial" : "accepted"},
          {"reprocessed", reprocessed},
          {"skipped", skipped},
          {"remaining", log->stats().unacked_entries}};
  if (!failure.empty()) (*out)["error"] = failure;
  return {};
}

}  // namespace sluice::control
