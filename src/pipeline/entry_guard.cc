#include "pipeline/entry_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "core/cat.h"

namespace sluice::pipeline {

// The file's layout (little-endian, 4096 bytes, the rest zero).
struct EntryGuard::State {
  char magic[8];      // "SLUICEWG"
  uint64_t current;   // entry being processed, 0: none
  uint64_t suspect;   // entry in progress when earlier runs ended
  uint32_t attempts;  // how many runs ended while processing `suspect`
  uint32_t reserved;
};

namespace {
constexpr size_t kFileBytes = 4096;
constexpr char kMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'W', 'G'};

uint64_t Load(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
void Store(uint64_t* p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
}  // namespace

StatusOr<std::unique_ptr<EntryGuard>> EntryGuard::Open(const std::string& path,
                                                       uint32_t max_attempts) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(Cat("open ", path, ": ", std::strerror(errno)));
  // Allocate the block now: a store to a page the filesystem cannot back is a SIGBUS.
  if (int err = ::posix_fallocate(fd, 0, kFileBytes); err != 0) {
    ::close(fd);
    return absl::UnavailableError(Cat("allocate ", path, ": ", std::strerror(err)));
  }
  void* map = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(Cat("mmap ", path, ": ", std::strerror(err)));
  }
  std::unique_ptr<EntryGuard> g(new EntryGuard(fd, map, max_attempts));
  State* s = g->state_;
  if (std::memcmp(s->magic, kMagic, 8) != 0) {  // new (or foreign): start clean
    std::memset(s, 0, sizeof(State));
    std::memcpy(s->magic, kMagic, 8);
  }
  if (const uint64_t was = Load(&s->current); was != 0) {
    // The previous run ended while processing `was`: a crash, kill -9, or an exit at the
    // shutdown deadline.
    if (was == s->suspect) {
      ++s->attempts;
    } else {
      s->suspect = was;
      s->attempts = 1;
    }
    Store(&s->current, 0);
  }
  return g;
}

EntryGuard::EntryGuard(int fd, void* map, uint32_t max_attempts)
    : state_(static_cast<State*>(map)), fd_(fd), max_attempts_(max_attempts) {}

EntryGuard::~EntryGuard() {
  ::munmap(state_, kFileBytes);
  ::close(fd_);
}

uint64_t EntryGuard::quarantined() const {
  return state_->suspect != 0 && state_->attempts >= max_attempts_ ? state_->suspect : 0;
}
uint32_t EntryGuard::attempts() const { return state_->attempts; }
uint64_t EntryGuard::suspect() const { return state_->suspect; }

void EntryGuard::Begin(uint64_t seq) {
  if (state_->suspect != 0 && seq > state_->suspect) {  // got past it: it was not to blame
    state_->suspect = 0;
    state_->attempts = 0;
  }
  Store(&state_->current, seq);
}

void EntryGuard::End() {
  const uint64_t was = Load(&state_->current);
  Store(&state_->current, 0);
  if (was != 0 && was == state_->suspect) {  // processed (or quarantined) after all
    state_->suspect = 0;
    state_->attempts = 0;
  }
}

void EntryGuard::Pause() { Store(&state_->current, 0); }

uint64_t EntryGuard::current() const { return Load(&state_->current); }

}  // namespace sluice::pipeline
