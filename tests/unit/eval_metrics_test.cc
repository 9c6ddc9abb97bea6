// The figures of `reward-cli eval-rubrics` (client/cli/eval_metrics.h):
// accuracy and ties over pairs graded without error, the top quartile
// chosen by the first set and measured on the same pairs for every set,
// and the group counts.
#include "client/cli/eval_metrics.h"

#include <vector>

#include "gtest/gtest.h"

namespace rewardd::cli {
namespace {

PairOutcome Pair(double chosen, double rejected) {
  return {false, chosen, rejected};
}

TEST(EvalMetricsTest, AccuracyTiesAndErrorsApart) {
  const std::vector<std::vector<PairOutcome>> outcomes = {
      {Pair(0.9, 0.9), Pair(0.9, 0.9), Pair(0.5, 0.2), Pair(0.1, 0.4),
       PairOutcome{}},
      {Pair(0.9, 0.7), Pair(0.8, 0.9), Pair(0.5, 0.5), Pair(0.3, 0.1),
       Pair(0.6, 0.2)}};
  const std::vector<PairStats> s = ComputePairStats(outcomes);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].pairs, 5);
  EXPECT_EQ(s[0].errors, 1);  // not a tie
  EXPECT_EQ(s[0].ties, 2);
  EXPECT_DOUBLE_EQ(s[0].accuracy, 1.0 / 4);
  EXPECT_DOUBLE_EQ(s[0].tie_rate, 2.0 / 4);
  EXPECT_EQ(s[1].errors, 0);
  EXPECT_DOUBLE_EQ(s[1].accuracy, 3.0 / 5);
  EXPECT_DOUBLE_EQ(s[1].tie_rate, 1.0 / 5);
  // The first set's chosen rewards 0.1, 0.5, 0.9, 0.9: the 75th percentile
  // is 0.9, so the tail is the two tied pairs, for both sets.
  EXPECT_EQ(s[0].top_quartile_pairs, 2);
  EXPECT_DOUBLE_EQ(s[0].top_quartile_accuracy, 0);
  EXPECT_EQ(s[1].top_quartile_pairs, 2);
  EXPECT_DOUBLE_EQ(s[1].top_quartile_accuracy, 0.5);
}

TEST(EvalMetricsTest, AllErrorsGiveZeroRatesNotDivisionByZero) {
  const std::vector<PairStats> s =
      ComputePairStats({{PairOutcome{}, PairOutcome{}}});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].errors, 2);
  EXPECT_EQ(s[0].accuracy, 0);
  EXPECT_EQ(s[0].tie_rate, 0);
  EXPECT_EQ(s[0].top_quartile_pairs, 0);
}

TEST(EvalMetricsTest, GroupsTiedSeparatedZeroVarianceAndErrors) {
  std::vector<GroupOutcome> groups = {
      {false, {0.9, 0.9, 0.5}},           // tied at the top
      {false, {0.9, 0.7, std::nullopt}},  // separated
      {false, {0.4, 0.4}},                // tied and zero variance
      {false, {0.4, std::nullopt}},       // one valid reward: error
      GroupOutcome{},                     // the call failed: error
  };
  const GroupStats s = ComputeGroupStats(groups);
  EXPECT_EQ(s.groups, 5);
  EXPECT_EQ(s.tied_top, 2);
  EXPECT_EQ(s.separated, 1);
  EXPECT_EQ(s.zero_variance, 1);
  EXPECT_EQ(s.errors, 2);
}

}  // namespace
}  // namespace rewardd::cli
