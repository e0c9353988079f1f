// The set of pipelines, looked up by id on every request. Readers take an immutable
// snapshot (a shared_ptr copy under a short lock); changes build a new snapshot and
// publish it, so lookups never wait for a pipeline to start or stop.
// Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "buffer/local_log.h"
#include "core/fs.h"
#include "pipeline/pipeline.h"

namespace sluice::pipeline {

class Registry {
 public:
  explicit Registry(Limits limits)
      : limits_(limits), budget_(std::make_shared<MemoryBudget>(limits.batch_memory)) {}
  ~Registry() { StopAll(); }

  // Adds and starts a pipeline. AlreadyExists when the id is taken.
  Status Add(PipelineConfig config);
  // Stops and removes a pipeline. NotFound when absent.
  Status Remove(const std::string& id);
  // Replaces a pipeline with a new configuration (stop old, start new).
  Status Replace(PipelineConfig config);
  // Publishes a parked pipeline for config.id (it takes requests into its buffer but does
  // not consume) in place of the current one, which is returned, still running: the caller
  // stops it (draining or not), then calls StartConsuming on the new one, or leaves it
  // parked. The caller keeps other changes of this id away meanwhile.
  std::shared_ptr<Pipeline> Swap(PipelineConfig config, std::shared_ptr<Pipeline>* fresh = nullptr);
  // Deletes a removed pipeline's storage (buffer, dead letters, cut journal, guard) once
  // its pending appends have completed. FailedPrecondition while the id is published.
  Status Purge(const std::string& id);
  // The storage of a pipeline (opened if needed, then kept open): the API reads its
  // dead-letter queue through it.
  StatusOr<Pipeline::Storage> StorageOf(const PipelineConfig& config) {
    return OpenStorage(config.id, config.buffer);
  }

  std::shared_ptr<Pipeline> Find(std::string_view id) const;
  // Ids of pipeline files that cannot be loaded now: requests for them are told to retry.
  void set_unloadable(std::set<std::string> ids);
  void add_unloadable(const std::string& id);
  bool unloadable(std::string_view id) const;
  // Whether the configured pipelines have been loaded (set once at start): until then an
  // unknown id may be one not loaded yet, which clients must retry, not drop.
  bool loaded() const { return loaded_.load(); }
  void set_loaded() { loaded_ = true; }
  std::vector<std::shared_ptr<Pipeline>> List() const;
  // Requests that reached no pipeline (no header, unknown id, refused before routing).
  RequestMetrics& unrouted_requests() { return unrouted_; }
  void StopAll();
  // Waits until no append to any log is pending, so that no completion runs after the
  // receivers (whose answers they are) are gone. Call after the receivers stopped.
  void DrainAppends();

 private:
  using Map = std::map<std::string, std::shared_ptr<Pipeline>, std::less<>>;
  std::shared_ptr<const Map> Snapshot() const;
  void Publish(std::shared_ptr<const Map> next);
  // A pipeline whose worker opens its durable log, dead-letter queue and cut journal
  // (retrying while that fails: out of descriptors, say). Logs are opened (and recovered)
  // on first use and kept open for the life of the registry, so that a replaced or
  // re-added pipeline continues them.
  std::shared_ptr<Pipeline> Make(PipelineConfig config);
  StatusOr<Pipeline::Storage> OpenStorage(const std::string& id, const BufferLimits& buf);
  StatusOr<std::shared_ptr<buffer::LocalLog>> KeepOpen(const buffer::LogOptions& o);  // logs_mu_

  const Limits limits_;
  const std::shared_ptr<MemoryBudget> budget_;  // batches in flight, all pipelines
  std::atomic<bool> loaded_{false};
  RequestMetrics unrouted_;
  mutable std::mutex mu_;  // guards snapshot_ pointer swaps
  std::mutex control_mu_;  // serializes changes
  std::shared_ptr<const Map> snapshot_ = std::make_shared<Map>();
  std::set<std::string, std::less<>> unloadable_;  // guarded by mu_
  // Open logs by directory. Guarded by logs_mu_ (workers open them).
  std::mutex logs_mu_;
  std::map<std::string, std::shared_ptr<buffer::LocalLog>> logs_;
};

}  // namespace sluice::pipeline
