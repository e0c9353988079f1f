// `sluice validate`: checks pipeline files as the server would load them (and, with
// --check-clickhouse, against their tables), printing every problem with its file.
#include <cstdio>
#include <map>
#include <sstream>

#include "clickhouse/client.h"
#include "control/validation.h"
#include "core/cat.h"
#include "pipeline/table_plan.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/pipeline_dir.h"

namespace sluice::server {
namespace {

// Prints each line of a (possibly multi-line) message under the file's name.
void Problem(const std::string& file, std::string_view message) {
  std::istringstream lines{std::string(message)};
  std::string line;
  while (std::getline(lines, line)) std::printf("%s: %s\n", file.c_str(), line.c_str());
}

}  // namespace

int RunValidate(const ValidateOptions& o) {
  std::vector<std::string> files = o.files, others;
  if (files.empty()) {
    auto dir_or = FlagOrConfig(o.pipelines_dir, o.config, &ServerConfig::pipelines_dir);
    if (!dir_or.ok()) return Fail(dir_or.status());
    const std::string& dir = *dir_or;
    if (Status s = ListPipelineFiles(dir, &files, &others); !s.ok()) return Fail(s);
    for (const auto& f : others)
      std::printf("%s: not a pipeline file (.json, .yaml or .yml); the server ignores it\n",
                  f.c_str());
    if (files.empty()) std::printf("%s: no pipeline files\n", dir.c_str());
  }
  int bad = 0;
  std::map<std::string, std::string> ids;  // pipeline_id -> file
  for (const auto& f : files) {
    auto p = LoadPipelineFile(f);
    if (!p.ok()) {
      Problem(f, std::string(p.status().message()));
      ++bad;
      continue;
    }
    if (auto [it, fresh] = ids.emplace(p->id, f); !fresh) {
      Problem(f, Cat("pipeline_id '", p->id, "' is also used by ", it->second,
                     "; the server loads only one of them"));
      ++bad;
      continue;
    }
    if (const auto errors = control::MappingErrors(*p); !errors.empty()) {
      for (const auto& e : errors)
        Problem(f, Cat(e.value("field", ""), ": ", e.value("message", "")));
      ++bad;
      continue;
    }
    if (o.check_clickhouse) {
      clickhouse::Client client(p->sink.endpoint, std::chrono::seconds(10));
      auto plan = pipeline::ReadTables(*p, client);
      if (!plan.ok()) {
        Problem(f,
                Cat("ClickHouse at ", p->sink.endpoint.Describe(), ": ", plan.status().message()));
        ++bad;
        continue;
      }
    }
    std::printf("%s: ok (pipeline %s, %s -> %s.%s%s)\n", f.c_str(), p->id.c_str(),
                std::string(SourceTypeOf(p->signal)).c_str(), p->sink.endpoint.database.c_str(),
                p->sink.table.empty() ? "(tables by metric type)" : p->sink.table.c_str(),
                o.check_clickhouse ? ", tables checked" : "");
  }
  return bad > 0 ? 1 : 0;
}

}  // namespace sluice::server
