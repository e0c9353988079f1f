#include "control/controller.h"

#include <tuple>

#include "control/document.h"
#include "control/stats_json.h"
#include "core/cat.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/wall_clock.h"
#include "server/pipeline_dir.h"

namespace sluice::control {

using nlohmann::json;
using pipeline::Pipeline;

namespace {

ApiError Refused(const Refusal& r) {
  ApiError e = BadRequest(r.code, r.message);
  if (!r.valid.empty()) {
    json valid = json::array();
    for (PipelineStatus s : r.valid) valid.push_back(StatusName(s));
    e.details = {{"valid_transitions", valid}};
  }
  return e;
}

std::vector<std::string> TagsOf(const json& doc) {
  std::vector<std::string> tags;
  if (doc.is_object() && doc.contains("metadata") && doc["metadata"].is_object() &&
      doc["metadata"].contains("tags") && doc["metadata"]["tags"].is_array())
    for (const auto& t : doc["metadata"]["tags"])
      if (t.is_string()) tags.push_back(t.get<std::string>());
  return tags;
}

// Replaces one top-level key of the record's document (rename, tags, resources).
void SetDocumentKey(StoredPipeline* r, const char* key, json value) {
  json doc = DocumentJson(r->document);
  doc[key] = std::move(value);
  r->document = doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A duration in Go's String() form ("1h0m0s"), as GlassFlow writes them back.
std::string GoDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h) out += Cat(h, "h");
  if (h || m) out += Cat(m, "m");
  out += Cat(s);
  if (rest) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(rest));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "s";
}

// GlassFlow's resources object with the buffer's limits as they apply.
json EffectiveResources(const json& doc, const pipeline::PipelineConfig& c, uint64_t limit_bytes) {
  json res = doc.is_object() && doc.contains("resources") && doc["resources"].is_object()
                 ? doc["resources"]
                 : json::object();
  json stream = json::object();
  stream["maxAge"] = GoDuration(c.buffer.max_age);
  stream["maxBytes"] = std::to_string(c.buffer.max_bytes > 0 ? c.buffer.max_bytes : limit_bytes);
  stream["maxMsgs"] = c.buffer.max_records;
  res["nats"] = {{"stream", stream}};
  return res;
}

const json& ImmutableFields() {
  static const json* kFields =
      new json(json::array({"nats/stream/maxAge", "nats/stream/maxBytes", "nats/stream/maxMsgs",
                            "transform/storage/size"}));
  return *kFields;
}

}  // namespace

Controller::Controller(pipeline::Registry& registry, ControllerOptions o)
    : registry_(registry),
      opts_(std::move(o)),
      store_(PosixFilesystem(), opts_.data_dir),
      history_(registry, opts_.history_interval, opts_.history_keep) {}

Controller::~Controller() { Shutdown(); }

