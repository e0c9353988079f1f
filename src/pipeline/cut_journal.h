// The cut journal: a pipeline's durable record of the batches it sent, so that a restart
// rebuilds unconfirmed batches with the same boundaries (see ReplayPlan). It is a local log
// (same framing, checksums and recovery as the buffer) of small entries, one per batch,
// each durable before the batch's INSERT is sent.
// Thread-safety: one consumer (the pipeline's worker, or Stop after it) at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "buffer/local_log.h"
#include "core/status.h"
#include "pipeline/replay_plan.h"

namespace sluice::pipeline {

// A cut's entry payload, and back (nullopt when malformed).
std::string EncodeCut(const Cut& cut);
std::optional<Cut> DecodeCut(std::string_view bytes);

class CutJournal {
 public:
  explicit CutJournal(std::shared_ptr<buffer::LocalLog> log) : log_(std::move(log)) {}

  // Reads every journaled cut (a new consumer taking over), in journal order.
  StatusOr<std::vector<Cut>> Load();
  // Appends a cut; returns once it is durable under the log's fsync policy.
  Status Record(const Cut& cut);
  // Drops the journal's prefix of cuts that lie wholly below the buffer's checkpoint
  // (they can no longer be replayed). Cheap: writes only when enough accumulated.
  void Trim(uint64_t checkpoint);

 private:
  std::shared_ptr<buffer::LocalLog> log_;
  std::deque<std::pair<uint64_t, uint64_t>> live_;  // (journal seq, last row's log seq)
};

}  // namespace sluice::pipeline
