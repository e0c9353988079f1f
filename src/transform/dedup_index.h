// The dedup stage's seen-keys index: 128-bit key hashes with an expiry, in an LMDB
// environment on disk (memory-mapped: the OS pages it in and out, so memory stays bounded
// whatever the window holds). A key is recorded only after its row is committed to
// ClickHouse (Commit, by the inserter threads); lookups (Reader, the worker) see only
// committed keys. Expired keys read as absent and are deleted by Sweep.
// Thread-safe: any number of Readers (one per thread at a time) and committers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "core/status.h"

typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;

namespace sluice::transform {

struct Key128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Key128& o) const { return lo == o.lo && hi == o.hi; }
};

struct Key128Hash {
  size_t operator()(const Key128& k) const {
    return static_cast<size_t>(k.lo ^ (k.hi * 0x9E3779B97F4A7C15ULL));
  }
};

// The hash of a key's text.
Key128 HashKey(std::string_view text);

// A key and the log position of the row carrying it (entry seq, record index).
struct KeyAt {
  Key128 key;
  uint64_t seq = 0;
  uint32_t rec = 0;
};

class DedupIndex {
 public:
  // Opens (creating) the index in `dir`. `map_bytes` bounds its size on disk. The same
  // directory opened twice in one process gives the same index (LMDB forbids two).
  static StatusOr<std::shared_ptr<DedupIndex>> Open(const std::string& dir, uint64_t map_bytes);
  ~DedupIndex();

  // A read snapshot: lookups see the keys committed before it was taken.
  class Reader {
   public:
    explicit Reader(DedupIndex* index);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    // Seen and not expired at `now_ms`: *by is where the row that recorded it was. An
    // unreadable index reads as "not seen" (a duplicate may pass; nothing is dropped).
    bool Seen(const Key128& k, int64_t now_ms, KeyAt* by) const;

   private:
    MDB_txn* txn_ = nullptr;
    unsigned dbi_ = 0;
  };

  // Records the keys as seen until `expires_ms`, with their rows' positions. Once it
  // returns OK they survive the process being killed; they reach the disk within a second
  // (a power cut may lose that second: duplicates may then pass, rows are never lost).
  // ResourceExhausted when the index is full even after removing expired keys.
  Status Commit(std::span<const KeyAt> keys, int64_t expires_ms);

  // Deletes up to `max` expired keys, resuming where the last call stopped. Returns the
  // number deleted.
  size_t Sweep(int64_t now_ms, size_t max);

  uint64_t entries() const;
  uint64_t map_bytes() const { return map_bytes_; }
  const std::string& dir() const { return dir_; }

 private:
  DedupIndex() = default;
  MDB_env* env_ = nullptr;
  unsigned dbi_ = 0;
  std::string dir_;
  uint64_t map_bytes_ = 0;
  void SyncIfDue();
  Key128 sweep_from_{};
  std::atomic<int64_t> last_sync_ms_{0};
  std::mutex* sweep_mu_ = nullptr;
};

}  // namespace sluice::transform