void Controller::Load() {
  std::vector<std::string> problems;
  std::vector<StoredPipeline> records = store_.LoadAll(&problems);
  for (const auto& p : problems)
    SLOG(ERROR) << "pipeline store: " << p << " (left in place; the other pipelines load)";
  for (StoredPipeline& rec : records) {
    if (rec.deleted) {  // a DELETE that a crash interrupted: finish it
      Status s = registry_.Purge(rec.id);
      if (s.ok()) s = store_.Remove(rec.id);
      SLOG(INFO) << "pipeline " << rec.id << ": finishing its deletion"
                 << (s.ok() ? std::string() : Cat(" failed: ", s.message()));
      continue;
    }
    Entry e;
    e.rec = std::move(rec);
    const std::string id = e.rec.id;
    auto cfg = pipeline::ParsePipeline(e.rec.document, pipeline::DocFormat::kJson);
    if (cfg.ok() && cfg->id != id)
      cfg = absl::DataLossError(Cat("the stored document is pipeline '", cfg->id, "'"));
    if (!cfg.ok()) {
      e.load_error = std::string(cfg.status().message());
      e.config.id = id;
      e.config.name = e.rec.name;
      SLOG(ERROR) << "pipeline " << id << " (REST API): its stored configuration no longer loads ("
                  << e.load_error << "); edit or delete it";
    } else {
      e.config = std::move(*cfg);
      if (e.rec.stopped) {
        registry_.Swap(e.config);  // parked: buffers, does not consume
        SLOG(INFO) << "pipeline " << id << " (REST API) is Stopped: taking requests into its "
                   << "buffer until resumed";
      } else if (Status s = registry_.Add(e.config); !s.ok()) {
        SLOG(ERROR) << "pipeline " << id << ": " << s.message();
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    entries_[id] = std::move(e);
  }
  (void)Reload();
  history_.Start();
}

Status Controller::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  if (!opts_.pipelines_dir.empty()) {
    server::DirShare share;
    share.api_owned = [this](const std::string& id) {
      auto it = entries_.find(id);
      return it != entries_.end() && it->second.file.empty();
    };
    first = server::SyncPipelineDir(opts_.pipelines_dir, registry_, &share);
    for (auto it = entries_.begin(); it != entries_.end();) {
      const bool gone =
          !it->second.file.empty() && !share.files.count(it->first) && !registry_.Find(it->first);
      it = gone ? entries_.erase(it) : std::next(it);
    }
    for (const auto& [id, file] : share.files) {
      auto p = registry_.Find(id);
      if (!p) continue;
      Entry& e = entries_[id];
      e.file = file;
      e.config = p->config();
      e.rec.id = id;
      e.rec.name = p->config().name;
      e.rec.tags = TagsOf(DocumentJson(p->config().document));
    }
  }
  for (auto& [id, e] : entries_) {
    // A stored document that no longer loads: its clients are told to retry (503), not
    // that the pipeline does not exist (404), while its buffer waits for an edit.
    if (!e.load_error.empty()) registry_.add_unloadable(id);
    if (!e.file.empty() || e.rec.stopped || e.transition) continue;
    if (auto p = registry_.Find(id); p && p->state() != Pipeline::State::kRunning) p->RetryNow();
  }
  return first;
}

void Controller::Shutdown() {
  history_.Stop();
  std::list<Worker> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [id, e] : entries_)
      if (e.draining) e.draining->Hurry();  // the rest stays in the buffer for the restart
    workers.swap(workers_);
  }
  for (Worker& w : workers)
    if (w.thread.joinable()) w.thread.join();
}

void Controller::Launch(std::function<void()> work) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([work = std::move(work), done] {
                        NameThisThread("sluice-control");
                        work();
                        done->store(true);
                      }),
                      done});
}

void Controller::AwaitStarted(const std::shared_ptr<Pipeline>& p) {
  for (int i = 0; i < 500 && p->state() == Pipeline::State::kStarting; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

PipelineStatus Controller::CurrentOf(const std::string& id, const Entry& e) const {
  if (e.transition) return *e.transition;
  if (!e.load_error.empty()) return PipelineStatus::kFailed;
  if (e.file.empty() && e.rec.stopped) return PipelineStatus::kStopped;
  auto p = registry_.Find(id);
  if (!p) return PipelineStatus::kFailed;
  switch (p->state()) {
    case Pipeline::State::kStarting: return PipelineStatus::kCreated;
    case Pipeline::State::kRunning: return PipelineStatus::kRunning;
    case Pipeline::State::kStopped: return PipelineStatus::kStopped;
    case Pipeline::State::kFailed: break;
  }
  return PipelineStatus::kFailed;
}

std::optional<PipelineStatus> Controller::StatusOf(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return CurrentOf(id, it->second);
}

ApiError Controller::Changeable(const std::string& id, Entry** e) {
  if (shutting_down_) return Unavailable("the server is shutting down");
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFound(id);
  if (!it->second.file.empty())
    return {409, "read_only",
            Cat("pipeline '", id, "' is declared in ", it->second.file,
                "; change that file and run `sluice reload` (SIGHUP)"),
            nullptr, json{{"file", it->second.file}}};
  *e = &it->second;
  return {};
}

Status Controller::Persist(const Entry& e) { return store_.Put(e.rec); }

Status Controller::Store(Entry* e, StoredPipeline next) {
  next.updated_ms = UnixMillis();
  std::swap(e->rec, next);
  Status s = Persist(*e);
  if (!s.ok()) e->rec = std::move(next);  // the entry keeps what the store holds
  return s;
}

ApiError Controller::Create(std::string_view body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Unavailable("the server is shutting down");
  }
  pipeline::PipelineConfig cfg;
  if (ApiError err = ValidateDocument(body, opts_.validation, &cfg); !err.ok()) return err;
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.count(cfg.id) || registry_.Find(cfg.id))
    return {409, "conflict", Cat("pipeline with id '", cfg.id, "' already exists"), nullptr,
            json{{"pipeline_id", cfg.id}}};
  Entry e;
  e.rec.id = cfg.id;
  e.rec.document = std::string(body);
  e.rec.name = cfg.name;
  e.rec.tags = TagsOf(DocumentJson(e.rec.document));
  e.rec.created_ms = e.rec.updated_ms = UnixMillis();
  if (Status s = Persist(e); !s.ok())
    return Unavailable(Cat("cannot store the pipeline: ", s.message()));
  e.config = cfg;
  if (Status s = registry_.Add(std::move(cfg)); !s.ok()) {
    (void)store_.Remove(e.rec.id);
    return {409, "conflict", std::string(s.message()), nullptr, nullptr};
  }
  SLOG(INFO) << "pipeline " << e.rec.id << " created through the REST API";
  entries_[e.rec.id] = std::move(e);
  return {};
}

