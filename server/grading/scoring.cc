#include "server/grading/scoring.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace rewardd {
namespace {

// Under kStrict only kMissing (the judge answered and left the criterion
// out) counts as unmet. Everything else means no usable answer came back:
// the call failed, timed out, was skipped, or its answer could not be read
// even after retries. Scoring those as unmet would be a quiet 0.
bool IsFailedCall(CriterionStatus s) {
  return s == CriterionStatus::kJudgeError || s == CriterionStatus::kTimeout ||
         s == CriterionStatus::kSkipped || s == CriterionStatus::kParseError;
}

}  // namespace

Score ComputeScore(const Rubric& rubric, const std::vector<Verdict>& verdicts,
                   const ScoringOptions& options) {
  Score out;
  size_t without_verdict = 0;
  size_t failed_calls = 0;
  CriterionStatus first_status = CriterionStatus::kOk;
  absl::string_view first_id;
  bool graded_positive = false;
  double soft_score = 0;  // sum(w_i * p_i)
  bool all_soft = true;   // every criterion has a verdict and a P(met)

  for (size_t i = 0; i < rubric.criteria.size(); ++i) {
    const Criterion& c = rubric.criteria[i];
    const Verdict& v = verdicts[i];
    if (v.status == CriterionStatus::kOk) {
      if (v.met) out.score += c.weight;
      if (v.probability.has_value()) {
        soft_score += c.weight * std::clamp(*v.probability, 0.0, 1.0);
      } else {
        all_soft = false;
      }
      if (c.weight > 0) {
        out.max_score += c.weight;
        graded_positive = true;
      }
      continue;
    }
    all_soft = false;
    if (without_verdict++ == 0) {
      first_status = v.status;
      first_id = c.id;
    }
    if (IsFailedCall(v.status)) ++failed_calls;
    // Strict: a missing verdict counts as unmet, so its weight stays in the
    // denominator. Renormalize and invalid leave it out.
    if (options.missing == MissingPolicy::kStrict && c.weight > 0) {
      out.max_score += c.weight;
    }
  }

  auto invalidate = [&](std::string reason) {
    out.valid = false;
    out.reward = 0;
    out.invalid_reason = std::move(reason);
    return out;
  };
  auto describe = [&] {
    return absl::StrCat(without_verdict, " of ", rubric.criteria.size(),
                        " criteria have no verdict (first: '", first_id, "', ",
                        CriterionStatusName(first_status), ")");
  };

  switch (options.missing) {
    case MissingPolicy::kStrict:
      if (failed_calls > 0) {
        return invalidate(absl::StrCat(describe(),
                                       "; failed judge calls are never scored "
                                       "as unmet"));
      }
      break;
    case MissingPolicy::kRenormalize:
      if (!graded_positive) {
        return invalidate(absl::StrCat(
            describe(), "; no positive-weight criterion has a verdict"));
      }
      break;
    case MissingPolicy::kInvalid:
      if (without_verdict > 0) {
        return invalidate(
            absl::StrCat(describe(), "; missing_policy is INVALID"));
      }
      break;
  }

  // The formula over a numerator: sum(w_i * met_i), or sum(w_i * p_i).
  auto apply = [&](double numerator) {
    double r = 0;
    switch (options.formula) {
      case ScoringFormula::kRawSum:
        r = numerator;
        break;
      case ScoringFormula::kHealthBench:
        r = out.max_score > 0 ? numerator / out.max_score : 0;
        if (options.clip) r = std::clamp(r, 0.0, 1.0);
        break;
      case ScoringFormula::kWeightedFraction:
        r = out.max_score > 0 ? numerator / out.max_score : 0;
        r = std::clamp(r, 0.0, 1.0);
        break;
    }
    return r;
  };
  out.reward = apply(out.score);
  if (all_soft && !rubric.criteria.empty()) {
    out.expected_reward = apply(soft_score);
  }
  return out;
}

}  // namespace rewardd
