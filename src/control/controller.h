// The pipelines' control plane: creates, stops, resumes, edits and deletes pipelines for
// the REST API (GlassFlow's lifecycle, glassflow.md §4.1), keeps API pipelines in the
// PipelineStore, and shares the registry with the pipelines directory (whose pipelines it
// shows read-only). Long work (a drain, a restart) runs on a thread of its own while the
// pipeline shows a transitional status; the receivers always find the id (a stopped
// pipeline is parked: it takes requests into its buffer and does not consume).
// Thread-safe: API calls come from the admin listener's threads, Load/Reload/Shutdown from
// the main thread. The dead-letter routes are in controller_dlq.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "control/api_error.h"
#include "control/lifecycle.h"
#include "control/metrics_history.h"
#include "control/store.h"
#include "control/validation.h"
#include "pipeline/registry.h"

namespace sluice::control {

struct ControllerOptions {
  std::string data_dir = ".data";
  std::string pipelines_dir;  // empty: none
  ValidationOptions validation;
  // The console's graphs: a sample every interval, the last `history_keep` kept (10 min).
  std::chrono::milliseconds history_interval{2000};
  size_t history_keep = 300;
};

class Controller {
 public:
  Controller(pipeline::Registry& registry, ControllerOptions o);
  ~Controller();  // Shutdown

  // Start-up: the stored pipelines (each in its desired state), then the directory's.
  void Load();
  // SIGHUP, `sluice reload`: the directory again; failed API pipelines try again now.
  Status Reload();
  // Hurries drains and waits for the transitions; then the registry can stop everything.
  void Shutdown();

  ApiError Create(std::string_view body);
  nlohmann::json List() const;
  ApiError Get(const std::string& id, const std::vector<std::string>& schema,
               nlohmann::json* out) const;
  ApiError Rename(const std::string& id, std::string_view body);
  ApiError Delete(const std::string& id);
  ApiError Stop(const std::string& id) { return Transition(id, Op::kStop); }
  ApiError Terminate(const std::string& id) { return Transition(id, Op::kTerminate); }
  ApiError Resume(const std::string& id) { return Transition(id, Op::kResume); }
  ApiError Edit(const std::string& id, std::string_view body);
  ApiError SetMetadata(const std::string& id, std::string_view body);
  ApiError Health(const std::string& id, nlohmann::json* out) const;
  ApiError Resources(const std::string& id, nlohmann::json* out) const;
  ApiError PutResources(const std::string& id, std::string_view body, nlohmann::json* out);

  // The dead-letter queue (its entries' sequence numbers are their message ids).
  ApiError DlqState(const std::string& id, nlohmann::json* out);
  // Destructive read of up to n entries (GlassFlow's shape); an empty array when none.
  ApiError DlqConsume(const std::string& id, size_t n, nlohmann::json* out);
  ApiError DlqPurge(const std::string& id);
  // Reads without consuming, from message id `cursor` on, optionally one component's and
  // one reason's (empty: any).
  ApiError DlqList(const std::string& id, uint64_t cursor, size_t n, const std::string& component,
                   const std::string& reason, nlohmann::json* out);
  // Sends dead letters through the pipeline again: {mode: all|selected, message_ids}. Those
  // sent leave the queue; the others scanned on the way are appended again (new ids, same
  // order), since the queue only drops entries at its head.
  ApiError DlqReprocess(const std::string& id, std::string_view body, nlohmann::json* out);

  // The console's additions (controller_console.cc).
  // The document checked as a create would check it, without creating anything.
  ApiError Validate(std::string_view body) const;
  // The live columns of the pipeline's table(s) beside its mapping. 503 when ClickHouse
  // does not answer.
  ApiError DescribeTable(const std::string& id, nlohmann::json* out) const;
  // Sends one record of the pipeline's signal, marked with a random id, through its buffer
  // as a client's request would go: {test_id, marker, sent_at}.
  ApiError SendTestRecord(const std::string& id, nlohmann::json* out);
  // Where that record is: buffered, dead_lettered (with the dead letter), landed (table and
  // columns holding the marker) or not_found (filtered, a duplicate, or no column keeps it).
  ApiError TestRecordStatus(const std::string& id, const std::string& test_id, nlohmann::json* out);
  // The last minutes of every pipeline's figures (MetricsHistory::Json).
  nlohmann::json History() const { return history_.Json(); }

  // The current status of a pipeline (for tests and the CLI); nullopt when unknown.
  std::optional<PipelineStatus> StatusOf(const std::string& id) const;

 private:
  struct Entry {
    std::string file;  // declared in this pipelines file: read-only through the API
    pipeline::PipelineConfig config;
    StoredPipeline rec;                        // API pipelines: what the store holds
    std::optional<PipelineStatus> transition;  // Stopping, Terminating or Resuming while it runs
    std::shared_ptr<pipeline::Pipeline> draining;  // the pipeline a Stopping drains
    std::string load_error;                        // a stored document that no longer loads
    int64_t last_consumed_ms = 0;                  // DLQ
    bool deleting = false;                         // DELETE in progress: no DLQ access either
    // One DLQ reader at a time (the queue's read position is shared); DELETE holds it
    // while the storage goes.
    std::shared_ptr<std::mutex> dlq_mu = std::make_shared<std::mutex>();
  };

  PipelineStatus CurrentOf(const std::string& id, const Entry& e) const;  // mu_ held
  ApiError Transition(const std::string& id, Op op);
  // The work of a stop, terminate or resume (an edit resumes with its new config), on a
  // control thread; ends the entry's transitional status.
  void RunTransition(const std::string& id, Op op, const pipeline::PipelineConfig& cfg);
  // Looks up an API pipeline that may be changed. mu_ held.
  ApiError Changeable(const std::string& id, Entry** e);
  Status Persist(const Entry& e);  // mu_ held
  // Makes `next` the entry's record, stamped now, if the store takes it. mu_ held.
  Status Store(Entry* e, StoredPipeline next);
  void Launch(std::function<void()> work);
  // Waits (bounded) until a started pipeline has left Starting.
  static void AwaitStarted(const std::shared_ptr<pipeline::Pipeline>& p);
  nlohmann::json Summary(const std::string& id, const Entry& e, bool health) const;  // mu_ held
  // Locks the pipeline's DLQ (`hold`) and opens it. 404 when gone or being deleted.
  ApiError DlqLog(const std::string& id, std::unique_lock<std::mutex>* hold,
                  std::shared_ptr<buffer::LocalLog>* log, Signal* signal = nullptr);
  // The last dead letter whose entry holds `needle` (null when none) in the first 256 MiB
  // of the queue; *complete is false when the queue is longer.
  ApiError DlqFind(const std::string& id, std::string_view needle, nlohmann::json* found,
                   bool* complete);
  // A copy of the pipeline's document. 404 when unknown.
  ApiError ConfigOf(const std::string& id, pipeline::PipelineConfig* out) const;

  pipeline::Registry& registry_;
  const ControllerOptions opts_;
  PipelineStore store_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // guarded by mu_
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers_;   // guarded by mu_
  bool shutting_down_ = false;  // guarded by mu_
  MetricsHistory history_;
  // Held (try_lock) by the console's checks of ClickHouse: one at a time.
  mutable std::mutex console_ch_mu_;
};

}  // namespace sluice::control