json Controller::Summary(const std::string& id, const Entry& e, bool health) const {
  json j = json::object();
  auto p = registry_.Find(id);
  int64_t created = e.rec.created_ms, updated = e.rec.updated_ms;
  if (!e.file.empty() && p) {
    const auto snap = p->TakeSnapshot();
    created = snap.created_ms;
    updated = snap.state_changed_ms;
  }
  j["pipeline_id"] = id;
  j[health ? "pipeline_name" : "name"] = e.rec.name.empty() ? id : e.rec.name;
  if (!health) {
    // GlassFlow's label: the transforms present, or "Ingest Only".
    const auto& t = e.config.transforms;
    std::string type;
    for (auto [on, name] : {std::pair{t.dedup, "Deduplication"}, std::pair{t.filter, "Filter"},
                            std::pair{t.stateless, "Stateless Transformation"}})
      if (on) type += (type.empty() ? "" : " & ") + std::string(name);
    j["transformation_type"] = type.empty() ? "Ingest Only" : type;
  }
  j[health ? "overall_status" : "status"] = StatusName(CurrentOf(id, e));
  j["created_at"] = TimeJson(created);
  j["updated_at"] = TimeJson(updated);
  if (!health) j["metadata"] = {{"tags", e.rec.tags}};
  j["source_type"] = SourceTypeOf(e.config.signal);
  j["managed_by"] = e.file.empty() ? "api" : "file";
  if (!e.file.empty()) j["file"] = e.file;
  if (!e.load_error.empty()) j["load_error"] = e.load_error;
  if (p) j["stats"] = PipelineStatsJson(*p);
  return j;
}

json Controller::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::array();
  for (const auto& [id, e] : entries_) out.push_back(Summary(id, e, false));
  return out;
}

ApiError Controller::Health(const std::string& id, json* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFound(id);
  *out = Summary(id, it->second, true);
  return {};
}

ApiError Controller::Get(const std::string& id, const std::vector<std::string>& schema,
                         json* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFound(id);
  const Entry& e = it->second;
  for (const std::string& sel : schema) {
    const size_t colon = sel.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == sel.size())
      return BadRequest("bad_request",
                        Cat("schema selection '", sel, "' is not source_id:version"));
    if (sel.substr(0, colon) != e.config.source_id)
      return BadRequest("bad_request",
                        Cat("pipeline '", id, "' has no source '", sel.substr(0, colon), "'"));
    if (sel.substr(colon + 1) != "1")
      return BadRequest("bad_request",
                        Cat("source '", e.config.source_id, "' has no schema version '",
                            sel.substr(colon + 1), "' (OTLP sources have version 1)"));
  }
  *out = DocumentJson(e.file.empty() ? e.rec.document : e.config.document);
  if (e.file.empty() && out->is_object()) (*out)["name"] = e.rec.name;
  return {};
}

