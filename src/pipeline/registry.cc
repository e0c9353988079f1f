#include "pipeline/registry.h"

#include "core/cat.h"

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

Status Registry::Add(PipelineConfig config) {
  std::lock_guard<std::mutex> control(control_mu_);
  auto snap = Snapshot();
  if (snap->count(config.id))
    return absl::AlreadyExistsError(Cat("pipeline '", config.id, "' already exists"));
  auto p = std::make_shared<Pipeline>(std::move(config), limits_);
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
  // clients see 503 (starting, retryable) at worst, never 404 (which exporters drop).
  std::shared_ptr<Pipeline> old;
  {
    std::lock_guard<std::mutex> control(control_mu_);
    auto snap = Snapshot();
    auto p = std::make_shared<Pipeline>(std::move(config), limits_);
    p->Start();
    auto next = std::make_shared<Map>(*snap);
    auto& slot = (*next)[p->config().id];
    old = std::move(slot);
    slot = p;
    Publish(std::move(next));
  }
  if (old) old->Stop();
  return absl::OkStatus();
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

}  // namespace sluice::pipeline
