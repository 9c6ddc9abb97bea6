// A grading by vote in a judge pool (GradeOptions.votes > 1): which calls
// draw its samples, and how their answers are collected and tallied into
// one answer (vote_tally.h) that is cached under the vote's own key.
//
//   for (const VoteSample& s : PlanVoteSamples(config, fingerprint, votes))
//     ... enqueue one call with s.params, dedup keys scoped by s.fingerprint
//   auto votes = std::make_shared<VoteCollector>(n, std::move(done), how,
//                                                cache, std::move(keys));
//   // each call's callback: votes->AddSample(i, r), or, for the one call
//   // drawing all samples as choices: votes->AddChoices(r)
//
// Thread-safety: PlanVoteSamples and SplitChoices are pure. A
// VoteCollector's AddSample may be called concurrently for distinct
// samples; the last one to arrive tallies and answers, once.
#ifndef REWARDD_SERVER_JUDGE_POOL_VOTE_SAMPLES_H_
#define REWARDD_SERVER_JUDGE_POOL_VOTE_SAMPLES_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/judge.h"
#include "server/judge/pool/verdict_cache.h"
#include "server/judge/vote_aggregation.h"

namespace rewardd {

// How one call of a vote differs from a plain call.
struct VoteSample {
  std::string fingerprint;  // scopes its dedup keys; samples are never cached
  CallParams params;
};

// The calls that draw `votes` samples at the judge's vote_temperature: one
// call asking for `votes` choices (vote_via_n; seed `seed`, 1 when unset),
// else `votes` calls with seeds seed, seed + 1, ... `fingerprint`: the
// pool's cache fingerprint.
std::vector<VoteSample> PlanVoteSamples(const HttpJudgeConfig& config,
                                        absl::string_view fingerprint,
                                        int votes);

// What the tallied verdicts of `votes` samples are cached under: a 5-vote
// verdict is not a single call's, nor a 3-vote one's.
std::string VoteFingerprint(const HttpJudgeConfig& config,
                            absl::string_view fingerprint, int votes);

// The samples of a vote drawn as the choices of one call: `samples[i]` gets
// choice i. A call refused or failed as a whole fails every sample the same
// way; choices the reply lacks are failed samples, never copies of the ones
// it has (they would be made-up agreeing votes). `samples` has `votes` slots.
void SplitChoices(absl::StatusOr<JudgeResult> r, int votes,
                  std::vector<absl::StatusOr<JudgeResult>>& samples);

class VoteCollector {
 public:
  // `keys`: the cache keys of the tallied verdicts (empty: not cached);
  // `cache` may be null.
  VoteCollector(int votes, JudgeCallback done, VoteAggregation how,
                std::shared_ptr<VerdictCache> cache,
                std::vector<CacheKey> keys);

  // Sample `i` answered; the last of them tallies and calls `done`.
  void AddSample(int i, absl::StatusOr<JudgeResult> r);
  // The one call drawing every sample as a choice answered.
  void AddChoices(absl::StatusOr<JudgeResult> r);

 private:
  // A sample refused as a whole refuses the grading; else the tally.
  void TallyAndAnswer();

  JudgeCallback done_;
  const VoteAggregation how_;
  const std::shared_ptr<VerdictCache> cache_;
  const std::vector<CacheKey> keys_;
  // Slot i is written only by sample i's callback; `remaining_` orders the
  // writes before the tally.
  std::vector<absl::StatusOr<JudgeResult>> samples_;
  std::atomic<int> remaining_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_VOTE_SAMPLES_H_
