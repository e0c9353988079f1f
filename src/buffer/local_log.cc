#include "buffer/local_log.h"

#include <algorithm>
#include <cstring>

#include "core/cat.h"
#include "core/executor.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/wall_clock.h"

namespace sluice::buffer {
LocalLog::LocalLog(Filesystem* fs, LogOptions options)
    : fs_(fs), opts_(std::move(options)), segment_bytes_(opts_.segment_bytes) {}

LocalLog::~LocalLog() {
  {
    // Asynchronous appends still queued are written first.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !leader_active_ && writers_.empty(); });
    stop_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (active_) {
    // An orderly close cuts a reused segment's old contents after the last entry, so the
    // next start finds the log ending where it ended and reports nothing; bytes after the
    // last entry at start-up then mean a torn write (a crash), which is worth a warning.
    (void)active_->Truncate(active_->Size());
    if (opts_.fsync != FsyncPolicy::kNone) (void)active_->Sync();
  }
}

int64_t LocalLog::Now() const {
  if (opts_.now_ms) return opts_.now_ms();
  return UnixMillis();
}

std::string LocalLog::SegmentPath(uint64_t first_seq) const {
  return opts_.dir + "/" + SegmentFileName(first_seq);
}

StatusOr<std::unique_ptr<LocalLog>> LocalLog::Open(Filesystem* fs, LogOptions options) {
  std::unique_ptr<LocalLog> log(new LocalLog(fs, std::move(options)));
  Status s = log->Recover();
  if (!s.ok()) return s;
  if (log->opts_.fsync == FsyncPolicy::kInterval)
    log->syncer_ = std::thread([l = log.get()] {
      NameThisThread("sluice-sync");
      l->SyncLoop();
    });
  return log;
}

Status LocalLog::RecoverSegment(Segment* seg, bool last) {
  auto f = fs_->OpenForRead(seg->path);
  if (!f.ok()) return f.status();
  auto size_or = (*f)->Size();
  if (!size_or.ok()) return size_or.status();
  const uint64_t size = *size_or;
  char head[kSegmentHeader];
  auto n = (*f)->ReadAt(0, kSegmentHeader, head);
  if (!n.ok()) return n.status();
  if (*n < kSegmentHeader || !IsSegmentHeader(head)) {
    if (last && size < kSegmentHeader) {  // torn at creation: rewrite the header
      recovery_.truncated_bytes += size;
      auto w = fs_->OpenForAppend(seg->path);
      if (!w.ok()) return w.status();
      Status t = (*w)->Truncate(0);
      if (t.ok()) t = (*w)->Append(SegmentHeaderBytes());
      if (t.ok()) t = (*w)->Sync();
      seg->end_seq = seg->first_seq;
      seg->bytes = kSegmentHeader;
      return t;
    }
    SLOG(ERROR) << "log " << opts_.dir << ": segment " << seg->path << " has a bad header; " << size
                << " bytes lost";
    recovery_.lost_bytes += size;
    seg->end_seq = seg->first_seq;
    seg->bytes = size;
    return absl::OkStatus();
  }
  uint64_t offset = kSegmentHeader, expected = seg->first_seq;
  EntryHeader h;
  std::string payload;
  while (offset < size) {
    if (ReadEntry(**f, offset, size, &h, &payload) && h.seq >= expected) {
      if (h.seq >= checkpoint_) {
        unacked_records_ += h.records;
        unacked_bytes_ += kEntryHeader + h.len;
        if (oldest_unacked_ms_ == 0) oldest_unacked_ms_ = h.ms;
      }
      newest_ms_ = std::max(newest_ms_, h.ms);
      expected = h.seq + 1;
      offset += kEntryHeader + h.len;
      continue;
    }
    // Invalid entry. Skip it if a valid entry follows right after it.
    if (uint64_t next = SkipCorrupt(**f, offset, size, expected + 1)) {
      recovery_.corrupt_entries++;
      recovery_.lost_bytes += next - offset;
      SLOG(ERROR) << "log " << opts_.dir << ": corrupt entry at " << seg->path << ":" << offset
                  << " skipped";
      offset = next;
      continue;
    }
    if (last) {
      recovery_.truncated_bytes += size - offset;
      SLOG(WARN) << "log " << opts_.dir << ": " << (size - offset) << " bytes after the last "
                 << "complete entry truncated in " << seg->path
                 << " (a torn write, or the old contents of a reused segment)";
      auto w = fs_->OpenForAppend(seg->path);
      if (!w.ok()) return w.status();
      Status t = (*w)->Truncate(offset);
      if (t.ok()) t = (*w)->Sync();
      if (!t.ok()) return t;
    } else {
      recovery_.lost_bytes += size - offset;
      SLOG(ERROR) << "log " << opts_.dir << ": " << (size - offset)
                  << " unreadable bytes at the end of " << seg->path;
    }
    break;
  }
  seg->end_seq = expected;
  seg->bytes = last ? std::min(offset, size) : size;
  return absl::OkStatus();
}

Status LocalLog::Recover() {
  Status s = fs_->CreateDirs(opts_.dir);
  if (!s.ok()) return s;
  // On a small filesystem, smaller segments: a draining backlog frees space segment by
  // segment, and a bookkeeping log's reserve (three segments) stays a small share.
  if (auto space = fs_->SpaceOf(opts_.dir); space.ok()) {
    const uint64_t share = opts_.reserve ? space->total / 256 : space->total / 16;
    const uint64_t floor = opts_.reserve ? (64u << 10) : (1u << 20);
    segment_bytes_ = std::min(segment_bytes_, std::max(floor, share));
  }
  (void)fs_->Remove(opts_.dir + "/checkpoint.tmp");
  // Spare files of an earlier run are not reused: only this run's sequence numbers are
  // known to be above every entry they hold.
  if (auto names = fs_->List(opts_.dir); names.ok())
    for (const std::string& n : *names)
      if (n.rfind(kSparePrefix, 0) == 0) (void)fs_->Remove(opts_.dir + "/" + n);
  auto listed = ListSegments(fs_, opts_.dir);
  if (!listed.ok()) return listed.status();
  const std::vector<uint64_t>& firsts = *listed;

  checkpoint_ = firsts.empty() ? 1 : firsts.front();
  const std::string cp_path = opts_.dir + "/checkpoint";
  std::string cp_bytes;
  if (fs_->Exists(cp_path)) {
    auto cp = fs_->ReadFile(cp_path);
    std::optional<uint64_t> v = cp.ok() ? ParseCheckpoint(*cp) : std::nullopt;
    if (v) {
      checkpoint_ = std::max(checkpoint_, *v);
      cp_bytes = std::move(*cp);
    } else {
      recovery_.checkpoint_corrupt = true;
      SLOG(ERROR) << "log " << opts_.dir
                  << ": corrupt checkpoint; re-delivering from the oldest entry";
    }
  }
  PrepareCheckpointFile(cp_bytes);

  for (size_t i = 0; i < firsts.size(); ++i) {
    Segment seg;
    seg.first_seq = firsts[i];
    seg.path = SegmentPath(firsts[i]);
    s = RecoverSegment(&seg, i + 1 == firsts.size());
    if (!s.ok()) return s;
    segments_.push_back(std::move(seg));
  }
  next_seq_ = segments_.empty() ? checkpoint_ : std::max(segments_.back().end_seq, checkpoint_);
  durable_seq_ = next_seq_ - 1;
  // Segments below the checkpoint are garbage from before a crash: delete them now.
  while (segments_.size() > 1 && segments_.front().end_seq <= checkpoint_) {
    (void)fs_->Remove(segments_.front().path);
    segments_.pop_front();
  }
  read_seq_ = checkpoint_;
  if (segments_.empty() || segments_.back().end_seq < next_seq_) {
    s = StartSegment(next_seq_);
    if (!s.ok()) return s;
  } else {
    auto w = fs_->OpenForAppend(segments_.back().path);
    if (!w.ok()) return w.status();
    active_ = std::move(*w);
    // Its blocks past the end were given back at the last orderly close: reserved again.
    if (opts_.reserve) (void)fs_->Allocate(segments_.back().path, segment_bytes_, true);
  }
  if (opts_.reserve) FillReserve();
  return absl::OkStatus();
}

void LocalLog::PrepareCheckpointFile(const std::string& existing) {
  const std::string path = opts_.dir + "/checkpoint";
  if (existing.size() == 2 * kCheckpointSlot) {
    if (auto f = fs_->OpenAt(path, 0); f.ok()) {
      checkpoint_file_ = std::move(*f);
      checkpoint_slot_ = static_cast<size_t>(std::max(0, NewestCheckpointSlot(existing)));
      return;  // the next update writes the other slot
    }
  }
  if (Status s = CreateCheckpointFile(checkpoint_); !s.ok())
    SLOG(WARN) << "log " << opts_.dir << ": cannot create the checkpoint file yet (" << s.message()
               << "); it is created at the first acknowledgement";
}

Status LocalLog::CreateCheckpointFile(uint64_t next_seq) {
  // Whole and atomically (both slots), then updated in place: a new file per update cost an
  // inode allocation, a rename and a directory sync each time.
  const std::string path = opts_.dir + "/checkpoint";
  Status s = fs_->WriteFileAtomic(path, CheckpointFileBytes(next_seq));
  if (!s.ok()) return s;
  auto f = fs_->OpenAt(path, 0);
  if (!f.ok()) return f.status();
  checkpoint_file_ = std::move(*f);
  checkpoint_slot_ = 0;
  return absl::OkStatus();
}

std::string LocalLog::NewSpareName() { return Cat(opts_.dir, "/", kSparePrefix, ++spare_counter_); }

void LocalLog::FillReserve() {
  while (true) {
    std::string spare;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (spares_.size() >= kSpares) break;
      spare = NewSpareName();
    }
    Status s = fs_->Allocate(spare, segment_bytes_, /*keep_size=*/false);
    if (!s.ok()) {
      (void)fs_->Remove(spare);
      SLOG(WARN) << "log " << opts_.dir << ": cannot reserve a spare segment: " << s.message();
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    spares_.push_back(std::move(spare));
  }
}

bool LocalLog::KeepSpares() {
  if (opts_.reserve) return true;  // the reserve itself
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (disk_full_) return false;
  }
  // Kept only while the disk has room to spare: otherwise deleted, to free space.
  auto space = fs_->SpaceOf(opts_.dir);
  return !space.ok() || space->available >= 4 * segment_bytes_;
}

void LocalLog::RollDrainedSegment() {
  Segment old;
  uint64_t next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!disk_full_ || leader_active_ || !writers_.empty() || checkpoint_ != next_seq_ ||
        segments_.empty() || segments_.back().end_seq == segments_.back().first_seq)
      return;
    leader_active_ = true;  // appends wait while the active segment changes
    old = segments_.back();
    segments_.pop_back();
    next = next_seq_;
  }
  if (old.path == read_path_) {
    read_file_.reset();
    read_path_.clear();
  }
  active_.reset();
  // Deleted first, for the space: a crash before the new segment exists leaves no segment,
  // and recovery starts one at the checkpoint, which is next_seq.
  (void)fs_->Remove(old.path);
  Status s = StartSegment(next);
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) disk_full_ = false;
  ReleaseLeadership();
  if (s.ok())
    SLOG(INFO) << "log " << opts_.dir << ": full disk: freed its drained segment " << old.path;
  else
    SLOG(WARN) << "log " << opts_.dir << ": cannot start a segment yet: " << s.message();
}

