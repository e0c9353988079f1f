// GlassFlow's pipeline statuses and the transitions between them (glassflow.md §4.1; a
// Created or Failed pipeline may also be stopped, see ValidTransitions), and which API
// operation each status allows, with GlassFlow's error codes. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::control {

enum class PipelineStatus {
  kCreated,
  kRunning,
  kStopping,
  kStopped,
  kTerminating,
  kFailed,
  kResuming
};

std::string_view StatusName(PipelineStatus s);
bool IsTransitional(PipelineStatus s);  // Stopping, Terminating, Resuming
bool CanTransition(PipelineStatus from, PipelineStatus to);
std::vector<PipelineStatus> ValidTransitions(PipelineStatus from);

enum class Op { kStop, kTerminate, kResume, kEdit, kDelete };

// Why an operation is refused in a status (all answered 400).
struct Refusal {
  std::string code;                   // PIPELINE_ALREADY_IN_STATE, PIPELINE_IN_TRANSITION, ...
  std::string message;                // starts as GlassFlow's does (its SDK matches some prefixes)
  std::vector<PipelineStatus> valid;  // INVALID_STATUS_TRANSITION: where `current` may go
};

// Nothing when `op` may run in `current`.
std::optional<Refusal> CheckOp(Op op, PipelineStatus current);

}  // namespace sluice::control
