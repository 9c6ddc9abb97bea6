#include "server/judge/pool/vote_tally.h"

#include "absl/strings/str_cat.h"

namespace rewardd {

std::vector<Verdict> TallyVotes(absl::Span<const std::vector<Verdict>> samples,
                                VoteAggregation how) {
  std::vector<Verdict> out;
  if (samples.empty()) return out;
  const size_t criteria = samples[0].size();
  out.resize(criteria);
  for (size_t i = 0; i < criteria; ++i) {
    int valid = 0, yes = 0, with_p = 0;
    double p_sum = 0;
    bool all_cached = true;
    for (const std::vector<Verdict>& s : samples) {
      const Verdict& v = s[i];
      if (v.status != CriterionStatus::kOk) continue;
      ++valid;
      yes += v.met ? 1 : 0;
      all_cached = all_cached && v.cached;
      if (v.probability.has_value()) {
        ++with_p;
        p_sum += *v.probability;
      }
    }
    Verdict& t = out[i];
    const int n = static_cast<int>(samples.size());
    if (valid == 0) {
      t = samples[0][i];
      t.explanation = absl::StrCat(t.explanation, " (none of ", n,
                                   " vote samples gave a verdict)");
      continue;
    }
    t.status = CriterionStatus::kOk;
    t.met = 2 * yes > valid;  // a tie is unmet
    const int agree = t.met ? yes : valid - yes;
    t.agreement = static_cast<double>(agree) / valid;
    if (how == VoteAggregation::kMean) {
      t.probability = static_cast<double>(yes) / valid;
    } else if (with_p == valid) {
      t.probability = p_sum / valid;
    }
    t.cached = all_cached;
    for (const std::vector<Verdict>& s : samples) {
      if (s[i].status == CriterionStatus::kOk && s[i].met == t.met) {
        t.explanation = s[i].explanation;
        break;
      }
    }
    absl::StrAppend(&t.explanation, t.explanation.empty() ? "" : " ", "(",
                    agree, " of ", valid, " votes");
    if (valid < n) absl::StrAppend(&t.explanation, "; ", n - valid, " failed");
    t.explanation.push_back(')');
  }
  return out;
}

}  // namespace rewardd