ApiError Controller::Rename(const std::string& id, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string() ||
      j["name"].get<std::string>().empty())
    return Unprocessable("name", "required", "a non-empty string \"name\" is required");
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e;
  if (ApiError err = Changeable(id, &e); !err.ok()) return err;
  StoredPipeline next = e->rec;
  next.name = j["name"].get<std::string>();
  SetDocumentKey(&next, "name", next.name);
  if (Status s = Store(e, std::move(next)); !s.ok())
    return Unavailable(Cat("cannot store the pipeline: ", s.message()));
  return {};
}

ApiError Controller::SetMetadata(const std::string& id, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  const bool shaped =
      !j.is_discarded() && j.is_object() && j.contains("metadata") && j["metadata"].is_object();
  if (!shaped)
    return Unprocessable("metadata", "required", "expected {\"metadata\": {\"tags\": [...]}}");
  const json& md = j["metadata"];
  if (md.contains("tags") && !md["tags"].is_array())
    return Unprocessable("metadata.tags", "invalid", "tags must be an array of strings");
  std::vector<std::string> tags;
  if (md.contains("tags"))
    for (const auto& t : md["tags"]) {
      if (!t.is_string())
        return Unprocessable("metadata.tags", "invalid", "tags must be an array of strings");
      tags.push_back(t.get<std::string>());
    }
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e;
  if (ApiError err = Changeable(id, &e); !err.ok()) return err;
  StoredPipeline next = e->rec;
  next.tags = std::move(tags);
  SetDocumentKey(&next, "metadata", {{"tags", next.tags}});
  if (Status s = Store(e, std::move(next)); !s.ok())
    return Unavailable(Cat("cannot store the pipeline: ", s.message()));
  return {};
}

void Controller::RunTransition(const std::string& id, Op op, const pipeline::PipelineConfig& cfg) {
  if (op == Op::kResume) {
    std::shared_ptr<Pipeline> fresh;
    std::shared_ptr<Pipeline> old = registry_.Swap(cfg, &fresh);
    if (old) old->Stop();
    fresh->StartConsuming();
    AwaitStarted(fresh);
    bool terminated;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = entries_.find(id);
      terminated = it != entries_.end() && it->second.transition == PipelineStatus::kTerminating;
    }
    if (terminated) {
      if (auto running = registry_.Swap(cfg)) running->Stop(Pipeline::StopMode::kNow);
    }
  } else {
    std::shared_ptr<Pipeline> old = registry_.Swap(cfg);
    Pipeline::StopMode mode =
        op == Op::kStop ? Pipeline::StopMode::kDrain : Pipeline::StopMode::kNow;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = entries_.find(id);
      if (it != entries_.end()) {
        it->second.draining = old;
        if (it->second.transition == PipelineStatus::kTerminating || shutting_down_)
          mode = Pipeline::StopMode::kNow;
      }
    }
    if (old) old->Stop(mode);
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.draining = nullptr;
  const bool stopped = it->second.transition != PipelineStatus::kResuming;
  it->second.transition.reset();
  if (stopped != it->second.rec.stopped) {  // a resume that was terminated
    it->second.rec.stopped = stopped;
    (void)Persist(it->second);
  }
  SLOG(INFO) << "pipeline " << id << ": " << StatusName(CurrentOf(id, it->second));
}

ApiError Controller::Transition(const std::string& id, Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e;
  if (ApiError err = Changeable(id, &e); !err.ok()) return err;
  const PipelineStatus current = CurrentOf(id, *e);
  if (auto r = CheckOp(op, current)) return Refused(*r);
  if (op == Op::kResume && !e->load_error.empty())
    return Unprocessable(
        "", "invalid_stored_config",
        Cat("the stored configuration no longer loads (", e->load_error, "); edit the pipeline"));
  if (op == Op::kTerminate && e->transition) {
    // A drain or a restart in progress ends at once; its thread finishes the transition.
    e->transition = PipelineStatus::kTerminating;
    if (e->draining) e->draining->Hurry();
    return {};
  }
  StoredPipeline next = e->rec;
  next.stopped = op != Op::kResume;
  if (Status s = Store(e, std::move(next)); !s.ok())
    return Unavailable(Cat("cannot store the pipeline's state: ", s.message()));
  e->transition = op == Op::kStop        ? PipelineStatus::kStopping
                  : op == Op::kTerminate ? PipelineStatus::kTerminating
                                         : PipelineStatus::kResuming;
  SLOG(INFO) << "pipeline " << id << ": " << StatusName(*e->transition) << " (REST API)";
  Launch([this, id, op, cfg = e->config] { RunTransition(id, op, cfg); });
  return {};
}

