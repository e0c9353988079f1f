// Loads pipeline documents (*.json, *.yaml, *.yml) from a directory and applies them to the
// registry as a diff: new ids are added, changed documents replace their pipeline, missing
// ones are removed, and failed pipelines whose file did not change are told to try again
// at once (the operator fixed the table or the password). Start-up is the diff from an
// empty registry; SIGHUP and `sluice reload` re-run it. Control thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/config.h"
#include "pipeline/registry.h"

namespace sluice::server {

// Whether a file name is a pipeline document by its extension.
bool IsPipelineFile(const std::string& path);
// The pipeline files of `dir`, sorted; other entries (not directories) go to `others`.
Status ListPipelineFiles(const std::string& dir, std::vector<std::string>* files,
                         std::vector<std::string>* others);
// Reads and parses one pipeline file (as JSON or YAML by its extension).
StatusOr<pipeline::PipelineConfig> LoadPipelineFile(const std::string& path);
// The pipeline_id a file that cannot be loaded is meant for: its pipeline_id when it can be
// read at all, else the file's name without its extension.
std::string PipelineIdOfFile(const std::string& path);

// What the directory shares the registry with: pipelines created through the REST API are
// left alone (a file naming one is ignored, with an error), and the files of the pipelines
// it declares are reported (the API shows those read-only).
struct DirShare {
  std::function<bool(const std::string& id)> api_owned;  // null: none
  std::map<std::string, std::string> files;              // out: pipeline_id -> file
};

// Returns the first error; pipelines whose documents are valid are applied regardless.
Status SyncPipelineDir(const std::string& dir, pipeline::Registry& registry,
                       DirShare* share = nullptr);

}  // namespace sluice::server
