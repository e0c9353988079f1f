#include "pipeline/replay_plan.h"

#include <algorithm>

namespace sluice::pipeline {

ReplayPlan::ReplayPlan(const std::vector<Cut>& cuts, const std::vector<std::string>& tables,
                       uint64_t checkpoint) {
  // Per table, the batches as last cut: a later cut that overlaps earlier ones replaces them
  // (the earlier batch was abandoned, e.g. cut short because rows were missing).
  std::vector<std::vector<Span>> spans(tables.size());
  for (const Cut& c : cuts) {
    size_t r = 0;
    while (r < tables.size() && tables[r] != c.table) ++r;
    if (r == tables.size()) continue;  // a table this configuration no longer writes
    auto& v = spans[r];
    std::erase_if(v, [&](const Span& s) { return s.first <= c.last && c.first <= s.last; });
    v.push_back({c.first, c.last});
  }
  std::vector<Route> routes(tables.size());
  bool any = false;
  for (size_t r = 0; r < tables.size(); ++r) {
    auto& v = spans[r];
    std::sort(v.begin(), v.end(), [](const Span& a, const Span& b) { return a.first < b.first; });
    for (const Span& s : v) {
      if (s.last.seq < checkpoint) continue;  // wholly below the checkpoint
      any = true;
      if (s.first.seq < checkpoint) {
        routes[r].skip_through = s.last;  // settled, with rows at or above the checkpoint
      } else {
        routes[r].planned.push_back(s);
      }
    }
  }
  if (any) routes_ = std::move(routes);
}

ReplayPlan::Step ReplayPlan::Before(size_t route, Position pos, uint64_t rows) {
  Step step;
  if (route >= routes_.size()) return step;
  Route& r = routes_[route];
  if (r.skip_through) {
    if (pos <= *r.skip_through) {
      step.skip = true;
      return step;
    }
    r.skip_through.reset();
  }
  // A planned batch whose last row never came (its entry was lost) ends before this row.
  while (!r.planned.empty() && pos > r.planned.front().last) {
    if (r.open) step.cut_before = rows > 0;
    r.open = false;
    r.planned.pop_front();
  }
  if (!r.open && !r.planned.empty() && pos >= r.planned.front().first) {
    // Rows gathered before a planned batch begins go out on their own.
    if (rows > 0) step.cut_before = true;
    r.open = true;
  }
  return step;
}

bool ReplayPlan::After(size_t route, Position pos) {
  if (route >= routes_.size()) return false;
  Route& r = routes_[route];
  if (!r.open || pos != r.planned.front().last) return false;
  r.open = false;
  r.planned.pop_front();
  return true;
}

}  // namespace sluice::pipeline