Status LocalLog::StartSegment(uint64_t first_seq) {
  Segment seg;
  seg.first_seq = seg.end_seq = first_seq;
  seg.path = SegmentPath(first_seq);
  (void)fs_->Remove(seg.path);  // a leftover of a failed rotation
  std::string spare;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spares_.empty()) {
      spare = std::move(spares_.back());
      spares_.pop_back();
    }
  }
  // A spare (an acknowledged segment kept instead of deleted) is written over from the
  // start: its blocks are allocated, so appends and fdatasync touch no file metadata. The
  // directory sync below makes the new name durable before any entry in it is acknowledged.
  StatusOr<std::unique_ptr<WritableFile>> w = !spare.empty() && fs_->Rename(spare, seg.path).ok()
                                                  ? fs_->OpenAt(seg.path, 0)
                                                  : fs_->OpenForAppend(seg.path);
  if (!w.ok()) return w.status();
  Status s = (*w)->Append(SegmentHeaderBytes());
  if (s.ok() && opts_.fsync != FsyncPolicy::kNone) s = (*w)->Sync();
  if (s.ok() && opts_.fsync != FsyncPolicy::kNone) s = fs_->SyncDir(opts_.dir);
  if (!s.ok()) {
    w->reset();
    (void)fs_->Remove(seg.path);
    return s;
  }
  seg.bytes = kSegmentHeader;
  active_ = std::move(*w);
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments_.push_back(std::move(seg));
  }
  if (opts_.reserve) {
    if (spare.empty()) (void)fs_->Allocate(SegmentPath(first_seq), segment_bytes_, true);
    FillReserve();  // the spare just used is replaced while there is room
  }
  return absl::OkStatus();
}

