// Scoring formulas and missing-verdict policies: how per-criterion verdicts
// become one reward. Pure functions, no I/O.
//
//   ScoringOptions opts;  // weighted_fraction, strict
//   Score s = ComputeScore(rubric, verdicts, opts);
//   if (!s.valid) { /* do not train on s.reward; s.invalid_reason says why */ }
//
// Formulas (w_i = criterion weight, met_i in {0, 1}):
//   kWeightedFraction  sum(w_i * met_i) / sum(positive w_i), clipped to
//                      [0, 1]. With all weights positive this is the paper's
//                      sum(w_i * met_i) / sum(w_i) ("Chasing the Tail").
//   kHealthBench       sum(points of met) / sum(positive points); not clipped
//                      (can be < 0) unless `clip`.
//   kRawSum            sum(w_i * met_i).
// Negative weights are "bad behaviour present" when met: they lower the
// numerator and never enter the denominator.
//
// Criteria without a verdict (status != kOk) under each policy:
//   kStrict       kMissing counts as unmet (the paper's rule for a criterion
//                 the judge left out). A failed call (kJudgeError, kTimeout,
//                 kSkipped) or an answer that could not be read even after
//                 retries (kParseError) makes the result invalid: it is
//                 never scored 0.
//   kRenormalize  left out of numerator and denominator; invalid only when no
//                 positive-weight criterion has a verdict.
//   kInvalid      any criterion without a verdict makes the result invalid.
// An invalid result has reward 0 and valid == false; callers must not train
// on it.
//
// Expected reward: when the result is valid and every criterion has a verdict
// with a probability p_i = P(met) (judge logprobs, or votes aggregated by
// mean), `expected_reward` is the same formula with p_i in place of met_i
// (same denominator and clipping). Otherwise it is unset: a mix of soft and
// hard verdicts would not be an expectation of anything.
//
// Thread-safety: stateless.
#ifndef REWARDD_SERVER_GRADING_SCORING_H_
#define REWARDD_SERVER_GRADING_SCORING_H_

#include <optional>
#include <string>
#include <vector>

#include "server/judge/judge.h"
#include "server/rubric/rubric.h"

namespace rewardd {

enum class ScoringFormula { kWeightedFraction = 0, kHealthBench, kRawSum };
enum class MissingPolicy { kStrict = 0, kRenormalize, kInvalid };

struct ScoringOptions {
  ScoringFormula formula = ScoringFormula::kWeightedFraction;
  MissingPolicy missing = MissingPolicy::kStrict;
  bool clip = false;  // kHealthBench only; kWeightedFraction always clips
};

struct Score {
  double reward = 0;
  double score = 0;      // sum(w_i * met_i) over criteria with verdicts
  double max_score = 0;  // positive weights counted in the denominator
  bool valid = true;
  std::string invalid_reason;             // empty when valid
  std::optional<double> expected_reward;  // see above
};

// `verdicts` is parallel to rubric.criteria.
Score ComputeScore(const Rubric& rubric, const std::vector<Verdict>& verdicts,
                   const ScoringOptions& options);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GRADING_SCORING_H_
