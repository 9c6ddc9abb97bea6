// Votes in the judge pool: which calls draw a vote's samples, how the
// choices of one call become samples, and how VoteCollector tallies, caches
// and refuses.
#include "server/judge/pool/vote_samples.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

Verdict Met(bool met) {
  Verdict v;
  v.status = CriterionStatus::kOk;
  v.met = met;
  return v;
}

JudgeResult Result(std::vector<Verdict> verdicts,
                   std::vector<std::vector<Verdict>> more = {}) {
  JudgeResult r;
  r.verdicts = std::move(verdicts);
  r.more_samples = std::move(more);
  return r;
}

TEST(PlanVoteSamplesTest, OneCallWithNChoicesOrOneCallPerSeed) {
  HttpJudgeConfig c;
  c.vote_temperature = 0.7;
  c.max_tokens = 64;
  std::vector<VoteSample> via_n = PlanVoteSamples(c, "fp", 5);
  ASSERT_EQ(via_n.size(), 1u);
  EXPECT_EQ(via_n[0].params.n, 5);
  EXPECT_EQ(via_n[0].params.seed, 1);  // no seed configured
  EXPECT_DOUBLE_EQ(via_n[0].params.temperature, 0.7);
  EXPECT_EQ(via_n[0].params.max_tokens, 64);

  c.vote_via_n = false;
  c.seed = 40;
  std::vector<VoteSample> apart = PlanVoteSamples(c, "fp", 3);
  ASSERT_EQ(apart.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(apart[i].params.seed, 40 + i);
    EXPECT_EQ(apart[i].params.n, 1);
  }
  // Samples of different seeds never dedup into one another, nor into a
  // plain call ("fp").
  EXPECT_NE(apart[0].fingerprint, apart[1].fingerprint);
  EXPECT_NE(apart[0].fingerprint, "fp");
  // A tally is cached apart from other vote counts and aggregations.
  EXPECT_NE(VoteFingerprint(c, "fp", 3), VoteFingerprint(c, "fp", 5));
  HttpJudgeConfig mean = c;
  mean.vote_aggregation = VoteAggregation::kMean;
  EXPECT_NE(VoteFingerprint(c, "fp", 3), VoteFingerprint(mean, "fp", 3));
}

TEST(SplitChoicesTest, ChoicesBecomeSamplesAndMissingOnesFail) {
  std::vector<absl::StatusOr<JudgeResult>> samples(3);
  SplitChoices(Result({Met(true)}, {{Met(false)}}), 3, samples);
  ASSERT_TRUE(samples[0].ok());
  EXPECT_TRUE(samples[0]->verdicts[0].met);
  EXPECT_FALSE(samples[1]->verdicts[0].met);
  // The reply had 2 of 3 choices: the third is a failed sample, not a copy.
  EXPECT_EQ(samples[2]->verdicts[0].status, CriterionStatus::kJudgeError);
  EXPECT_THAT(samples[2]->verdicts[0].explanation, HasSubstr("2 of 3"));

  // A call failed as a whole fails every sample the same way.
  Verdict failed;
  failed.status = CriterionStatus::kTimeout;
  SplitChoices(Result({failed}), 3, samples);
  for (const auto& s : samples) {
    EXPECT_EQ(s->verdicts[0].status, CriterionStatus::kTimeout);
  }
  SplitChoices(absl::UnavailableError("down"), 3, samples);
  for (const auto& s : samples) {
    EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  }
}

TEST(VoteCollectorTest, TheLastSampleTalliesAndCaches) {
  auto cache = std::make_shared<VerdictCache>(1 << 20);
  const CacheKey key =
      CacheKey::Base("fp", GradingMode::kAllInOne, "prompt", "response");
  std::optional<absl::StatusOr<JudgeResult>> answer;
  VoteCollector votes(
      3, [&](absl::StatusOr<JudgeResult> r) { answer = std::move(r); },
      VoteAggregation::kMean, cache, {key});
  votes.AddSample(2, Result({Met(true)}));
  votes.AddSample(0, Result({Met(false)}));
  EXPECT_FALSE(answer.has_value());
  votes.AddSample(1, Result({Met(true)}));
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok());
  const Verdict& v = (*answer)->verdicts[0];
  EXPECT_TRUE(v.met);
  EXPECT_DOUBLE_EQ(*v.probability, 2.0 / 3);
  std::optional<Verdict> cached = cache->Lookup(key);
  ASSERT_TRUE(cached.has_value());
  EXPECT_TRUE(cached->met);
}

TEST(VoteCollectorTest, ASampleRefusedWholeRefusesTheGrading) {
  std::optional<absl::StatusOr<JudgeResult>> answer;
  VoteCollector votes(
      2, [&](absl::StatusOr<JudgeResult> r) { answer = std::move(r); },
      VoteAggregation::kMajority, nullptr, {});
  votes.AddSample(0, Result({Met(true)}));
  votes.AddSample(1, absl::DeadlineExceededError("late"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kDeadlineExceeded);

  std::optional<absl::StatusOr<JudgeResult>> by_n;
  VoteCollector choices(
      2, [&](absl::StatusOr<JudgeResult> r) { by_n = std::move(r); },
      VoteAggregation::kMajority, nullptr, {});
  choices.AddChoices(Result({Met(true)}, {{Met(true)}}));
  ASSERT_TRUE(by_n.has_value() && by_n->ok());
  EXPECT_TRUE((*by_n)->verdicts[0].met);
  EXPECT_DOUBLE_EQ(*(*by_n)->verdicts[0].agreement, 1.0);
}

}  // namespace
}  // namespace rewardd
