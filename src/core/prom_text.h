// Writes the Prometheus text exposition format (version 0.0.4): a family's HELP and TYPE
// lines, then its samples; label values escaped; histograms as cumulative _bucket series
// with _sum and _count. Not thread-safe: one writer per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/histogram.h"

namespace sluice {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::vector<Label>;

class PromText {
 public:
  // Starts a family. `type`: counter, gauge or histogram. For counters the name carries
  // the _total suffix, as the Go client (and so the OTel Collector) writes it.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  // The family `name`'s histogram series for one label set.
  void Observations(std::string_view name, const Labels& labels, const Histogram& h);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Series(std::string_view name, std::string_view suffix, const Labels& labels,
              const Label* extra);
  std::string out_;
};

}  // namespace sluice
