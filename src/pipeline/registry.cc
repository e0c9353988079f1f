#include "pipeline/registry.h"

#include <filesystem>

#include "core/cat.h"
#include "core/descriptors.h"

namespace sluice::pipeline {

std::shared_ptr<const Registry::Map> Registry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

void Registry::Publish(std::shared_ptr<const Map> next) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(next);
}

std::shared_ptr<Pipeline> Registry::Find(std::string_view id) const {
  auto snap = Snapshot();
  auto it = snap->find(id);
  return it == snap->end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Pipeline>> Registry::List() const {
  std::vector<std::shared_ptr<Pipeline>> out;
  for (const auto& [id, p] : *Snapshot()) out.push_back(p);
  return out;
}

StatusOr<std::shared_ptr<buffer::LocalLog>> Registry::KeepOpen(const buffer::LogOptions& o) {
  auto it = logs_.find(o.dir);
  if (it != logs_.end()) return it->second;
  auto log = buffer::LocalLog::Open(PosixFilesystem(), o);
  if (!log.ok()) return log.status();
  std::shared_ptr<buffer::LocalLog> shared(std::move(*log));
  logs_[o.dir] = shared;
  return shared;
}

StatusOr<Pipeline::Storage> Registry::OpenStorage(const std::string& id, const BufferLimits& buf) {
  const std::string base = Cat(limits_.data_dir, "/pipelines/", id);
  // A pipeline holds about eight descriptors (logs, checkpoints, its guard); opened only
  // while enough stay free for connections, so a short limit leaves some pipelines waiting
  // (503) instead of a server that cannot accept.
  // One pipeline at a time, so that the check holds until its files are open.
  std::lock_guard<std::mutex> lock(logs_mu_);
  if (!logs_.count(base + "/log") || !logs_.count(base + "/cuts"))
    if (Status s = CheckDescriptorBudget(12); !s.ok()) return s;
  Pipeline::Storage st;
  buffer::LogOptions lo;
  lo.dir = base + "/log";
  lo.fsync = limits_.fsync;
  lo.sync_interval = limits_.sync_interval;
  lo.max_bytes = buf.max_bytes > 0 ? buf.max_bytes : limits_.queue_bytes;
  lo.max_age = buf.max_age;
  lo.max_records = buf.max_records;
  auto log = KeepOpen(lo);
  if (!log.ok()) return log.status();
  st.buffer = *log;
  // The dead-letter queue and the cut journal keep a reserve of disk (their segments are
  // allocated ahead), so that on a full disk rows can still be dead-lettered and batches
  // journaled: the pipeline drains, and the drain frees the disk.
  buffer::LogOptions dq;
  dq.dir = base + "/dlq";
  dq.segment_bytes = 2u << 20;
  dq.reserve = true;
  auto dlq = KeepOpen(dq);
  if (!dlq.ok()) return dlq.status();
  st.dlq = *dlq;
  buffer::LogOptions co;  // one small entry per batch, durable like the buffer
  co.dir = base + "/cuts";
  co.fsync = limits_.fsync;
  co.sync_interval = limits_.sync_interval;
  co.segment_bytes = 1u << 20;
  co.reserve = true;
  auto cuts = KeepOpen(co);
  if (!cuts.ok()) return cuts.status();
  st.cuts = *cuts;
  return st;
}

std::shared_ptr<Pipeline> Registry::Make(PipelineConfig config) {
  // The buffer's limits are fixed when it is first opened (as GlassFlow's stream's).
  return std::make_shared<Pipeline>(
      config, limits_, [this, id = config.id, buf = config.buffer] { return OpenStorage(id, buf); },
      budget_);
}

Status Registry::Add(PipelineConfig config) {
  std::lock_guard<std::mutex> control(control_mu_);
  auto snap = Snapshot();
  if (snap->count(config.id))
    return absl::AlreadyExistsError(Cat("pipeline '", config.id, "' already exists"));
  std::shared_ptr<Pipeline> p = Make(std::move(config));
  p->Start();
  auto next = std::make_shared<Map>(*snap);
  (*next)[p->config().id] = p;
  Publish(std::move(next));
  return absl::OkStatus();
}

Status Registry::Remove(const std::string& id) {
  std::shared_ptr<Pipeline> old;
  {
    std::lock_guard<std::mutex> control(control_mu_);
    auto snap = Snapshot();
    auto it = snap->find(id);
    if (it == snap->end()) return absl::NotFoundError(Cat("pipeline '", id, "' not found"));
    old = it->second;
    auto next = std::make_shared<Map>(*snap);
    next->erase(id);
    Publish(std::move(next));
  }
  old->Stop();
  return absl::OkStatus();
}

Status Registry::Replace(PipelineConfig config) {
  // The new pipeline is published before the old one stops, so the id never disappears:
  // clients see 503 (starting, retryable) at worst, never 404 (which exporters drop). Both
  // append to the same log; the new one starts reading it once the old one has stopped.
  std::lock_guard<std::mutex> control(control_mu_);
  std::shared_ptr<Pipeline> p = Make(std::move(config));
  auto snap = Snapshot();
  p->Start(/*consume=*/false);
  auto next = std::make_shared<Map>(*snap);
  auto& slot = (*next)[p->config().id];
  std::shared_ptr<Pipeline> old = std::move(slot);
  slot = p;
  Publish(std::move(next));
  if (old) old->Stop();
  p->StartConsuming();
  return absl::OkStatus();
}

std::shared_ptr<Pipeline> Registry::Swap(PipelineConfig config, std::shared_ptr<Pipeline>* fresh) {
  std::lock_guard<std::mutex> control(control_mu_);
  std::shared_ptr<Pipeline> p = Make(std::move(config));
  p->Start(/*consume=*/false);
  if (fresh) *fresh = p;
  auto next = std::make_shared<Map>(*Snapshot());
  auto& slot = (*next)[p->config().id];
  std::shared_ptr<Pipeline> old = std::move(slot);
  slot = std::move(p);
  Publish(std::move(next));
  return old;
}

Status Registry::Purge(const std::string& id) {
  if (Find(id)) return absl::FailedPreconditionError(Cat("pipeline '", id, "' is still in use"));
  const std::string base = Cat(limits_.data_dir, "/pipelines/", id);
  std::vector<std::shared_ptr<buffer::LocalLog>> closing;
  {
    std::lock_guard<std::mutex> lock(logs_mu_);
    for (auto it = logs_.begin(); it != logs_.end();) {
      if (it->first.starts_with(base + "/")) {
        closing.push_back(std::move(it->second));
        it = logs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& log : closing) log->WaitIdle();
  closing.clear();  // the last references, unless a late request still holds one
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  if (ec) return absl::UnavailableError(Cat("cannot delete ", base, ": ", ec.message()));
  return absl::OkStatus();
}

void Registry::DrainAppends() {
  std::vector<std::shared_ptr<buffer::LocalLog>> logs;
  {
    std::lock_guard<std::mutex> lock(logs_mu_);
    for (const auto& [dir, log] : logs_) logs.push_back(log);
  }
  for (const auto& log : logs) log->WaitIdle();
}

void Registry::StopAll() {
  std::shared_ptr<const Map> snap;
  {
    std::lock_guard<std::mutex> control(control_mu_);
    snap = Snapshot();
    Publish(std::make_shared<Map>());
  }
  // Stop in parallel so the shutdown bound applies once, not per pipeline.
  std::vector<std::thread> stoppers;
  for (const auto& [id, p] : *snap) stoppers.emplace_back([p] { p->Stop(); });
  for (auto& t : stoppers) t.join();
}

void Registry::set_unloadable(std::set<std::string> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  unloadable_ = std::set<std::string, std::less<>>(ids.begin(), ids.end());
}

void Registry::add_unloadable(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  unloadable_.insert(id);
}

bool Registry::unloadable(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return unloadable_.find(id) != unloadable_.end();
}

}  // namespace sluice::pipeline
