#include "server/pipeline_dir.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/cat.h"
#include "core/log.h"
#include "pipeline/config.h"

namespace sluice::server {

Status SyncPipelineDir(const std::string& dir, pipeline::Registry& registry) {
  namespace fs = std::filesystem;
  Status first;
  bool unreadable = false;  // a file failed: keep running pipelines rather than guess
  std::map<std::string, pipeline::PipelineConfig> wanted;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    SLOG(WARN) << "pipelines directory '" << dir << "' does not exist: no pipelines loaded";
  } else {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      std::stringstream ss;
      ss << in.rdbuf();
      auto p = pipeline::ParsePipeline(ss.str());
      if (!p.ok()) {
        SLOG(ERROR) << entry.path().string() << ": " << p.status().message();
        if (first.ok())
          first =
              absl::InvalidArgumentError(Cat(entry.path().string(), ": ", p.status().message()));
        unreadable = true;
        continue;
      }
      if (wanted.count(p->id)) {
        SLOG(ERROR) << entry.path().string() << ": duplicate pipeline_id '" << p->id << "'";
        continue;
      }
      wanted.emplace(p->id, std::move(*p));
    }
  }
  for (const auto& p : registry.List()) {
    auto it = wanted.find(p->config().id);
    if (it == wanted.end()) {
      if (unreadable) {
        SLOG(WARN) << "keeping pipeline " << p->config().id
                   << ": not removed while a pipeline file cannot be read";
        continue;
      }
      SLOG(INFO) << "removing pipeline " << p->config().id;
      (void)registry.Remove(p->config().id);
    } else if (it->second.document == p->config().document) {
      wanted.erase(it);  // unchanged
    }
  }
  for (auto& [id, cfg] : wanted) {
    SLOG(INFO) << "starting pipeline " << id;
    Status s = registry.Replace(std::move(cfg));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace sluice::server
