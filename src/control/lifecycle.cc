#include "control/lifecycle.h"

#include "core/cat.h"

namespace sluice::control {

std::string_view StatusName(PipelineStatus s) {
  switch (s) {
    case PipelineStatus::kCreated: return "Created";
    case PipelineStatus::kRunning: return "Running";
    case PipelineStatus::kStopping: return "Stopping";
    case PipelineStatus::kStopped: return "Stopped";
    case PipelineStatus::kTerminating: return "Terminating";
    case PipelineStatus::kFailed: return "Failed";
    case PipelineStatus::kResuming: return "Resuming";
  }
  return "Failed";
}

bool IsTransitional(PipelineStatus s) {
  return s == PipelineStatus::kStopping || s == PipelineStatus::kTerminating ||
         s == PipelineStatus::kResuming;
}

std::vector<PipelineStatus> ValidTransitions(PipelineStatus from) {
  using S = PipelineStatus;
  switch (from) {
    // GlassFlow's table, with one addition: a Created (starting) or Failed Sluice pipeline
    // is running, buffering and retrying its table, so it may be stopped or terminated
    // (parked) like a Running one; GlassFlow allows only terminate from Created and only
    // resume from Failed.
    case S::kCreated: return {S::kRunning, S::kStopping, S::kTerminating, S::kFailed};
    case S::kRunning: return {S::kStopping, S::kTerminating, S::kFailed};
    case S::kResuming: return {S::kRunning, S::kTerminating, S::kFailed};
    case S::kStopping: return {S::kStopped, S::kTerminating, S::kFailed};
    case S::kStopped: return {S::kResuming, S::kFailed};
    case S::kTerminating: return {S::kStopped, S::kFailed};
    case S::kFailed: return {S::kResuming, S::kStopping, S::kTerminating};
  }
  return {};
}

bool CanTransition(PipelineStatus from, PipelineStatus to) {
  for (PipelineStatus s : ValidTransitions(from))
    if (s == to) return true;
  return false;
}

std::optional<Refusal> CheckOp(Op op, PipelineStatus current) {
  const std::string now(StatusName(current));
  if (op == Op::kEdit) {
    if (current == PipelineStatus::kStopped || current == PipelineStatus::kFailed)
      return std::nullopt;
    return Refusal{"PIPELINE_NOT_STOPPED_FOR_EDIT",
                   Cat("pipeline must be stopped before editing (it is ", now, ")"),
                   {}};
  }
  if (op == Op::kDelete) {
    if (current == PipelineStatus::kStopped || current == PipelineStatus::kFailed)
      return std::nullopt;
    return Refusal{
        "PIPELINE_NOT_STOPPED",
        Cat("pipeline can only be deleted if it's stopped or terminated (it is ", now, ")"),
        {}};
  }
  // The transitional status the operation starts, and the status it ends in.
  const PipelineStatus target = op == Op::kStop        ? PipelineStatus::kStopping
                                : op == Op::kTerminate ? PipelineStatus::kTerminating
                                                       : PipelineStatus::kResuming;
  const PipelineStatus final =
      op == Op::kResume ? PipelineStatus::kRunning : PipelineStatus::kStopped;
  if (current == final || current == target)
    return Refusal{"PIPELINE_ALREADY_IN_STATE", Cat("pipeline is already ", now), {}};
  if (IsTransitional(current) && op != Op::kTerminate)
    return Refusal{"PIPELINE_IN_TRANSITION",
                   Cat("pipeline is ", now, "; wait until it finishes (or terminate it)"),
                   {}};
  if (!CanTransition(current, target))
    return Refusal{"INVALID_STATUS_TRANSITION",
                   Cat("invalid status transition from ", now, " to ", StatusName(target)),
                   ValidTransitions(current)};
  return std::nullopt;
}

}  // namespace sluice::control
