// `sluice dlq`: prints a pipeline's dead letters (JSON lines), or counts them by reason.
#include <simdjson.h>

#include <cstdio>
#include <map>

#include "buffer/log_format.h"
#include "core/fs.h"
#include "server/commands.h"
#include "server/config.h"

namespace sluice::server {

int RunDlq(const DlqOptions& o) {
  std::string data_dir = o.data_dir;
  if (data_dir.empty()) {
    auto cfg = LoadConfig(o.config);
    if (!cfg.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(cfg.status().message()).c_str());
      return 1;
    }
    data_dir = cfg->data_dir;
  }
  const std::string dir = data_dir + "/pipelines/" + o.pipeline + "/dlq";
  if (!PosixFilesystem()->Exists(dir)) {
    std::fprintf(stderr, "no dead-letter queue for pipeline '%s' in %s\n", o.pipeline.c_str(),
                 data_dir.c_str());
    return 1;
  }
  uint64_t total = 0;
  std::map<std::string, uint64_t> by_reason;
  simdjson::dom::parser parser;
  Status s = buffer::ScanLog(PosixFilesystem(), dir, [&](const buffer::Entry& e) {
    ++total;
    if (!o.summary) {
      std::fwrite(e.payload.data(), 1, e.payload.size(), stdout);
      std::fputc('\n', stdout);
      return;
    }
    std::string_view reason = "(unreadable)";
    simdjson::dom::element doc;
    if (!parser.parse(e.payload).get(doc)) {
      std::string_view r;
      if (!doc["reason"].get_string().get(r)) reason = r;
    }
    ++by_reason[std::string(reason)];
  });
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (total == 0) {
    std::fprintf(stderr, "no dead letters for pipeline '%s'\n", o.pipeline.c_str());
    return 0;
  }
  if (o.summary) {
    std::printf("%-40s %12s\n", "REASON", "COUNT");
    for (const auto& [reason, n] : by_reason)
      std::printf("%-40s %12llu\n", reason.c_str(), static_cast<unsigned long long>(n));
    std::printf("%-40s %12llu\n", "total", static_cast<unsigned long long>(total));
  }
  return 0;
}

}  // namespace sluice::server
