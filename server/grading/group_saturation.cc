#include "server/grading/group_saturation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rewardd {

bool AtReward(const GradeResult& result, double top) {
  return result.score.valid &&
         std::abs(result.score.reward - top) <= kRewardTieTolerance;
}

GroupSaturation SummarizeGroup(absl::Span<const GradeResult> results,
                               double max_possible) {
  GroupSaturation s;
  s.responses = results.size();
  double top = -std::numeric_limits<double>::infinity();
  double second = top;
  double lowest = std::numeric_limits<double>::infinity();
  for (const GradeResult& r : results) {
    if (!r.score.valid || std::isnan(r.score.reward)) continue;
    const double reward = r.score.reward;
    ++s.valid;
    lowest = std::min(lowest, reward);
    if (reward > top) {
      second = top;
      top = reward;
    } else if (reward > second) {
      second = reward;
    }
    if (reward >= max_possible - kRewardTieTolerance) ++s.at_max;
  }
  if (s.valid == 0) return s;
  s.top_reward = top;
  for (const GradeResult& r : results) {
    if (AtReward(r, top)) ++s.tied_at_top;
  }
  if (s.valid < 2) return s;
  s.has_gap = true;
  // With a tie at the top the second highest equals the top.
  s.top2_gap = s.tied_at_top >= 2 ? 0.0 : std::max(0.0, top - second);
  s.zero_variance = top - lowest <= kRewardTieTolerance;
  s.tied_at_max = s.at_max >= 2;
  s.saturated = s.tied_at_max;
  return s;
}

}  // namespace rewardd
