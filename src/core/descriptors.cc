#include "core/descriptors.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>

#include "core/cat.h"

namespace sluice {

uint64_t OpenDescriptors() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  uint64_t n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // not counting the directory's own
}

uint64_t DescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return lim.rlim_cur;
}

Status CheckDescriptorBudget(uint64_t needed) {
  const uint64_t limit = DescriptorLimit();
  if (limit == UINT64_MAX) return absl::OkStatus();
  const uint64_t reserve = std::clamp<uint64_t>(limit / 8, 32, 1024);
  const uint64_t open = OpenDescriptors();
  if (open + needed + reserve <= limit) return absl::OkStatus();
  return absl::UnavailableError(Cat("out of file descriptors: ", open, " of ", limit, " open, and ",
                                    reserve, " are kept for connections"));
}

}  // namespace sluice
