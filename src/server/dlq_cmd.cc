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
  auto dir_or = FlagOrConfig(o.data_dir, o.config, &ServerConfig::data_dir);
  if (!dir_or.ok()) return Fail(dir_or.status());
  const std::string& data_dir = *dir_or;
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
  if (!s.ok()) return Fail(s);
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
