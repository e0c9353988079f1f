#include "control/store.h"

#include <nlohmann/json.hpp>

#include "core/cat.h"
#include "pipeline/config.h"

namespace sluice::control {

using nlohmann::json;

PipelineStore::PipelineStore(Filesystem* fs, std::string data_dir)
    : fs_(fs), dir_(std::move(data_dir) + "/api/pipelines") {}

std::string PipelineStore::Encode(const StoredPipeline& p) {
  json j = {{"format", 1},
            {"pipeline_id", p.id},
            {"desired", p.deleted   ? "Deleted"
                        : p.stopped ? "Stopped"
                                    : "Running"},
            {"name", p.name},
            {"tags", p.tags},
            {"created_at_ms", p.created_ms},
            {"updated_at_ms", p.updated_ms},
            {"document", p.document}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

StatusOr<StoredPipeline> PipelineStore::Decode(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("not a JSON object");
  if (j.value("format", 0) != 1) return absl::DataLossError("unknown record format");
  StoredPipeline p;
  try {
    p.id = j.at("pipeline_id").get<std::string>();
    p.document = j.at("document").get<std::string>();
    const std::string desired = j.at("desired").get<std::string>();
    if (desired != "Running" && desired != "Stopped" && desired != "Deleted")
      return absl::DataLossError(Cat("unknown desired state '", desired, "'"));
    p.stopped = desired == "Stopped";
    p.deleted = desired == "Deleted";
    p.name = j.value("name", p.id);
    p.tags = j.value("tags", std::vector<std::string>{});
    p.created_ms = j.value("created_at_ms", int64_t{0});
    p.updated_ms = j.value("updated_at_ms", p.created_ms);
  } catch (const json::exception& e) {
    return absl::DataLossError(Cat("bad record: ", e.what()));
  }
  if (!pipeline::ValidPipelineId(p.id)) return absl::DataLossError("bad pipeline_id");
  return p;
}

std::vector<StoredPipeline> PipelineStore::LoadAll(std::vector<std::string>* problems) const {
  std::vector<StoredPipeline> out;
  if (!fs_->Exists(dir_)) return out;
  auto names = fs_->List(dir_);
  if (!names.ok()) {
    problems->push_back(Cat(dir_, ": ", names.status().message()));
    return out;
  }
  for (const std::string& name : *names) {
    if (!name.ends_with(".json")) {
      // A write interrupted before its rename: the record it replaced is intact.
      if (name.ends_with(".tmp")) (void)fs_->Remove(Cat(dir_, "/", name));
      continue;
    }
    const std::string path = Cat(dir_, "/", name);
    auto text = fs_->ReadFile(path);
    if (!text.ok()) {
      problems->push_back(Cat(path, ": ", text.status().message()));
      continue;
    }
    auto rec = Decode(*text);
    if (!rec.ok()) {
      problems->push_back(Cat(path, ": ", rec.status().message()));
      continue;
    }
    if (Cat(rec->id, ".json") != name) {
      problems->push_back(Cat(path, ": holds pipeline '", rec->id, "'; ignored"));
      continue;
    }
    out.push_back(std::move(*rec));
  }
  return out;
}

Status PipelineStore::Put(const StoredPipeline& p) {
  if (Status s = fs_->CreateDirs(dir_); !s.ok()) return s;
  return fs_->WriteFileAtomic(PathOf(p.id), Encode(p));
}

Status PipelineStore::Remove(const std::string& id) {
  const std::string path = PathOf(id);
  if (!fs_->Exists(path)) return absl::OkStatus();
  if (Status s = fs_->Remove(path); !s.ok()) return s;
  return fs_->SyncDir(dir_);
}

}  // namespace sluice::control