Status LocalLog::LimitCheck(uint32_t records, size_t bytes) const {
  if (opts_.max_bytes > 0 && unacked_bytes_ > 0 && unacked_bytes_ + bytes > opts_.max_bytes)
    return Overloaded(
        Cat("buffer full: ", unacked_bytes_, " of ", opts_.max_bytes, " bytes waiting"));
  if (opts_.max_records > 0 && unacked_records_ > 0 &&
      unacked_records_ + records > opts_.max_records)
    return Overloaded(
        Cat("buffer full: ", unacked_records_, " of ", opts_.max_records, " records waiting"));
  if (opts_.max_age.count() > 0 && oldest_unacked_ms_ > 0 &&
      Now() - oldest_unacked_ms_ > opts_.max_age.count())
    return Overloaded("buffer full: its oldest record is older than the age limit");
  return absl::OkStatus();
}

StatusOr<uint64_t> LocalLog::Append(Signal signal, uint32_t records, std::string_view payload) {
  if (payload.size() > kMaxPayload)
    return absl::ResourceExhaustedError("entry larger than the log's 64 MiB limit");
  Writer w{signal, records, payload};
  std::unique_lock<std::mutex> lock(mu_);
  if (failed_) return absl::UnavailableError(Cat("log ", opts_.dir, " failed; restart to recover"));
  Status lim = LimitCheck(records, kEntryHeader + payload.size());
  if (!lim.ok()) return lim;
  writers_.push_back(&w);
  while (!w.done) {
    if (!leader_active_) {
      leader_active_ = true;
      Lead(lock);  // writes every queued entry, this one included
    } else {
      cv_.wait(lock);
    }
  }
  if (!w.status.ok()) return w.status;
  return w.seq;
}