ApiError Controller::Edit(const std::string& id, std::string_view body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e;
    if (ApiError err = Changeable(id, &e); !err.ok()) return err;
    if (auto r = CheckOp(Op::kEdit, CurrentOf(id, *e))) return Refused(*r);
  }
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("pipeline_id") &&
      j["pipeline_id"].is_string() && j["pipeline_id"].get<std::string>() != id)
    return BadRequest("bad_request",
                      Cat("pipeline_id in the body ('", j["pipeline_id"].get<std::string>(),
                          "') does not match the path ('", id, "')"));
  {
    // The buffer holds the source's requests: its type cannot change (said before the rest
    // of the document is checked against the new type).
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.load_error.empty() && j.is_object() &&
        j.contains("sources") && j["sources"].is_array() && !j["sources"].empty() &&
        j["sources"][0].is_object() && j["sources"][0].contains("type") &&
        j["sources"][0]["type"].is_string() &&
        j["sources"][0]["type"].get<std::string>() != SourceTypeOf(it->second.config.signal))
      return Unprocessable("sources[0].type", "immutable",
                           Cat("cannot change from ", SourceTypeOf(it->second.config.signal),
                               ": the pipeline's buffer holds its requests"));
  }
  pipeline::PipelineConfig cfg;
  if (ApiError err = ValidateDocument(body, opts_.validation, &cfg); !err.ok()) return err;
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e;
  if (ApiError err = Changeable(id, &e); !err.ok()) return err;
  if (auto r = CheckOp(Op::kEdit, CurrentOf(id, *e))) return Refused(*r);
  if (e->load_error.empty()) {
    if (cfg.signal != e->config.signal)
      return Unprocessable("sources[0].type", "immutable",
                           Cat("cannot change from ", SourceTypeOf(e->config.signal),
                               ": the pipeline's buffer holds its requests"));
    if (cfg.buffer.max_bytes != e->config.buffer.max_bytes ||
        cfg.buffer.max_age != e->config.buffer.max_age ||
        cfg.buffer.max_records != e->config.buffer.max_records)
      return Unprocessable("resources.nats.stream", "immutable",
                           "the buffer's limits are fixed when the pipeline is created");
  }
  StoredPipeline next = e->rec;
  next.document = std::string(body);
  next.name = cfg.name;
  next.tags = TagsOf(DocumentJson(next.document));
  next.stopped = false;
  if (Status s = Store(e, std::move(next)); !s.ok())
    return Unavailable(Cat("cannot store the pipeline: ", s.message()));
  e->config = cfg;
  e->load_error.clear();
  e->transition = PipelineStatus::kResuming;
  SLOG(INFO) << "pipeline " << id << " edited through the REST API: resuming";
  Launch([this, id, cfg = std::move(cfg)] { RunTransition(id, Op::kResume, cfg); });
  return {};
}

