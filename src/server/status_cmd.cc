// `sluice status` (the pipelines and their figures, from the admin listener) and
// `sluice reload` (SIGHUP to the server named by the data directory's pid file).
#include <signal.h>
#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/cat.h"
#include "server/admin_client.h"
#include "server/commands.h"
#include "server/config.h"

namespace sluice::server {
namespace {

std::string Human(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

int RunStatus(const StatusOptions& o) {
  auto target_or = ResolveAdminTarget(o.config, o.admin);
  if (!target_or.ok()) return Fail(target_or.status());
  const AdminTarget& target = *target_or;
  auto r = AdminGet(target, "/api/v1/pipeline");
  if (!r.ok()) return Fail(r.status());
  if (r->status != 200) {
    std::fprintf(stderr, "error: the admin listener answered %d: %s\n", r->status, r->body.c_str());
    return 1;
  }
  if (o.json) {
    std::printf("%s\n", r->body.c_str());
    return 0;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array list;
  if (parser.parse(r->body).get_array().get(list)) {
    std::fprintf(stderr, "error: unexpected answer from the admin listener\n");
    return 1;
  }
  if (list.size() == 0) {
    std::printf("no pipelines\n");
    return 0;
  }
  std::printf("%-30s %-8s %12s %12s %8s %10s %8s  %s\n", "PIPELINE", "STATE", "RECORDS IN",
              "ROWS OUT", "DLQ", "BUFFERED", "OLDEST", "REASON");
  for (simdjson::dom::element p : list) {
    std::string_view id, state;
    if (p["pipeline_id"].get_string().get(id)) id = "?";
    if (p["status"].get_string().get(state)) state = "?";
    // No stats: the pipeline has no running instance (a stored document that no longer
    // loads); its row says why.
    simdjson::dom::element st;
    if (p["stats"].get(st)) {
      std::string_view why;
      if (p["load_error"].get_string().get(why)) why = "not running";
      std::printf("%-30.*s %-8.*s %12s %12s %8s %10s %8s  %.*s\n", static_cast<int>(id.size()),
                  id.data(), static_cast<int>(state.size()), state.data(), "-", "-", "-", "-", "-",
                  static_cast<int>(why.size()), why.data());
      continue;
    }
    uint64_t in = 0, out = 0, bytes = 0, dead = 0;
    double age = 0;
    if (st["records_in"].get_uint64().get(in)) in = 0;
    if (st["rows_written"].get_uint64().get(out)) out = 0;
    if (st["buffer"]["bytes"].get_uint64().get(bytes)) bytes = 0;
    if (st["buffer"]["oldest_age_seconds"].get_double().get(age)) age = 0;
    simdjson::dom::object dl;
    if (!st["dead_letters"].get_object().get(dl))
      for (auto [k, v] : dl) dead += v.get_uint64().value_unsafe();
    std::string_view reason;
    if (st["reason"].get_string().get(reason)) reason = "";
    std::printf("%-30.*s %-8.*s %12llu %12llu %8llu %10s %7.0fs  %.*s\n",
                static_cast<int>(id.size()), id.data(), static_cast<int>(state.size()),
                state.data(), static_cast<unsigned long long>(in),
                static_cast<unsigned long long>(out), static_cast<unsigned long long>(dead),
                Human(bytes).c_str(), age, static_cast<int>(reason.size()), reason.data());
  }
  return 0;
}

int RunReload(const ReloadOptions& o) {
  auto dir_or = FlagOrConfig(o.data_dir, o.config, &ServerConfig::data_dir);
  if (!dir_or.ok()) return Fail(dir_or.status());
  const std::string& data_dir = *dir_or;
  const std::string path = PidFilePath(data_dir);
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    std::fprintf(stderr,
                 "error: no server found: %s is missing (is `sluice serve` running "
                 "with data_dir %s?)\n",
                 path.c_str(), data_dir.c_str());
    return 1;
  }
  // A stale file (the server was killed) may name another process by now.
  std::ifstream comm(Cat("/proc/", pid, "/comm"));
  std::string name;
  std::getline(comm, name);
  if (!name.starts_with("sluice")) {
    std::fprintf(stderr, "error: no server found: process %ld named in %s is not running sluice\n",
                 pid, path.c_str());
    return 1;
  }
  if (kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    std::fprintf(stderr, "error: cannot signal process %ld: %s\n", pid, std::strerror(errno));
    return 1;
  }
  std::printf(
      "reloading sluice (pid %ld): pipeline files are read again and failed pipelines "
      "try again now\n",
      pid);
  return 0;
}

}  // namespace sluice::server
