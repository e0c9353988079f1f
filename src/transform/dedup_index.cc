#include "transform/dedup_index.h"

#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "clickhouse/cityhash102.h"
#include "core/cat.h"
#include "core/log.h"

namespace sluice::transform {

namespace {

// NOTLS: read transactions are used across calls; NORDAHEAD: keys are random; WRITEMAP:
// pages are written in the map (no copy through malloc'd buffers and write()), synced at
// each commit all the same.
// NOSYNC: a commit is in the shared map (it survives the process being killed) and is
// flushed to disk at most a second later (SyncIfDue), not at every commit: losing the last
// second of keys to a power cut can only let a duplicate through, never lose a row, and
// each page rewritten many times a second is written out once.
constexpr unsigned kEnvFlags = MDB_NOTLS | MDB_NORDAHEAD | MDB_WRITEMAP | MDB_NOSYNC;

std::string LmdbError(std::string_view what, int rc) { return Cat(what, ": ", mdb_strerror(rc)); }

// Keys are the 16 hash bytes (big-endian); values the expiry (ms) and the row's position (seq,
// record), 20 bytes in host order. Big-endian, so that LMDB's byte order is the keys' numeric order
// (a sorted batch walks the tree once).
MDB_val KeyVal(const Key128& k, unsigned char buf[16]) {
  for (int i = 0; i < 8; ++i) {
    buf[i] = static_cast<unsigned char>(k.hi >> (56 - 8 * i));
    buf[8 + i] = static_cast<unsigned char>(k.lo >> (56 - 8 * i));
  }
  return MDB_val{16, buf};
}

Key128 KeyOf(const void* data) {
  const unsigned char* b = static_cast<const unsigned char*>(data);
  Key128 k;
  for (int i = 0; i < 8; ++i) {
    k.hi = (k.hi << 8) | b[i];
    k.lo = (k.lo << 8) | b[8 + i];
  }
  return k;
}

std::mutex& OpenMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::weak_ptr<DedupIndex>>& Opened() {
  static std::map<std::string, std::weak_ptr<DedupIndex>> m;
  return m;
}

}  // namespace

Key128 HashKey(std::string_view text) {
  const auto h = clickhouse::CityHash128V102(text.data(), text.size());
  return Key128{h.low, h.high};
}

StatusOr<std::shared_ptr<DedupIndex>> DedupIndex::Open(const std::string& dir, uint64_t map_bytes) {
  std::lock_guard<std::mutex> lock(OpenMu());
  if (auto existing = Opened()[dir].lock()) return existing;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(Cat("cannot create ", dir, ": ", ec.message()));
  std::shared_ptr<DedupIndex> idx(new DedupIndex());
  idx->dir_ = dir;
  idx->map_bytes_ = map_bytes;
  idx->sweep_mu_ = new std::mutex();
  int rc = mdb_env_create(&idx->env_);
  if (rc == 0) rc = mdb_env_set_mapsize(idx->env_, map_bytes);
  if (rc == 0) rc = mdb_env_set_maxreaders(idx->env_, 126);
  // NOTLS: read transactions are reused across calls; NORDAHEAD: random keys.
  if (rc == 0) rc = mdb_env_open(idx->env_, dir.c_str(), kEnvFlags, 0644);
  if (rc != 0) {
    // A damaged index is rebuilt empty: duplicates may pass once, nothing is lost.
    if (idx->env_) mdb_env_close(idx->env_);
    idx->env_ = nullptr;
    if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH) {
      SLOG(WARN) << "dedup index " << dir << " is unreadable (" << mdb_strerror(rc)
                 << "); starting it again empty";
      std::filesystem::remove_all(dir, ec);
      std::filesystem::create_directories(dir, ec);
      rc = mdb_env_create(&idx->env_);
      if (rc == 0) rc = mdb_env_set_mapsize(idx->env_, map_bytes);
      if (rc == 0) rc = mdb_env_open(idx->env_, dir.c_str(), kEnvFlags, 0644);
    }
    if (rc != 0)
      return absl::UnavailableError(LmdbError(Cat("cannot open the dedup index ", dir), rc));
  }
  MDB_txn* txn;
  rc = mdb_txn_begin(idx->env_, nullptr, 0, &txn);
  if (rc == 0) {
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    if (rc == 0)
      rc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
    idx->dbi_ = dbi;
  }
  if (rc != 0) return absl::UnavailableError(LmdbError("cannot open the dedup index's table", rc));
  Opened()[dir] = idx;
  return idx;
}

DedupIndex::~DedupIndex() {
  if (env_) mdb_env_sync(env_, 1);
  if (env_) mdb_env_close(env_);
  delete sweep_mu_;
}

