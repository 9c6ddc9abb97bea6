// How the verdicts of a judge's vote samples become one verdict per
// criterion: a judge config value (HttpJudgeConfig::vote_aggregation) that
// the tally (server/judge/pool/vote_tally.h) reads. In its own header so the
// tally depends on this enum only, not on the whole judge config.
//
//   std::vector<Verdict> v = TallyVotes(samples, VoteAggregation::kMean);
//
// Thread-safety: a plain enum.
#ifndef REWARDD_SERVER_JUDGE_VOTE_AGGREGATION_H_
#define REWARDD_SERVER_JUDGE_VOTE_AGGREGATION_H_

namespace rewardd {

enum class VoteAggregation {
  kMajority = 0,  // met iff more than half of the valid samples say met
  kMean,          // the same, and probability = the share of "met" samples
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_VOTE_AGGREGATION_H_
