#include "server/pipeline_dir.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/cat.h"
#include "core/fs.h"
#include "core/log.h"

namespace sluice::server {

bool IsPipelineFile(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".json" || ext == ".yaml" || ext == ".yml";
}

Status ListPipelineFiles(const std::string& dir, std::vector<std::string>* files,
                         std::vector<std::string>* others) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return absl::NotFoundError(Cat("pipelines directory '", dir, "' does not exist"));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) continue;
    const std::string path = entry.path().string();
    (IsPipelineFile(path) ? files : others)->push_back(path);
  }
  if (ec) return absl::UnavailableError(Cat("cannot list '", dir, "': ", ec.message()));
  std::sort(files->begin(), files->end());
  std::sort(others->begin(), others->end());
  return absl::OkStatus();
}

StatusOr<pipeline::PipelineConfig> LoadPipelineFile(const std::string& path) {
  auto text = PosixFilesystem()->ReadFile(path);
  if (!text.ok()) return absl::NotFoundError("cannot be read");
  const std::string ext = std::filesystem::path(path).extension().string();
  return pipeline::ParsePipeline(
      *text, ext == ".json" ? pipeline::DocFormat::kJson : pipeline::DocFormat::kYaml);
}

std::string PipelineIdOfFile(const std::string& path) {
  if (auto text = PosixFilesystem()->ReadFile(path); text.ok()) {
    try {
      const YAML::Node root = YAML::Load(*text);
      if (root.IsMap() && root["pipeline_id"] && root["pipeline_id"].IsScalar())
        return root["pipeline_id"].as<std::string>();
    } catch (const YAML::Exception&) {
    }
  }
  return std::filesystem::path(path).stem().string();
}

Status SyncPipelineDir(const std::string& dir, pipeline::Registry& registry, DirShare* share) {
  auto api_owned = [&](const std::string& id) {
    return share && share->api_owned && share->api_owned(id);
  };
  // Files that are not pipelines are reported once per server run, not at every reload.
  static std::set<std::string>* reported = new std::set<std::string>;
  Status first;
  bool unreadable = false;  // a file failed: keep running pipelines rather than guess
  std::map<std::string, pipeline::PipelineConfig> wanted;
  std::vector<std::string> files, others;
  if (Status s = ListPipelineFiles(dir, &files, &others); !s.ok()) {
    SLOG(WARN) << s.message() << ": no pipelines loaded";
    unreadable = !absl::IsNotFound(s);
  }
  for (const auto& path : others)
    if (reported->insert(path).second)
      SLOG(WARN) << path << ": not a pipeline file (.json, .yaml or .yml); ignored";
  std::set<std::string> unloadable;
  for (const auto& path : files) {
    auto p = LoadPipelineFile(path);
    if (!p.ok()) {
      SLOG(ERROR) << path << ": " << p.status().message();
      if (first.ok()) first = absl::InvalidArgumentError(Cat(path, ": ", p.status().message()));
      unreadable = true;
      // Its clients are told to retry (503), not that the pipeline does not exist (404,
      // which exporters drop): the file is being fixed, and its buffer may hold data.
      unloadable.insert(PipelineIdOfFile(path));
      continue;
    }
    if (wanted.count(p->id)) {
      SLOG(ERROR) << path << ": duplicate pipeline_id '" << p->id << "'";
      continue;
    }
    if (api_owned(p->id)) {
      if (reported->insert(Cat(path, "\n", p->id)).second)
        SLOG(ERROR) << path << ": pipeline '" << p->id
                    << "' was created through the REST API; this file is ignored";
      continue;
    }
    if (share) share->files[p->id] = path;
    wanted.emplace(p->id, std::move(*p));
  }
  for (const auto& p : registry.List()) {
    if (api_owned(p->config().id)) continue;
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
      if (p->state() != pipeline::Pipeline::State::kRunning) {
        SLOG(INFO) << "pipeline " << p->config().id << " is not running: trying it again now";
        p->RetryNow();
      }
    }
  }
  registry.set_unloadable(std::move(unloadable));
  for (auto& [id, cfg] : wanted) {
    SLOG(INFO) << "starting pipeline " << id;
    Status s = registry.Replace(std::move(cfg));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace sluice::server
