#include "server/grading/scoring.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace rewardd {
namespace {

bool IsFailedCall(CriterionStatus s) {
  return s == CriterionStatus::kJudgeError || s == CriterionStatus::kTimeout ||
         s == CriterionStatus::kSkipped;
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

  for (size_t i = 0; i < rubric.criteria.size(); ++i) {
    const Criterion& c = rubric.criteria[i];
    const Verdict& v = verdicts[i];
    if (v.status == CriterionStatus::kOk) {
      if (v.met) out.score += c.weight;
      if (c.weight > 0) {
        out.max_score += c.weight;
        graded_positive = true;
      }
      continue;
    }
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

  switch (options.formula) {
    case ScoringFormula::kRawSum:
      out.reward = out.score;
      break;
    case ScoringFormula::kHealthBench:
      out.reward = out.max_score > 0 ? out.score / out.max_score : 0;
      if (options.clip) out.reward = std::clamp(out.reward, 0.0, 1.0);
      break;
    case ScoringFormula::kWeightedFraction:
      out.reward = out.max_score > 0 ? out.score / out.max_score : 0;
      out.reward = std::clamp(out.reward, 0.0, 1.0);
      break;
  }
  return out;
}

}  // namespace rewardd