void LocalLog::AppendAsync(Signal signal, uint32_t records, std::string payload,
                           std::function<Status()> precheck, Done done) {
  if (payload.size() > kMaxPayload) {
    done(absl::ResourceExhaustedError("entry larger than the log's 64 MiB limit"));
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (failed_) {
    lock.unlock();
    done(absl::UnavailableError(Cat("log ", opts_.dir, " failed; restart to recover")));
    return;
  }
  // Refused at once (the client is answered now, not after the next commit).
  if (Status lim = LimitCheck(records, kEntryHeader + payload.size()); !lim.ok()) {
    lock.unlock();
    done(lim);
    return;
  }
  auto* w = new Writer{signal, records, {}};
  w->owned = std::move(payload);
  w->payload = w->owned;
  w->precheck = std::move(precheck);
  w->on_done = std::move(done);
  writers_.push_back(w);
  if (leader_active_) return;  // the current leader takes it in its next group
  leader_active_ = true;
  lock.unlock();
  PostLead();
}

void LocalLog::Lead(std::unique_lock<std::mutex>& lock) {
  for (int groups = 0; !writers_.empty(); ++groups) {
    if (groups == kGroupsPerTurn) {
      // A log busy enough to fill every commit keeps its leadership but goes to the back
      // of the commit pool's queue, so other logs' commits are not held up behind it.
      PostLead();
      cv_.notify_all();
      return;
    }
    std::vector<Writer*> group(writers_.begin(), writers_.end());
    writers_.clear();
    lock.unlock();
    // Right before the write: an entry whose client gave up is not stored (its retry would
    // be a duplicate).
    std::vector<Writer*> live;
    live.reserve(group.size());
    for (Writer* g : group) {
      if (g->precheck) {
        if (Status p = g->precheck(); !p.ok()) {
          g->status = p;
          continue;
        }
      }
      live.push_back(g);
    }
    Status s = live.empty() ? absl::OkStatus() : WriteGroup(live);
    if (!s.ok()) LogError("", s);
    std::vector<Writer*> waiting;  // synchronous appenders, woken below
    for (Writer* g : group) {
      if (!g->on_done) {
        waiting.push_back(g);
        continue;
      }
      g->on_done(g->status.ok() ? StatusOr<uint64_t>(g->seq) : StatusOr<uint64_t>(g->status));
      delete g;
    }
    lock.lock();
    for (Writer* g : waiting) g->done = true;
    cv_.notify_all();
  }
  leader_active_ = false;
  cv_.notify_all();
}

void LocalLog::PostLead() {
  Executor::Commits().Post([this] {
    std::unique_lock<std::mutex> l(mu_);
    Lead(l);
  });
}

void LocalLog::ReleaseLeadership() {
  // Appends queued meanwhile found a leader and did not start one: hand them to a commit.
  if (!writers_.empty()) {
    PostLead();
  } else {
    leader_active_ = false;
  }
  cv_.notify_all();
}

void LocalLog::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !leader_active_ && writers_.empty(); });
}