DedupIndex::Reader::Reader(DedupIndex* index) : dbi_(index->dbi_) {
  if (mdb_txn_begin(index->env_, nullptr, MDB_RDONLY, &txn_) != 0) txn_ = nullptr;
}

DedupIndex::Reader::~Reader() {
  if (txn_) mdb_txn_abort(txn_);
}

bool DedupIndex::Reader::Seen(const Key128& k, int64_t now_ms, KeyAt* by) const {
  if (!txn_) return false;
  unsigned char buf[16];
  MDB_val key = KeyVal(k, buf), val;
  if (mdb_get(txn_, dbi_, &key, &val) != 0 || val.mv_size != 20) return false;
  int64_t expires;
  const char* v = static_cast<const char*>(val.mv_data);
  std::memcpy(&expires, v, 8);
  by->key = k;
  std::memcpy(&by->seq, v + 8, 8);
  std::memcpy(&by->rec, v + 16, 4);
  return expires > now_ms;
}

Status DedupIndex::Commit(std::span<const KeyAt> keys, int64_t expires_ms) {
  if (keys.empty()) return absl::OkStatus();
  // In key order: one pass down the tree, each page copied once per transaction.
  thread_local std::vector<KeyAt> sorted;
  sorted.assign(keys.begin(), keys.end());
  std::sort(sorted.begin(), sorted.end(), [](const KeyAt& a, const KeyAt& b) {
    return a.key.hi != b.key.hi ? a.key.hi < b.key.hi : a.key.lo < b.key.lo;
  });
  keys = sorted;
  for (int attempt = 0; attempt < 2; ++attempt) {
    MDB_txn* txn;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return absl::UnavailableError(LmdbError("dedup index", rc));
    for (const KeyAt& k : keys) {
      unsigned char buf[16];
      char value[20];
      std::memcpy(value, &expires_ms, 8);
      std::memcpy(value + 8, &k.seq, 8);
      std::memcpy(value + 16, &k.rec, 4);
      MDB_val key = KeyVal(k.key, buf);
      MDB_val val{sizeof value, value};
      rc = mdb_put(txn, dbi_, &key, &val, 0);
      if (rc != 0) break;
    }
    if (rc == 0)
      rc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
    if (rc == 0) return absl::OkStatus();
    if (rc != MDB_MAP_FULL) return absl::UnavailableError(LmdbError("dedup index", rc));
    // Full: make room from the expired keys, then try once more.
    Sweep(std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count(),
          SIZE_MAX);
  }
  return absl::ResourceExhaustedError(
      Cat("the dedup index ", dir_, " is full (", map_bytes_,
          " bytes, resources.transform[].storage.size): keys of this batch were not recorded"));
}

void DedupIndex::SyncIfDue() {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_sync_ms_.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_sync_ms_.compare_exchange_strong(last, now)) return;
  mdb_env_sync(env_, 1);
}

size_t DedupIndex::Sweep(int64_t now_ms, size_t max) {
  std::lock_guard<std::mutex> lock(*sweep_mu_);
  MDB_txn* txn;
  if (mdb_txn_begin(env_, nullptr, 0, &txn) != 0) return 0;
  MDB_cursor* cur;
  if (mdb_cursor_open(txn, dbi_, &cur) != 0) {
    mdb_txn_abort(txn);
    return 0;
  }
  unsigned char buf[16];
  MDB_val key = KeyVal(sweep_from_, buf), val;
  int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
  size_t deleted = 0, seen = 0;
  const size_t budget = max == SIZE_MAX ? SIZE_MAX : max * 4;  // entries looked at
  while (rc == 0 && deleted < max && seen < budget) {
    ++seen;
    int64_t expires = 0;
    if (val.mv_size == 20) std::memcpy(&expires, val.mv_data, 8);
    if (expires <= now_ms || val.mv_size != 20) {
      if (mdb_cursor_del(cur, 0) == 0) ++deleted;
      rc = mdb_cursor_get(cur, &key, &val, MDB_GET_CURRENT);
      if (rc != 0) rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
      continue;
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
  }
  if (rc == 0 && key.mv_size == 16) {
    sweep_from_ = KeyOf(key.mv_data);
  } else {
    sweep_from_ = Key128{};  // reached the end: start over next time
  }
  mdb_cursor_close(cur);
  if (mdb_txn_commit(txn) != 0) return 0;
  return deleted;
}

uint64_t DedupIndex::entries() const {
  MDB_stat st;
  MDB_txn* txn;
  if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn) != 0) return 0;
  const int rc = mdb_stat(txn, dbi_, &st);
  mdb_txn_abort(txn);
  return rc == 0 ? st.ms_entries : 0;
}

}  // namespace sluice::transform
