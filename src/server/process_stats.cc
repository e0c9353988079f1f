#include "server/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace sluice::server {
namespace {

std::string ReadSmallFile(const char* path) {
  std::string out;
  if (FILE* f = std::fopen(path, "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// Seconds since boot at which this process started (field 22 of /proc/self/stat, in ticks).
double StartSinceBoot(const std::string& stat, uint64_t* threads) {
  // The command name (field 2) is in parentheses and may hold spaces: fields after it are
  // counted from its closing parenthesis.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  const char* p = stat.c_str() + close + 2;
  unsigned long long v = 0;
  for (int field = 3; field <= 22 && *p; ++field) {
    if (field == 20 || field == 22) {
      v = std::strtoull(p, nullptr, 10);
      if (field == 20) *threads = v;
    }
    p = std::strchr(p, ' ');
    if (!p) break;
    ++p;
  }
  return static_cast<double>(v) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  if (rusage ru{}; getrusage(RUSAGE_SELF, &ru) == 0)
    s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(ReadSmallFile("/proc/self/statm").c_str(), "%llu %llu", &size, &resident) == 2) {
    const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    s.virtual_bytes = size * page;
    s.resident_bytes = resident * page;
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++s.open_fds;
    closedir(d);
    if (s.open_fds > 0) --s.open_fds;  // the directory's own descriptor
  }
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = lim.rlim_cur;
  const double since_boot = StartSinceBoot(ReadSmallFile("/proc/self/stat"), &s.threads);
  timespec now_real{}, now_boot{};
  clock_gettime(CLOCK_REALTIME, &now_real);
  clock_gettime(CLOCK_BOOTTIME, &now_boot);
  const double boot_time = (static_cast<double>(now_real.tv_sec) + now_real.tv_nsec / 1e9) -
                           (static_cast<double>(now_boot.tv_sec) + now_boot.tv_nsec / 1e9);
  s.start_time_seconds = boot_time + since_boot;
  return s;
}

}  // namespace sluice::server