ApiError Controller::Delete(const std::string& id) {
  std::shared_ptr<std::mutex> dlq;
  StoredPipeline rec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e;
    if (ApiError err = Changeable(id, &e); !err.ok()) return err;
    if (auto r = CheckOp(Op::kDelete, CurrentOf(id, *e))) return Refused(*r);
    e->transition = PipelineStatus::kTerminating;  // no other operation meanwhile
    e->deleting = true;
    dlq = e->dlq_mu;
    rec = e->rec;
  }
  // The record says "being deleted" first: a crash from here on finishes the deletion at
  // the next start rather than bring back a pipeline without its buffer.
  rec.deleted = true;
  if (Status s = store_.Put(rec); !s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      it->second.transition.reset();
      it->second.deleting = false;
    }
    return Unavailable(Cat("cannot store the pipeline's state: ", s.message()));
  }
  Status purged;
  {
    std::lock_guard<std::mutex> hold(*dlq);  // no DLQ reader reopens the storage meanwhile
    (void)registry_.Remove(id);              // a parked or failed pipeline stops quickly
    purged = registry_.Purge(id);
  }
  if (!purged.ok()) {
    // The record stays "being deleted": the next start tries again; so may a DELETE now.
    SLOG(ERROR) << "pipeline " << id << ": " << purged.message();
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      it->second.transition.reset();
      it->second.deleting = false;
      it->second.rec.stopped = true;
    }
    return {500, "internal_error",
            Cat("the pipeline's data could not be deleted (the next start tries again): ",
                purged.message()),
            nullptr, nullptr};
  }
  if (Status s = store_.Remove(id); !s.ok())
    SLOG(ERROR) << "pipeline " << id << ": cannot remove its stored record: " << s.message();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(id);
  SLOG(INFO) << "pipeline " << id << " deleted through the REST API (buffer and dead letters too)";
  return {};
}

ApiError Controller::Resources(const std::string& id, json* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFound(id);
  const Entry& e = it->second;
  auto p = registry_.Find(id);
  const json doc = DocumentJson(e.file.empty() ? e.rec.document : e.config.document);
  *out = {
      {"pipeline_resources", EffectiveResources(doc, e.config, p ? p->buffer_limit_bytes() : 0)},
      {"fields_policy", {{"immutable", ImmutableFields()}}}};
  return {};
}

ApiError Controller::PutResources(const std::string& id, std::string_view body, json* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("pipeline_resources") ||
      !j["pipeline_resources"].is_object())
    return Unprocessable("pipeline_resources", "required",
                         "expected {\"pipeline_resources\": {...}}");
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e;
    if (ApiError err = Changeable(id, &e); !err.ok()) return err;
    if (auto r = CheckOp(Op::kEdit, CurrentOf(id, *e))) return Refused(*r);
    json doc = DocumentJson(e->rec.document);
    json wanted = j["pipeline_resources"];
    const json had = doc.is_object() && doc.contains("resources") ? doc["resources"] : json();
    if (!wanted.contains("nats") && had.is_object() && had.contains("nats"))
      wanted["nats"] = had["nats"];
    json probe = doc;
    probe["resources"] = wanted;
    // The whole document must still load (unknown keys, sizes, durations)...
    auto parsed = pipeline::ParsePipeline(
        probe.dump(-1, ' ', false, json::error_handler_t::replace), pipeline::DocFormat::kJson);
    if (!parsed.ok()) {
      ApiError bad{422, "unprocessable_entity", "the resources are invalid",
                   FieldErrorsOf(std::string(parsed.status().message()), nullptr), nullptr};
      bad.details = {{"error", std::string(parsed.status().message())}};
      return bad;
    }
    // ...and the buffer's limits, fixed at creation, may be restated but not changed (a
    // size restated as GET shows it, the default in bytes, is the same size).
    auto p = registry_.Find(id);
    const uint64_t limit = p ? p->buffer_limit_bytes() : 0;
    auto effective = [&](const pipeline::BufferLimits& b) {
      return std::tuple(b.max_bytes > 0 ? b.max_bytes : limit, b.max_age, b.max_records);
    };
    if (effective(parsed->buffer) != effective(e->config.buffer))
      return Unprocessable("pipeline_resources.nats.stream", "immutable",
                           "nats/stream/maxAge, maxBytes and maxMsgs cannot change after creation");
    if (had.is_object() && had.contains("nats"))
      wanted["nats"] = had["nats"];
    else
      wanted.erase("nats");
    doc["resources"] = std::move(wanted);
    StoredPipeline next = e->rec;
    next.document = doc.dump(-1, ' ', false, json::error_handler_t::replace);
    if (Status s = Store(e, std::move(next)); !s.ok())
      return Unavailable(Cat("cannot store the pipeline: ", s.message()));
  }
  return Resources(id, out);
}

}  // namespace sluice::control
