// An in-memory Filesystem for tests, with injectable faults and crash simulation: each
// file remembers its contents at the last sync, and Crash() keeps an arbitrary prefix of
// the writes made since (a torn tail; where they overwrote older bytes, those come back),
// as a power cut would. Thread-safe (one mutex).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "core/fs.h"

namespace sluice::testing {

class FaultFs : public Filesystem {
 public:
  struct Faults {
    int64_t space_left = -1;  // bytes that may still be appended (-1: unlimited) -> ENOSPC
    // The disk's size (-1: unlimited): the files' bytes (allocated or written) may not pass
    // it, so writing over existing bytes needs no space and removing a file frees its own.
    int64_t disk_bytes = -1;
    int fail_syncs = 0;     // the next N syncs fail
    int short_writes = 0;   // the next N appends write half, then fail
    int sync_delay_us = 0;  // how long a sync takes (a real disk is not instant)
  };

  explicit FaultFs(uint64_t seed = 1) : rng_(seed) {}

  Faults& faults() { return faults_; }
  // Simulates a power cut: every file keeps its synced contents plus a random prefix of
  // the writes since. Open file objects stay usable but refer to the new contents.
  void Crash();
  // Corrupts one byte of a file (for recovery tests).
  void FlipByte(const std::string& path, uint64_t offset);
  uint64_t FileSize(const std::string& path);
  int syncs() const { return syncs_; }

  StatusOr<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path) override;
  StatusOr<std::unique_ptr<WritableFile>> OpenAt(const std::string& path, uint64_t offset) override;
  StatusOr<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override;
  StatusOr<std::vector<std::string>> List(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  bool Exists(const std::string& path) override;
  Status Allocate(const std::string& path, uint64_t bytes, bool keep_size) override;
  StatusOr<Space> SpaceOf(const std::string& dir) override;
  uint64_t used_bytes();

  struct Data {
    std::string bytes;
    std::string durable;     // the contents at the last sync
    uint64_t allocated = 0;  // disk reserved for it (by Allocate), past its size or not
    uint64_t footprint() const { return std::max<uint64_t>(bytes.size(), allocated); }
  };

 private:
  // Creates the file when missing; writes start at `offset` (the end when none).
  std::unique_ptr<WritableFile> OpenWritable(const std::string& path,
                                             std::optional<uint64_t> offset);
  uint64_t Used() const;  // mu_ held
  friend class FaultWritable;
  friend class FaultReadable;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Data>> files_;
  Faults faults_;
  std::mt19937_64 rng_;
  int syncs_ = 0;
};

}  // namespace sluice::testing
