// The pipelines created through the REST API, kept in the data directory
// (<data_dir>/api/pipelines/<id>.json, one file each). A record is replaced atomically
// (written beside, synced, renamed over, directory synced), so a crash leaves the old or
// the new record, never a mix. Thread-safe (each call stands alone; the controller
// serializes changes of one id).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/status.h"

namespace sluice::control {

struct StoredPipeline {
  std::string id;
  std::string document;  // the v3 pipeline JSON as last accepted
  bool stopped = false;  // desired state: a restart brings it back Stopped or Running
  // Being deleted: a restart finishes the deletion (its data first, then the record).
  bool deleted = false;
  std::string name;
  std::vector<std::string> tags;
  int64_t created_ms = 0, updated_ms = 0;
};

class PipelineStore {
 public:
  PipelineStore(Filesystem* fs, std::string data_dir);

  // Every readable record; unreadable files are reported in `problems` (one line each)
  // and left in place for the operator, so one bad file never stops the others.
  std::vector<StoredPipeline> LoadAll(std::vector<std::string>* problems) const;
  Status Put(const StoredPipeline& p);
  Status Remove(const std::string& id);

  static std::string Encode(const StoredPipeline& p);
  static StatusOr<StoredPipeline> Decode(std::string_view text);

 private:
  std::string PathOf(const std::string& id) const { return dir_ + "/" + id + ".json"; }
  Filesystem* fs_;
  std::string dir_;
};

}  // namespace sluice::control
