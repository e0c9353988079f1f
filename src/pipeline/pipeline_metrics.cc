#include "pipeline/pipeline_metrics.h"

namespace sluice::pipeline {
namespace {

// HTTP statuses Sluice answers, one slot each; anything else shares the last slot.
constexpr int kHttpStatuses[] = {200, 400, 404, 405, 408, 413, 415, 429, 431, 500, 501, 503, 504};
constexpr std::string_view kHttpLabels[] = {"200", "400", "404", "405", "408", "413", "415",
                                            "429", "431", "500", "501", "503", "504"};
constexpr std::string_view kGrpcLabels[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};
static_assert(std::size(kHttpStatuses) < RequestMetrics::kSlots);
static_assert(std::size(kGrpcLabels) == RequestMetrics::kSlots);

}  // namespace

std::string_view TransportName(Transport t) { return t == Transport::kHttp ? "http" : "grpc"; }

std::string_view RetryClassName(RetryClass c) {
  switch (c) {
    case RetryClass::kConnection: return "connection";
    case RetryClass::kPressure: return "pressure";
    case RetryClass::kServer: return "server";
  }
  return "server";
}

RequestMetrics::RequestMetrics() {
  for (auto& per_transport : durations_)
    for (auto& h : per_transport) h = std::make_unique<Histogram>(kLatencyBounds);
}

size_t RequestMetrics::Slot(Transport t, int status) {
  if (t == Transport::kGrpc)
    return status >= 0 && static_cast<size_t>(status) < kSlots ? static_cast<size_t>(status) : 2;
  for (size_t i = 0; i < std::size(kHttpStatuses); ++i)
    if (kHttpStatuses[i] == status) return i;
  return std::size(kHttpStatuses);
}

std::string_view RequestMetrics::StatusLabel(Transport t, size_t slot) {
  if (t == Transport::kGrpc) return kGrpcLabels[slot];
  return slot < std::size(kHttpLabels) ? kHttpLabels[slot] : "other";
}

void RequestMetrics::Record(Transport t, int status, double seconds, uint64_t accepted,
                            uint64_t refused) {
  const size_t slot = Slot(t, status);
  requests_[Index(t)][slot].fetch_add(1, kRelaxed);
  durations_[Index(t)][slot]->Observe(seconds);
  if (accepted) accepted_[Index(t)].fetch_add(accepted, kRelaxed);
  if (refused) refused_[Index(t)].fetch_add(refused, kRelaxed);
}

void PipelineMetrics::DeadLettered(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dead_letters_.find(reason);
  if (it == dead_letters_.end()) it = dead_letters_.emplace(std::string(reason), 0).first;
  ++it->second;
}

std::map<std::string, uint64_t, std::less<>> PipelineMetrics::dead_letters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dead_letters_;
}

}  // namespace sluice::pipeline
