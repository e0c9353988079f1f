#include "control/lifecycle.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

using S = PipelineStatus;

TEST(Lifecycle, TransitionsAreGlassFlows) {
  EXPECT_TRUE(CanTransition(S::kRunning, S::kStopping));
  EXPECT_TRUE(CanTransition(S::kStopping, S::kTerminating));
  EXPECT_TRUE(CanTransition(S::kFailed, S::kResuming));
  EXPECT_TRUE(CanTransition(S::kFailed, S::kStopping));  // Sluice's addition: it still runs
  EXPECT_FALSE(CanTransition(S::kFailed, S::kRunning));
  EXPECT_FALSE(CanTransition(S::kStopped, S::kRunning));
  EXPECT_FALSE(CanTransition(S::kTerminating, S::kRunning));
  EXPECT_EQ(ValidTransitions(S::kStopped), (std::vector<S>{S::kResuming, S::kFailed}));
}

TEST(Lifecycle, OperationChecks) {
  EXPECT_FALSE(CheckOp(Op::kStop, S::kRunning));
  EXPECT_FALSE(CheckOp(Op::kTerminate, S::kCreated));
  EXPECT_FALSE(CheckOp(Op::kStop, S::kCreated));
  EXPECT_FALSE(CheckOp(Op::kStop, S::kFailed));
  EXPECT_FALSE(CheckOp(Op::kTerminate, S::kFailed));
  EXPECT_FALSE(CheckOp(Op::kTerminate, S::kStopping));  // terminate hurries a drain
  EXPECT_FALSE(CheckOp(Op::kResume, S::kStopped));
  EXPECT_FALSE(CheckOp(Op::kResume, S::kFailed));
  EXPECT_EQ(CheckOp(Op::kStop, S::kStopped)->code, "PIPELINE_ALREADY_IN_STATE");
  EXPECT_EQ(CheckOp(Op::kResume, S::kRunning)->code, "PIPELINE_ALREADY_IN_STATE");
  EXPECT_EQ(CheckOp(Op::kStop, S::kStopping)->code, "PIPELINE_ALREADY_IN_STATE");
  EXPECT_EQ(CheckOp(Op::kResume, S::kStopping)->code, "PIPELINE_IN_TRANSITION");
  EXPECT_EQ(CheckOp(Op::kStop, S::kResuming)->code, "PIPELINE_IN_TRANSITION");
  auto bad = CheckOp(Op::kTerminate, S::kStopped);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->code, "PIPELINE_ALREADY_IN_STATE");
  bad = CheckOp(Op::kResume, S::kTerminating);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->code, "PIPELINE_IN_TRANSITION");
  EXPECT_EQ(CheckOp(Op::kEdit, S::kRunning)->code, "PIPELINE_NOT_STOPPED_FOR_EDIT");
  EXPECT_FALSE(CheckOp(Op::kEdit, S::kFailed));
  auto del = CheckOp(Op::kDelete, S::kRunning);
  ASSERT_TRUE(del);
  // GlassFlow's SDK recognizes this refusal by the start of its message.
  EXPECT_EQ(del->message.rfind("pipeline can only be deleted if it's stopped or terminated", 0),
            0u);
  EXPECT_FALSE(CheckOp(Op::kDelete, S::kStopped));
}

}  // namespace
}  // namespace sluice::control
