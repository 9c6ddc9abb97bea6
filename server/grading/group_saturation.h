// How saturated one graded group is: whether its valid rewards are all equal
// (zero variance, no GRPO advantage), whether two or more valid responses
// tie at the maximum reward the rubric can give (the rubric no longer
// separates the policy's best responses), and the spread of the top two.
// Pure functions, no allocation.
//
//   GroupSaturation s = SummarizeGroup(group.results, group.max_possible);
//   if (s.saturated) { /* log it, rank the rubric */ }
//
// Invalid results (Score::valid false, e.g. a judge failure) are left out:
// they never count as met, at the maximum or in a tie. A group with fewer
// than two valid responses is never zero-variance, tied or saturated.
//
// Thread-safety: stateless.
#ifndef REWARDD_SERVER_GRADING_GROUP_SATURATION_H_
#define REWARDD_SERVER_GRADING_GROUP_SATURATION_H_

#include <cstddef>

#include "absl/types/span.h"
#include "server/grading/grader.h"

namespace rewardd {

// Rewards closer than this are equal (scores are sums of a few weights).
inline constexpr double kRewardTieTolerance = 1e-9;

struct GroupSaturation {
  size_t responses = 0;  // all, valid or not
  size_t valid = 0;
  double top_reward = 0;       // highest valid reward (0 when none)
  size_t tied_at_top = 0;      // valid responses at top_reward
  size_t at_max = 0;           // valid responses at the maximum possible
  bool zero_variance = false;  // >= 2 valid, all equal
  bool tied_at_max = false;    // >= 2 valid at the maximum possible
  // The saturated group the tail log samples and the tracker ranks: the
  // same as tied_at_max.
  bool saturated = false;
  // Top reward minus the second highest valid reward (0 when tied); only
  // meaningful when has_gap (>= 2 valid).
  double top2_gap = 0;
  bool has_gap = false;
};

// `results` in request order; `max_possible` as GradedGroup::max_possible.
GroupSaturation SummarizeGroup(absl::Span<const GradeResult> results,
                               double max_possible);

// Whether `result` is a valid response at `top` (the group's top reward).
bool AtReward(const GradeResult& result, double top);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GRADING_GROUP_SATURATION_H_
