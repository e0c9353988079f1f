#include "control/metrics_history.h"

#include <set>

#include "core/thread_name.h"

namespace sluice::control {

MetricsHistory::MetricsHistory(pipeline::Registry& registry, std::chrono::milliseconds interval,
                               size_t keep)
    : registry_(registry), interval_(interval), keep_(keep < 2 ? 2 : keep) {}

MetricsHistory::~MetricsHistory() { Stop(); }

void MetricsHistory::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void MetricsHistory::Stop() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsHistory::Run() {
  NameThisThread("sluice-history");
  std::unique_lock l(mu_);
  while (!stop_) {
    l.unlock();
    SampleNow(std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count());
    l.lock();
    wake_.wait_for(l, interval_, [this] { return stop_; });
  }
}

void MetricsHistory::SampleNow(int64_t unix_ms) {
  // Read the pipelines without the lock (a snapshot may wait on a pipeline's own lock).
  std::vector<std::pair<std::string, Sample>> now;
  for (const auto& p : registry_.List()) {
    const pipeline::Pipeline::Snapshot snap = p->TakeSnapshot();
    Sample s;
    s.unix_ms = unix_ms;
    s.records_in = p->stats().records_accepted.load();
    s.rows_written = p->stats().rows_inserted.load();
    for (const auto& [reason, n] : p->metrics().dead_letters()) s.dead_letters += n;
    if (snap.storage_ready) {
      s.buffer_records = snap.buffer.unacked_records;
      s.buffer_bytes = snap.buffer.unacked_bytes;
    }
    s.oldest_age_seconds = snap.oldest_age_seconds;
    now.emplace_back(p->config().id, s);
  }
  std::set<std::string, std::less<>> live;
  std::lock_guard l(mu_);
  for (auto& [id, s] : now) {
    live.insert(id);
    auto& series = series_[id];
    series.push_back(s);
    while (series.size() > keep_) series.pop_front();
  }
  std::erase_if(series_, [&](const auto& kv) { return !live.contains(kv.first); });
}

nlohmann::json MetricsHistory::Json() const {
  nlohmann::json pipelines = nlohmann::json::object();
  std::lock_guard l(mu_);
  for (const auto& [id, series] : series_) {
    nlohmann::json t = nlohmann::json::array(), in = t, written = t, dead = t, records = t,
                   bytes = t, age = t;
    for (const Sample& s : series) {
      t.push_back(s.unix_ms);
      in.push_back(s.records_in);
      written.push_back(s.rows_written);
      dead.push_back(s.dead_letters);
      records.push_back(s.buffer_records);
      bytes.push_back(s.buffer_bytes);
      age.push_back(s.oldest_age_seconds);
    }
    pipelines[id] = {{"t", std::move(t)},
                     {"records_in", std::move(in)},
                     {"rows_written", std::move(written)},
                     {"dead_letters", std::move(dead)},
                     {"buffer_records", std::move(records)},
                     {"buffer_bytes", std::move(bytes)},
                     {"oldest_age_seconds", std::move(age)}};
  }
  return {{"interval_seconds", std::chrono::duration<double>(interval_).count()},
          {"pipelines", std::move(pipelines)}};
}

}  // namespace sluice::control
