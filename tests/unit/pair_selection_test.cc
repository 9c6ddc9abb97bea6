// Pair selection: the paper's top-2 rule with repeatable tie-breaking, the
// diverse rule's verdict distance and its score tie-break, invalid scores
// never chosen, and the top statistics the summary reports.
#include "server/elicitation/pair_selection.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

ScoredCandidate S(uint32_t index, double score, std::vector<int> verdicts,
                  bool valid = true) {
  return {index, score, valid, std::move(verdicts)};
}

TEST(PairSelectionTest, Top2TakesTheHighestScoresTiesToTheLowerIndex) {
  const std::vector<ScoredCandidate> c = {S(0, 10, {}), S(1, 18, {}),
                                          S(2, 18, {}), S(3, 25, {}, false),
                                          S(4, 18, {})};
  const std::optional<PairChoice> p = SelectPair(c, PairStrategy::kTop2, 4);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, 1u);  // 3 scores higher but is invalid
  EXPECT_EQ(p->second, 2u);
}

TEST(PairSelectionTest, DiverseTakesTheMostDifferentPairAmongTopK) {
  // Top 3: 0 (20), 1 (19), 2 (18); 3 (5) is outside top_k = 3.
  const std::vector<ScoredCandidate> c = {
      S(0, 20, {1, 1, 1, 0}), S(1, 19, {1, 1, 1, 1}), S(2, 18, {0, 0, 1, 1}),
      S(3, 5, {0, 0, 0, 0})};
  std::optional<PairChoice> p = SelectPair(c, PairStrategy::kTop2Diverse, 3);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, 0u);
  EXPECT_EQ(p->second, 2u);
  EXPECT_EQ(p->differences, 3);
  // Equal distances (0-1 and 1-2 differ once): the higher summed score wins.
  const std::vector<ScoredCandidate> d = {S(0, 20, {1, 0}), S(1, 19, {0, 0}),
                                          S(2, 18, {1, 0})};
  p = SelectPair(d, PairStrategy::kTop2Diverse, 3);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, 0u);
  EXPECT_EQ(p->second, 1u);
  EXPECT_EQ(p->differences, 1);
}

TEST(PairSelectionTest, VerdictsWithoutAnAnswerDoNotCountAsDifferent) {
  EXPECT_EQ(VerdictDifferences({1, -1, 0, 1}, {0, 1, -1, 1}), 1);
  EXPECT_EQ(VerdictDifferences({1, 0}, {0}), 1);
}

TEST(PairSelectionTest, FewerThanTwoValidGivesNoPair) {
  const std::vector<ScoredCandidate> c = {S(0, 3, {}), S(1, 4, {}, false)};
  EXPECT_FALSE(SelectPair(c, PairStrategy::kTop2, 4).has_value());
  EXPECT_FALSE(SelectPair(c, PairStrategy::kTop2Diverse, 4).has_value());
}

TEST(PairSelectionTest, TopStatsCountTiesAndTheGap) {
  TopStats t = ComputeTopStats(
      {S(0, 18, {}), S(1, 18, {}), S(2, 12, {}), S(3, 30, {}, false)});
  EXPECT_EQ(t.top_score, 18);
  EXPECT_EQ(t.tied_at_top, 2u);
  EXPECT_EQ(t.top_pair_gap, 0);
  EXPECT_EQ(t.valid, 3u);
  t = ComputeTopStats({S(0, 25, {}), S(1, 22, {})});
  EXPECT_EQ(t.tied_at_top, 1u);
  EXPECT_EQ(t.top_pair_gap, 3);
}

}  // namespace
}  // namespace rewardd
