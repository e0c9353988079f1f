// The local log: a pipeline's durable buffer of accepted requests (format and invariants
// in docs/specs/buffer.md). Appends are group-committed: concurrent appenders queue, one of
// them writes the whole group and syncs once, and each returns when its entry is durable
// under the fsync policy. One consumer reads entries in order and acknowledges them after
// the sink confirmed; the checkpoint and whole-segment deletion follow acknowledgements.
// Thread-safety: Append from any thread; Read/Ack from one consumer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "buffer/log_format.h"
#include "core/fs.h"
#include "core/histogram.h"
#include "core/log_throttle.h"
#include "core/signal.h"
#include "core/status.h"

namespace sluice::buffer {

enum class FsyncPolicy { kAlways, kInterval, kNone };

struct LogOptions {
  std::string dir;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  std::chrono::milliseconds sync_interval{100};  // for kInterval
  // At most; a small filesystem gets segments of a sixteenth of its size (at least 1 MiB;
  // a 256th, at least 64 KiB, for a reserved log), so that a drained backlog frees space
  // segment by segment.
  uint64_t segment_bytes = 64u << 20;
  // A bookkeeping log (the dead-letter queue, the cut journal): its active segment and its
  // spares are allocated in advance, so that on a full disk appends and rotations still
  // find their blocks (until the reserve is used up).
  bool reserve = false;
  // Limits (0: none). Beyond them Append returns Overloaded. max_bytes bounds the bytes of
  // unacknowledged entries (a full disk is caught separately, as ENOSPC).
  uint64_t max_bytes = 0;
  uint64_t max_records = 0;
  std::chrono::milliseconds max_age{0};
  std::function<int64_t()> now_ms;  // clock (Unix ms); system clock when empty
};

struct LogStats {
  uint64_t corrupt_entries = 0;  // skipped at recovery
  uint64_t lost_bytes = 0;       // unreadable bytes skipped at recovery
  uint64_t truncated_bytes = 0;  // torn tail removed at recovery
  bool checkpoint_corrupt = false;
  uint64_t segments = 0;
  uint64_t bytes = 0;  // segment bytes on disk
  uint64_t unacked_records = 0;
  uint64_t unacked_bytes = 0;
  uint64_t unacked_entries = 0;
  int64_t oldest_unacked_ms = 0;  // append time of the oldest unacknowledged entry; 0: none
  int64_t newest_ms = 0;          // append time of the last entry stored; 0: none
  uint64_t next_seq = 1;          // the sequence number the next append gets
  uint64_t checkpoint = 1;        // every entry below it is acknowledged
};

class LocalLog {
 public:
  // Opens (and recovers) or creates the log in options.dir.
  static StatusOr<std::unique_ptr<LocalLog>> Open(Filesystem* fs, LogOptions options);
  ~LocalLog();

  // Appends one entry and returns its sequence number once it is durable under the
  // policy. Overloaded when a limit is reached or the disk is full; Unavailable when the
  // write or sync failed (the entry is not stored).
  StatusOr<uint64_t> Append(Signal signal, uint32_t records, std::string_view payload);

  // The same without waiting: `done` gets the sequence number once the entry is durable,
  // or the error, on a commit thread (inline when the append is refused at once: limits,
  // a failed log). `precheck`, when given, runs just before the entry would be written; an
  // error from it completes the append with that error and nothing is written (the client
  // gave up while it waited). Receivers use this so that no receiver thread blocks on the
  // disk.
  using Done = std::function<void(StatusOr<uint64_t>)>;
  void AppendAsync(Signal signal, uint32_t records, std::string payload,
                   std::function<Status()> precheck, Done done);

  // Returns up to max_entries entries (and about max_bytes) after the last one read,
  // starting at the checkpoint after Open. Only durable entries are returned.
  StatusOr<std::vector<Entry>> Read(size_t max_entries, size_t max_bytes);
  // Moves the read position back to the checkpoint: entries read but not acknowledged
  // are delivered again (a new consumer taking over).
  void Rewind();
  // Acknowledges every entry below `next_seq`: moves the checkpoint (durably) and deletes
  // segments that hold only acknowledged entries.
  Status Ack(uint64_t next_seq);

  // Waits until every queued append has completed (their completions have run).
  void WaitIdle();

  uint64_t checkpoint() const;
  uint64_t next_seq() const;  // the sequence number the next append gets
  LogStats stats() const;
  // Durations of the active segment's data syncs (a commit group's fdatasync, a periodic
  // sync, a rotation's): what acknowledgements wait for on the disk. Thread-safe.
  const Histogram& sync_durations() const { return sync_durations_; }

 private:
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t end_seq = 0;  // one past the last entry
    uint64_t bytes = 0;
    std::string path;
  };
  struct Writer {
    Signal signal;
    uint32_t records;
    std::string_view payload;
    bool done = false;
    Status status;
    uint64_t seq = 0;
    // AppendAsync: the payload's owner, the check before writing, the completion.
    std::string owned;
    std::function<Status()> precheck;
    Done on_done;
  };

