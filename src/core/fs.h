// The filesystem as an interface, so that durability code can be tested with injected
// faults (short writes, failed fsync, ENOSPC, torn tails after a simulated crash).
// Implementations are thread-safe for distinct files; a file object is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the write position (the end, unless opened with OpenAt) and
  // moves it on, or fails; after a failure the file may hold a prefix of it.
  virtual Status Append(std::string_view data) = 0;
  // Makes everything written so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Append of the parts one after the other, in as few system calls as possible (the
  // parts are not copied together first).
  virtual Status AppendParts(std::span<const std::string_view> parts) = 0;
  // Writes `data` at `offset` (over what is there), leaving the write position alone.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Cuts the file to `size` bytes and moves the write position there.
  virtual Status Truncate(uint64_t size) = 0;
  // The write position: the bytes written, not counting older bytes of a reused file.
  virtual uint64_t Size() const = 0;
};

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset; returns the number read (0 at the end).
  virtual StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* out) const = 0;
  virtual StatusOr<uint64_t> Size() const = 0;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;
  // Opens for appending at the end, creating the file if missing.
  virtual StatusOr<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path) = 0;
  // Opens for writing from `offset` on, creating the file if missing; bytes after what is
  // written keep their old contents (a file reused so that writes land on allocated blocks).
  virtual StatusOr<std::unique_ptr<WritableFile>> OpenAt(const std::string& path,
                                                         uint64_t offset) = 0;
  virtual StatusOr<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;
  // File names (not paths) in a directory.
  virtual StatusOr<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Allocates `bytes` of disk for the file (creating it), so that writes within them never
  // need a free block; keep_size leaves the file's size alone (the blocks lie past its end).
  // Overloaded when the disk is full.
  virtual Status Allocate(const std::string& path, uint64_t bytes, bool keep_size) = 0;
  struct Space {
    uint64_t total = 0;      // the filesystem's size
    uint64_t available = 0;  // what an unprivileged writer may still use
  };
  virtual StatusOr<Space> SpaceOf(const std::string& dir) = 0;

  // Reads a whole (small) file.
  StatusOr<std::string> ReadFile(const std::string& path);
  // Replaces `path` with `contents` atomically and durably: write a temporary file,
  // sync it, rename it over `path`, sync the directory.
  Status WriteFileAtomic(const std::string& path, std::string_view contents);
};

// The real filesystem (POSIX). Process-wide singleton.
Filesystem* PosixFilesystem();

}  // namespace sluice