Status LocalLog::WriteGroup(std::vector<Writer*>& group) {
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = next_seq_;
  }
  const int64_t now = Now();
  // Entry headers go to a small buffer; payloads are written from the callers' requests.
  std::string headers;
  std::vector<std::string_view> parts;
  size_t i = 0;
  Status result;
  while (i < group.size()) {
    if (!active_) {  // a drained segment was deleted and its successor could not start
      result = StartSegment(seq);
      if (!result.ok()) break;
    }
    // One chunk: the entries that fit in the active segment.
    const uint64_t start_size = active_->Size();
    const uint64_t chunk_first = seq;
    headers.clear();
    size_t j = i;
    uint64_t chunk_records = 0, chunk_bytes = 0;  // for the unacknowledged totals
    while (j < group.size()) {
      const size_t size = kEntryHeader + group[j]->payload.size();
      if (j > i && start_size + chunk_bytes + size > segment_bytes_) break;
      if (j == i && start_size > kSegmentHeader && start_size + size > segment_bytes_) break;
      AppendEntryHeader(seq, now, group[j]->records, group[j]->signal, group[j]->payload, &headers);
      chunk_records += group[j]->records;
      chunk_bytes += size;
      ++seq;
      ++j;
    }
    if (j == i) {  // the active segment is full: rotate first
      // A reused segment ends where its entries end (the old contents after them go), so
      // that only the last segment can ever have bytes after its last entry.
      result = active_->Truncate(active_->Size());
      if (result.ok() && opts_.fsync != FsyncPolicy::kNone) result = SyncActive();
      if (result.ok()) result = StartSegment(seq);
      if (!result.ok()) break;
      continue;
    }
    parts.clear();
    for (size_t k = i; k < j; ++k) {
      parts.push_back(std::string_view(headers).substr((k - i) * kEntryHeader, kEntryHeader));
      parts.push_back(group[k]->payload);
    }
    result = active_->AppendParts(parts);
    if (result.ok() && opts_.fsync == FsyncPolicy::kAlways) result = SyncActive();
    if (!result.ok()) {
      // Roll back to the last durable size, so that nothing half-written stays.
      Status t = active_->Truncate(start_size);
      if (t.ok() && opts_.fsync != FsyncPolicy::kNone) t = active_->Sync();
      if (!t.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        failed_ = true;
        SLOG(ERROR) << "log " << opts_.dir << ": cannot roll back a failed write (" << t.message()
                    << "); appends stop until restart";
      }
      seq = chunk_first;
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Segment& seg = segments_.back();
      seg.end_seq = seq;
      seg.bytes = active_->Size();
      next_seq_ = seq;
      durable_seq_ = seq - 1;
      unacked_records_ += chunk_records;
      unacked_bytes_ += chunk_bytes;
      if (oldest_unacked_ms_ == 0) oldest_unacked_ms_ = now;
      newest_ms_ = now;
      dirty_ = true;
    }
    for (size_t k = i; k < j; ++k) {
      group[k]->seq = chunk_first + (k - i);
      group[k]->status = absl::OkStatus();
    }
    i = j;
  }
  for (; i < group.size(); ++i)
    group[i]->status = result.ok() ? absl::UnavailableError("not written") : result;
  if (IsOverload(result) && !opts_.reserve) {
    // The disk is full: spares go, to free their space; the drained active segment goes
    // too once everything in it is acknowledged (RollDrainedSegment).
    std::vector<std::string> spares;
    {
      std::lock_guard<std::mutex> lock(mu_);
      disk_full_ = true;
      spares.swap(spares_);
    }
    for (const std::string& p : spares) (void)fs_->Remove(p);
  }
  return result;
}