  LocalLog(Filesystem* fs, LogOptions options);
  Status Recover();
  Status RecoverSegment(Segment* seg, bool last);
  Status OpenActive();
  Status StartSegment(uint64_t first_seq);
  Status WriteGroup(std::vector<Writer*>& group);  // leader only, without mu_
  // Writes the queued writers, group after group, until none is left (or, after a few
  // groups, posts itself again to the commit pool), then gives up the leadership. The
  // caller set leader_active_; `lock` holds mu_ (released while writing).
  void Lead(std::unique_lock<std::mutex>& lock);
  void PostLead();
  // Gives up a leadership held for something else (a periodic sync, a segment roll): a
  // commit is posted for appends queued meanwhile. mu_ held.
  void ReleaseLeadership();
  static constexpr int kGroupsPerTurn = 4;
  Status LimitCheck(uint32_t records, size_t bytes) const;  // mu_ held
  int64_t Now() const;
  std::string SegmentPath(uint64_t first_seq) const;
  void SyncLoop();
  Status SyncActive();  // active_->Sync(), timed into sync_durations_; leader only
  // An ERROR line "log <dir>: <what><status>", through error_log_.
  void LogError(std::string_view what, const Status& s);
  Status WriteCheckpoint(uint64_t next_seq);  // consumer thread
  // Creates the checkpoint file (both slots) or opens the existing one for updates in place,
  // so that moving the checkpoint never needs a free block. Open only.
  void PrepareCheckpointFile(const std::string& existing);
  // Writes the whole checkpoint file holding `next_seq` and opens it for updates in place.
  Status CreateCheckpointFile(uint64_t next_seq);
  std::string NewSpareName();  // mu_ held
  // Allocates the reserve of a bookkeeping log: spares up to kSpares, and the active
  // segment's blocks. Best effort (a full disk leaves less reserve).
  void FillReserve();
  // Everything is acknowledged and the disk is full: the active segment goes (deleted) and
  // a fresh one starts, so the space its entries took is freed. Consumer thread.
  void RollDrainedSegment();
  // Whether an acknowledged segment may be kept for reuse instead of deleted. mu_ not held.
  bool KeepSpares();

  Filesystem* const fs_;
  const LogOptions opts_;
  uint64_t segment_bytes_;  // opts_.segment_bytes, smaller on a small filesystem

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Writer*> writers_;   // guarded by mu_
  bool leader_active_ = false;    // guarded by mu_
  std::deque<Segment> segments_;  // guarded by mu_; back() is the active segment
  // Acknowledged segments kept for reuse (renamed kSparePrefix<n>), at most kSpares.
  static constexpr size_t kSpares = 2;
  static constexpr std::string_view kSparePrefix = "spare-";
  std::vector<std::string> spares_;  // guarded by mu_
  uint64_t spare_counter_ = 0;       // guarded by mu_
  uint64_t next_seq_ = 1;            // guarded by mu_
  uint64_t durable_seq_ = 0;         // guarded by mu_; last entry readable by the consumer
  uint64_t checkpoint_ = 1;          // guarded by mu_
  uint64_t unacked_records_ = 0;     // guarded by mu_
  uint64_t unacked_bytes_ = 0;       // guarded by mu_; entry bytes not acknowledged
  int64_t oldest_unacked_ms_ = 0;    // guarded by mu_; 0 when nothing is unacked
  int64_t newest_ms_ = 0;            // guarded by mu_; the last entry's append time
  LogStats recovery_;                // written by Open only
  std::unique_ptr<WritableFile> checkpoint_file_;  // consumer thread; null until first written
  size_t checkpoint_slot_ = 0;                     // consumer thread; the slot written last
  bool failed_ = false;  // guarded by mu_; a failed rollback: no more appends
  // An append found the disk full (spares were deleted then); cleared once a drained
  // segment is rolled. Guarded by mu_.
  bool disk_full_ = false;

  std::unique_ptr<WritableFile> active_;  // used by the leader only
  Histogram sync_durations_{kSyncBounds};
  // Failed commits and syncs: a full or failing disk fails every group, and every client is
  // answered anyway, so the log says so a few times per window, not once per request.
  LogThrottle error_log_;

  // Consumer state (consumer thread only).
  uint64_t read_seq_ = 1;
  uint64_t read_offset_ = kSegmentHeader;
  std::unique_ptr<ReadableFile> read_file_;
  std::string read_path_;
  struct Inflight {
    uint64_t seq;
    uint32_t records;
    int64_t append_ms;
    uint64_t bytes;
  };
  std::deque<Inflight> inflight_;  // read, not yet acknowledged (guarded by mu_)

  // kInterval
  std::thread syncer_;
  bool stop_ = false;   // guarded by mu_
  bool dirty_ = false;  // guarded by mu_
};

}  // namespace sluice::buffer
