// Batch boundaries that a restarted consumer must reproduce. Before a batch is sent, the
// worker journals its cut (the log positions of its first and last rows, per table); after
// a restart the journal says, per table, which rows were in a batch ClickHouse already
// confirmed (skipped) and which batches may have been sent but not confirmed (rebuilt with
// exactly the same rows, so they carry the same insert_deduplication_token and the same
// bytes). Not thread-safe: owned by the pipeline's worker thread.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace sluice::pipeline {

// A row's place in the log: the entry's sequence number and the record's index in that
// entry's request (the order otlp::ForEachRecord visits records).
struct Position {
  uint64_t seq = 0;
  uint32_t rec = 0;
  auto operator<=>(const Position&) const = default;
};

// One batch as sent to a table: rows from `first` to `last` inclusive.
struct Cut {
  std::string table;
  Position first, last;
  uint64_t rows = 0;
};

class ReplayPlan {
 public:
  ReplayPlan() = default;
  // `cuts`: the journaled cuts in journal order; `tables`: the route tables; `checkpoint`:
  // the log's checkpoint. Every batch whose first row lies below the checkpoint was
  // settled (the checkpoint never passes an unconfirmed batch), so its rows at or above
  // the checkpoint are skipped; batches starting at or above it are replayed. A later cut
  // that overlaps earlier ones replaces them (the earlier batch was abandoned).
  ReplayPlan(const std::vector<Cut>& cuts, const std::vector<std::string>& tables,
             uint64_t checkpoint);

  struct Step {
    bool skip = false;        // the row was in a confirmed batch: drop it
    bool cut_before = false;  // flush the route's batch before adding the row
  };
  // Called before the row at `pos` joins the batch of `route`, which holds `rows` rows.
  Step Before(size_t route, Position pos, uint64_t rows);
  // Called after the row joined: true when it ends a replayed batch (flush it now).
  bool After(size_t route, Position pos);
  // The route's open batch is a replayed one: no size or time cut until its last row.
  bool Holds(size_t route) const { return route < routes_.size() && routes_[route].open; }
  // The journaled first row of the route's open replayed batch.
  std::optional<Position> PlannedFirst(size_t route) const {
    if (!Holds(route)) return std::nullopt;
    return routes_[route].planned.front().first;
  }
  // Forgets every remaining plan (the log holds no more rows: planned rows that never
  // came are gone, e.g. a corrupt entry was skipped).
  void Clear() { routes_.clear(); }
  bool empty() const { return routes_.empty(); }

 private:
  struct Span {
    Position first, last;
  };
  struct Route {
    std::optional<Position> skip_through;
    std::deque<Span> planned;
    bool open = false;  // the batch being built is planned.front()
  };
  std::vector<Route> routes_;
};

}  // namespace sluice::pipeline