void LocalLog::LogError(std::string_view what, const Status& s) {
  uint64_t suppressed = 0;
  if (error_log_.Allow(&suppressed))
    SLOG(ERROR) << "log " << opts_.dir << ": " << what << s.message()
                << (suppressed ? Cat(" [", suppressed, " more not logged]") : std::string());
}

Status LocalLog::SyncActive() {
  const auto start = std::chrono::steady_clock::now();
  Status s = active_->Sync();
  sync_durations_.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return s;
}

void LocalLog::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, opts_.sync_interval, [&] { return stop_; });
    if (!dirty_ || leader_active_) continue;
    // Hold leadership while syncing so the active file cannot rotate underneath.
    leader_active_ = true;
    dirty_ = false;
    lock.unlock();
    Status s = active_ ? SyncActive() : absl::OkStatus();
    lock.lock();
    ReleaseLeadership();
    if (!s.ok()) LogError("periodic sync failed: ", s);
  }
}

StatusOr<std::vector<Entry>> LocalLog::Read(size_t max_entries, size_t max_bytes) {
  std::vector<Entry> out;
  uint64_t durable;
  std::vector<Segment> segs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    durable = durable_seq_;
    segs.assign(segments_.begin(), segments_.end());
  }
  size_t bytes = 0;
  while (out.size() < max_entries && bytes < max_bytes && read_seq_ <= durable) {
    // The segment holding read_seq_.
    const Segment* seg = nullptr;
    for (const Segment& s : segs)
      if (s.first_seq <= read_seq_ && read_seq_ < std::max(s.end_seq, s.first_seq + 1)) seg = &s;
    if (seg == nullptr) {
      // A gap (entries lost to corruption): continue with the next segment.
      const Segment* next = nullptr;
      for (const Segment& s : segs)
        if (s.first_seq > read_seq_ && (!next || s.first_seq < next->first_seq)) next = &s;
      if (!next) break;
      read_seq_ = next->first_seq;
      continue;
    }
    if (read_path_ != seg->path) {
      auto f = fs_->OpenForRead(seg->path);
      if (!f.ok()) return f.status();
      read_file_ = std::move(*f);
      read_path_ = seg->path;
      read_offset_ = kSegmentHeader;
    }
    auto size = read_file_->Size();
    if (!size.ok()) return size.status();
    // A reused segment holds old entries after the new ones: read only what was written.
    *size = std::min(*size, seg->bytes);
    EntryHeader h;
    std::string payload;
    if (!ReadEntry(*read_file_, read_offset_, *size, &h, &payload)) {
      if (uint64_t next = SkipCorrupt(*read_file_, read_offset_, *size, read_seq_)) {
        read_offset_ = next;  // a corrupt entry (reported at recovery): skip it
        continue;
      }
      // End of this segment's valid data.
      if (seg->end_seq > read_seq_ && &segs.back() != seg) {
        read_seq_ = seg->end_seq;  // skip what cannot be read
        continue;
      }
      break;
    }
    read_offset_ += kEntryHeader + h.len;
    if (h.seq < read_seq_) continue;  // before the checkpoint
    if (h.seq > durable) {
      read_offset_ -= kEntryHeader + h.len;
      break;
    }
    bytes += payload.size();
    read_seq_ = h.seq + 1;
    out.push_back(ToEntry(h, std::move(payload)));
  }
  if (!out.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : out)
      inflight_.push_back({e.seq, e.records, e.append_ms, kEntryHeader + e.payload.size()});
  }
  return out;
}

