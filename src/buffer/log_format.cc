#include "buffer/log_format.h"

#include <algorithm>
#include <cstring>

#include "buffer/crc32c.h"
#include "core/bytes.h"

namespace sluice::buffer {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'L', 'G'};
constexpr uint32_t kVersion = 1;

EntryHeader DecodeHeader(const char* h) {
  EntryHeader x;
  x.len = LoadFixed<uint32_t>(h);
  x.crc = LoadFixed<uint32_t>(h + 4);
  x.seq = LoadFixed<uint64_t>(h + 8);
  x.ms = LoadFixed<int64_t>(h + 16);
  x.records = LoadFixed<uint32_t>(h + 24);
  x.signal = static_cast<uint8_t>(h[28]);
  return x;
}

// The CRC covers everything after itself: the rest of the header, then the payload.
uint32_t EntryCrc(const char* header, std::string_view payload) {
  return MaskCrc(Crc32c(payload, Crc32c(std::string_view(header + 8, kEntryHeader - 8))));
}

}  // namespace

std::string SegmentHeaderBytes() {
  std::string hdr(kMagic, 8);
  hdr.append(reinterpret_cast<const char*>(&kVersion), 4);
  hdr.append(4, '\0');
  return hdr;
}

bool IsSegmentHeader(const char* head) { return std::memcmp(head, kMagic, 8) == 0; }

std::string SegmentFileName(uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return name;
}

StatusOr<std::vector<uint64_t>> ListSegments(Filesystem* fs, const std::string& dir) {
  auto names = fs->List(dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> firsts;
  for (const std::string& n : *names) {
    if (n.size() != 24 || n.substr(20) != ".seg") continue;
    firsts.push_back(std::stoull(n.substr(0, 20)));
  }
  std::sort(firsts.begin(), firsts.end());
  return firsts;
}

void AppendEntryHeader(uint64_t seq, int64_t ms, uint32_t records, Signal signal,
                       std::string_view payload, std::string* out) {
  char h[kEntryHeader] = {};
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::memcpy(h, &len, 4);
  std::memcpy(h + 8, &seq, 8);
  std::memcpy(h + 16, &ms, 8);
  std::memcpy(h + 24, &records, 4);
  h[28] = static_cast<char>(signal);
  const uint32_t crc = EntryCrc(h, payload);
  std::memcpy(h + 4, &crc, 4);
  out->append(h, kEntryHeader);
}

bool ReadEntry(const ReadableFile& f, uint64_t offset, uint64_t size, EntryHeader* h,
               std::string* payload) {
  if (offset + kEntryHeader > size) return false;
  char hb[kEntryHeader];
  auto n = f.ReadAt(offset, kEntryHeader, hb);
  if (!n.ok() || *n != kEntryHeader) return false;
  *h = DecodeHeader(hb);
  if (h->len > kMaxPayload || offset + kEntryHeader + h->len > size) return false;
  payload->resize(h->len);
  auto m = f.ReadAt(offset + kEntryHeader, h->len, payload->data());
  if (!m.ok() || *m != h->len) return false;
  return EntryCrc(hb, *payload) == h->crc;
}

uint64_t SkipCorrupt(const ReadableFile& f, uint64_t offset, uint64_t size, uint64_t min_seq) {
  if (offset + kEntryHeader > size) return 0;
  char hb[kEntryHeader];
  auto r = f.ReadAt(offset, kEntryHeader, hb);
  if (!r.ok() || *r != kEntryHeader) return 0;
  EntryHeader bad = DecodeHeader(hb);
  if (bad.len > kMaxPayload) return 0;
  const uint64_t next_off = offset + kEntryHeader + bad.len;
  EntryHeader next;
  std::string payload;
  if (!ReadEntry(f, next_off, size, &next, &payload) || next.seq < min_seq) return 0;
  return next_off;
}

Entry ToEntry(const EntryHeader& h, std::string payload) {
  Entry e;
  e.seq = h.seq;
  e.append_ms = h.ms;
  e.records = h.records;
  e.signal = static_cast<Signal>(h.signal);
  e.payload = std::move(payload);
  return e;
}

std::string CheckpointBytes(uint64_t next_seq) {
  std::string b(12, '\0');
  std::memcpy(b.data(), &next_seq, 8);
  uint32_t crc = MaskCrc(Crc32c(std::string_view(b.data(), 8)));
  std::memcpy(b.data() + 8, &crc, 4);
  return b;
}

std::string CheckpointFileBytes(uint64_t next_seq) {
  std::string b(kCheckpointSlot * 2, '\0');
  const std::string slot = CheckpointBytes(next_seq);
  b.replace(0, slot.size(), slot);
  b.replace(kCheckpointSlot, slot.size(), slot);
  return b;
}

namespace {
std::optional<uint64_t> ParseSlot(std::string_view bytes) {
  if (MaskCrc(Crc32c(bytes.substr(0, 8))) != LoadFixed<uint32_t>(bytes.data() + 8))
    return std::nullopt;
  return LoadFixed<uint64_t>(bytes.data());
}
}  // namespace

std::optional<uint64_t> ParseCheckpoint(std::string_view bytes) {
  if (bytes.size() == 12) return ParseSlot(bytes);  // a single value, as first written
  if (bytes.size() < kCheckpointSlot + 12) return std::nullopt;
  std::optional<uint64_t> a = ParseSlot(bytes.substr(0, 12));
  std::optional<uint64_t> b = ParseSlot(bytes.substr(kCheckpointSlot, 12));
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
}

int NewestCheckpointSlot(std::string_view bytes) {
  if (bytes.size() < kCheckpointSlot + 12) return -1;
  std::optional<uint64_t> a = ParseSlot(bytes.substr(0, 12));
  std::optional<uint64_t> b = ParseSlot(bytes.substr(kCheckpointSlot, 12));
  if (a && (!b || *a >= *b)) return 0;
  return b ? 1 : -1;
}

Status ScanLog(Filesystem* fs, const std::string& dir,
               const std::function<void(const Entry&)>& fn) {
  auto firsts = ListSegments(fs, dir);
  if (!firsts.ok()) return firsts.status();
  uint64_t from = 0;
  if (auto cp = fs->ReadFile(dir + "/checkpoint"); cp.ok()) from = ParseCheckpoint(*cp).value_or(0);
  for (uint64_t first : *firsts) {
    auto f = fs->OpenForRead(dir + "/" + SegmentFileName(first));
    if (!f.ok()) return f.status();
    auto size = (*f)->Size();
    if (!size.ok()) return size.status();
    uint64_t offset = kSegmentHeader, next_seq = first;
    EntryHeader h;
    std::string payload;
    while (true) {
      if (!ReadEntry(**f, offset, *size, &h, &payload)) {
        offset = SkipCorrupt(**f, offset, *size, next_seq);
        if (offset == 0) break;
        continue;
      }
      if (h.seq < next_seq) break;  // the old contents of a reused segment
      next_seq = h.seq + 1;
      offset += kEntryHeader + h.len;
      if (h.seq >= from) fn(ToEntry(h, std::move(payload)));
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::buffer
