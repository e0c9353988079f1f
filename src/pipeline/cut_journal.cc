#include "pipeline/cut_journal.h"

#include "core/bytes.h"

namespace sluice::pipeline {

namespace {
constexpr size_t kFixed = 8 + 4 + 8 + 4 + 8 + 2;  // first, last, rows, table length
constexpr size_t kTrimEvery = 512;                // journal entries per checkpoint write
}  // namespace

std::string EncodeCut(const Cut& cut) {
  std::string out;
  ByteWriter w(&out);
  w.Fixed(cut.first.seq);
  w.Fixed(cut.first.rec);
  w.Fixed(cut.last.seq);
  w.Fixed(cut.last.rec);
  w.Fixed(cut.rows);
  w.Fixed(static_cast<uint16_t>(cut.table.size()));
  w.Bytes(cut.table);
  return out;
}

std::optional<Cut> DecodeCut(std::string_view b) {
  if (b.size() < kFixed) return std::nullopt;
  Cut c;
  const char* p = b.data();
  c.first.seq = LoadFixed<uint64_t>(p);
  c.first.rec = LoadFixed<uint32_t>(p + 8);
  c.last.seq = LoadFixed<uint64_t>(p + 12);
  c.last.rec = LoadFixed<uint32_t>(p + 20);
  c.rows = LoadFixed<uint64_t>(p + 24);
  const size_t n = LoadFixed<uint16_t>(p + 32);
  if (b.size() != kFixed + n || c.last < c.first) return std::nullopt;
  c.table.assign(p + kFixed, n);
  return c;
}

StatusOr<std::vector<Cut>> CutJournal::Load() {
  log_->Rewind();
  live_.clear();
  std::vector<Cut> cuts;
  while (true) {
    auto entries = log_->Read(1024, 1u << 20);
    if (!entries.ok()) return entries.status();
    if (entries->empty()) break;
    for (const buffer::Entry& e : *entries) {
      auto cut = DecodeCut(e.payload);
      if (!cut) continue;  // checksummed, so only a foreign writer could put this here
      live_.emplace_back(e.seq, cut->last.seq);
      cuts.push_back(std::move(*cut));
    }
  }
  return cuts;
}

Status CutJournal::Record(const Cut& cut) {
  auto seq = log_->Append(Signal::kLogs, static_cast<uint32_t>(cut.rows), EncodeCut(cut));
  if (!seq.ok()) return seq.status();
  live_.emplace_back(*seq, cut.last.seq);
  return absl::OkStatus();
}

void CutJournal::Trim(uint64_t checkpoint) {
  if (live_.size() < kTrimEvery) return;
  size_t n = 0;
  while (n < live_.size() && live_[n].second < checkpoint) ++n;
  if (n < kTrimEvery) return;
  const uint64_t next = live_[n - 1].first + 1;
  if (!log_->Ack(next).ok()) return;  // retried at the next trim
  live_.erase(live_.begin(), live_.begin() + n);
}

}  // namespace sluice::pipeline