Status LocalLog::Ack(uint64_t next_seq) {
  std::vector<std::string> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (next_seq <= checkpoint_) return absl::OkStatus();
    next_seq = std::min(next_seq, next_seq_);
    while (!inflight_.empty() && inflight_.front().seq < next_seq) {
      unacked_records_ -= std::min<uint64_t>(unacked_records_, inflight_.front().records);
      unacked_bytes_ -= std::min<uint64_t>(unacked_bytes_, inflight_.front().bytes);
      inflight_.pop_front();
    }
    checkpoint_ = next_seq;
    if (!inflight_.empty())
      oldest_unacked_ms_ = inflight_.front().append_ms;
    else
      oldest_unacked_ms_ = next_seq < next_seq_ ? Now() : 0;  // unread: age unknown, taken as new
    if (next_seq == next_seq_) unacked_records_ = unacked_bytes_ = 0;
  }
  Status s = WriteCheckpoint(next_seq);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (segments_.size() > 1 && segments_.front().end_seq <= checkpoint_) {
      doomed.push_back(segments_.front().path);
      segments_.pop_front();
    }
  }
  const bool keep = !doomed.empty() && KeepSpares();
  for (const std::string& p : doomed) {
    if (p == read_path_) {
      read_file_.reset();
      read_path_.clear();
    }
    std::string spare;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (keep && spares_.size() < kSpares) spare = NewSpareName();
    }
    if (!spare.empty() && fs_->Rename(p, spare).ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      spares_.push_back(std::move(spare));
      continue;
    }
    (void)fs_->Remove(p);
  }
  RollDrainedSegment();
  return absl::OkStatus();
}

Status LocalLog::WriteCheckpoint(uint64_t next_seq) {
  if (!checkpoint_file_) return CreateCheckpointFile(next_seq);
  checkpoint_slot_ ^= 1;
  Status s =
      checkpoint_file_->WriteAt(checkpoint_slot_ * kCheckpointSlot, CheckpointBytes(next_seq));
  if (s.ok()) s = checkpoint_file_->Sync();
  if (!s.ok()) checkpoint_file_.reset();  // the next update rewrites the whole file
  return s;
}

uint64_t LocalLog::checkpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoint_;
}

uint64_t LocalLog::next_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_;
}

LogStats LocalLog::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  LogStats s = recovery_;
  s.segments = segments_.size();
  for (const Segment& seg : segments_) s.bytes += seg.bytes;
  s.unacked_records = unacked_records_;
  s.unacked_bytes = unacked_bytes_;
  s.unacked_entries = next_seq_ - checkpoint_;
  s.oldest_unacked_ms = unacked_records_ > 0 || unacked_bytes_ > 0 ? oldest_unacked_ms_ : 0;
  s.newest_ms = newest_ms_;
  s.next_seq = next_seq_;
  s.checkpoint = checkpoint_;
  return s;
}

void LocalLog::Rewind() {
  std::lock_guard<std::mutex> lock(mu_);
  inflight_.clear();
  read_seq_ = checkpoint_;
  read_path_.clear();
  read_file_.reset();
}

}  // namespace sluice::buffer
