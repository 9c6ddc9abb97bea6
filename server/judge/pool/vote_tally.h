// Votes: how the verdicts of n samples of one piece of judge work (drawn at
// a temperature above 0 with distinct seeds) become one verdict per
// criterion, with the agreement among the samples.
//
//   std::vector<std::vector<Verdict>> samples = ...;  // n x criteria
//   std::vector<Verdict> v = TallyVotes(samples, VoteAggregation::kMean);
//   if (v[0].status == CriterionStatus::kOk) use(v[0].met, *v[0].agreement);
//
// Per criterion, over the samples with a verdict (status kOk; the others are
// not votes):
//   met         = more than half of them say met. A tie is unmet: a rubric
//                 criterion is credited only when the judge leans to it.
//   agreement   = the share of them that agree with `met` (1 = unanimous;
//                 0.5 = a tie).
//   probability = kMean: the share that say met. kMajority: the mean of the
//                 samples' own P(met) when every one has one (logprobs),
//                 else unset.
//   cached      = every vote came from the cache or in-flight dedup.
// When no sample has a verdict, the criterion has none either: the first
// sample's status and explanation (a failure is never a vote for unmet).
//
// Thread-safety: pure function.
#ifndef REWARDD_SERVER_JUDGE_POOL_VOTE_TALLY_H_
#define REWARDD_SERVER_JUDGE_POOL_VOTE_TALLY_H_

#include <vector>

#include "absl/types/span.h"
#include "server/judge/judge.h"
#include "server/judge/vote_aggregation.h"

namespace rewardd {

// `samples` must be non-empty and each sample parallel to the same
// criteria; the result is parallel to them too.
std::vector<Verdict> TallyVotes(absl::Span<const std::vector<Verdict>> samples,
                                VoteAggregation how);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_VOTE_TALLY_H_
