// The on-disk format of the local log (docs/specs/buffer.md): segment and entry framing,
// the checkpoint file, and a read-only scanner. Shared by LocalLog (which writes and
// recovers logs) and by tools that only read them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.h"
#include "core/signal.h"
#include "core/status.h"

namespace sluice::buffer {

inline constexpr size_t kEntryHeader = 32;
inline constexpr size_t kSegmentHeader = 16;
inline constexpr uint32_t kMaxPayload = 64u << 20;

struct Entry {
  uint64_t seq = 0;
  int64_t append_ms = 0;
  uint32_t records = 0;
  Signal signal = Signal::kLogs;
  std::string payload;
};

struct EntryHeader {
  uint32_t len = 0;
  uint32_t crc = 0;
  uint64_t seq = 0;
  int64_t ms = 0;
  uint32_t records = 0;
  uint8_t signal = 0;
};

// The 16 bytes that open every segment.
std::string SegmentHeaderBytes();
bool IsSegmentHeader(const char* head);

// A segment's file name for its first sequence number, and back.
std::string SegmentFileName(uint64_t first_seq);
// The first sequence numbers of the segments in `dir`, ascending.
StatusOr<std::vector<uint64_t>> ListSegments(Filesystem* fs, const std::string& dir);

// Appends one framed entry's header (with the CRC of header and payload) to out; the
// payload follows it on disk.
void AppendEntryHeader(uint64_t seq, int64_t ms, uint32_t records, Signal signal,
                       std::string_view payload, std::string* out);

// Reads the entry at `offset` of a file of `size` bytes; false when it is not a complete
// entry with a valid CRC.
bool ReadEntry(const ReadableFile& f, uint64_t offset, uint64_t size, EntryHeader* h,
               std::string* payload);
// When the entry at `offset` is invalid but its length field is intact and a valid entry
// with seq >= min_seq follows right after it, returns the offset of that entry (the bad
// one can be skipped); 0 otherwise.
uint64_t SkipCorrupt(const ReadableFile& f, uint64_t offset, uint64_t size, uint64_t min_seq);
Entry ToEntry(const EntryHeader& h, std::string payload);

// The checkpoint file: two slots, at offsets 0 and kCheckpointSlot (different disk
// sectors), each a value with its CRC. Updates write the slots in turn, in place, so a torn
// write spoils one slot and the other still holds the previous value.
inline constexpr size_t kCheckpointSlot = 512;
// One slot's 12 bytes, and the whole file with both slots holding next_seq.
std::string CheckpointBytes(uint64_t next_seq);
std::string CheckpointFileBytes(uint64_t next_seq);
// The checkpoint a file holds: the larger valid slot (or a lone 12-byte slot); nullopt
// when no slot is valid.
std::optional<uint64_t> ParseCheckpoint(std::string_view bytes);
// The slot (0 or 1) of a two-slot file holding its checkpoint; -1 when none is valid.
int NewestCheckpointSlot(std::string_view bytes);

// Reads, without changing anything, the entries of the log in `dir` from its checkpoint
// on (for tools that inspect a log a running server owns, such as `sluice dlq`).
Status ScanLog(Filesystem* fs, const std::string& dir, const std::function<void(const Entry&)>& fn);

}  // namespace sluice::buffer
