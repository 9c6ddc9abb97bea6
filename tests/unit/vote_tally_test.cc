// TallyVotes: majority and mean over vote samples, agreement, ties, and
// failed samples that are never votes.
#include "server/judge/pool/vote_tally.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

Verdict Vote(bool met, std::optional<double> p = std::nullopt,
             std::string why = "") {
  Verdict v;
  v.status = CriterionStatus::kOk;
  v.met = met;
  v.probability = p;
  v.explanation = std::move(why);
  return v;
}

Verdict Failed(CriterionStatus status) {
  Verdict v;
  v.status = status;
  v.explanation = "boom";
  return v;
}

TEST(TallyVotesTest, MajorityWithAgreementAndTiesUnmet) {
  // Two criteria, five samples: 3 of 5 say met; 1 of 5 says met.
  std::vector<std::vector<Verdict>> s = {
      {Vote(true, std::nullopt, "a"), Vote(false, std::nullopt, "b")},
      {Vote(true), Vote(false, std::nullopt, "c")},
      {Vote(false), Vote(true)},
      {Vote(true), Vote(false)},
      {Vote(false), Vote(false)}};
  std::vector<Verdict> t = TallyVotes(s, VoteAggregation::kMajority);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].status, CriterionStatus::kOk);
  EXPECT_TRUE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 3.0 / 5);
  EXPECT_FALSE(t[0].probability.has_value());  // samples had none
  EXPECT_THAT(t[0].explanation, testing::HasSubstr("a (3 of 5 votes)"));
  EXPECT_FALSE(t[1].met);
  EXPECT_DOUBLE_EQ(*t[1].agreement, 4.0 / 5);
  EXPECT_THAT(t[1].explanation, testing::StartsWith("b "));
  // A tie is unmet, with agreement 1/2.
  std::vector<std::vector<Verdict>> tie = {{Vote(true)}, {Vote(false)}};
  t = TallyVotes(tie, VoteAggregation::kMean);
  EXPECT_FALSE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 0.5);
  EXPECT_DOUBLE_EQ(*t[0].probability, 0.5);
}

TEST(TallyVotesTest, MeanIsTheShareOfMetAndMajorityAveragesLogprobs) {
  std::vector<std::vector<Verdict>> s = {
      {Vote(true, 0.9)}, {Vote(true, 0.7)}, {Vote(false, 0.2)}};
  EXPECT_DOUBLE_EQ(*TallyVotes(s, VoteAggregation::kMean)[0].probability,
                   2.0 / 3);
  EXPECT_DOUBLE_EQ(*TallyVotes(s, VoteAggregation::kMajority)[0].probability,
                   (0.9 + 0.7 + 0.2) / 3);
}

TEST(TallyVotesTest, FailedSamplesAreNotVotesAndAllFailedIsNoVerdict) {
  std::vector<std::vector<Verdict>> s = {
      {Failed(CriterionStatus::kTimeout), Failed(CriterionStatus::kJudgeError)},
      {Vote(false), Failed(CriterionStatus::kJudgeError)},
      {Vote(false), Failed(CriterionStatus::kParseError)}};
  std::vector<Verdict> t = TallyVotes(s, VoteAggregation::kMean);
  EXPECT_EQ(t[0].status, CriterionStatus::kOk);
  EXPECT_FALSE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 1.0);  // 2 of the 2 valid votes
  EXPECT_THAT(t[0].explanation, testing::HasSubstr("1 failed"));
  // No valid vote: a failure, never an unmet verdict.
  EXPECT_EQ(t[1].status, CriterionStatus::kJudgeError);
  EXPECT_FALSE(t[1].agreement.has_value());
  EXPECT_THAT(t[1].explanation, testing::HasSubstr("none of 3"));
}

}  // namespace
}  // namespace rewardd
