// SummarizeGroup (ties, zero variance, invalid results) and the
// SaturationTracker's bounded, decaying ranking, on an injected clock.
#include "server/grading/saturation_tracker.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/grading/group_saturation.h"
#include "tests/unit/saturation_test_support.h"

namespace rewardd {
namespace {

using ::rewardd::testing::FakeClock;
using ::rewardd::testing::MakeGroup;
using ::rewardd::testing::TestGroup;

GroupSaturation Summary(const TestGroup& g) {
  return SummarizeGroup(g.results, 1.0);
}

TEST(GroupSaturationTest, AllAtMaxIsZeroVarianceAndSaturated) {
  const GroupSaturation s = Summary(MakeGroup("s", "r", {1.0, 1.0, 1.0, 1.0}));
  EXPECT_EQ(s.valid, 4u);
  EXPECT_EQ(s.at_max, 4u);
  EXPECT_EQ(s.tied_at_top, 4u);
  EXPECT_TRUE(s.zero_variance);
  EXPECT_TRUE(s.tied_at_max);
  EXPECT_TRUE(s.saturated);
  EXPECT_TRUE(s.has_gap);
  EXPECT_DOUBLE_EQ(s.top2_gap, 0);
}

TEST(GroupSaturationTest, TwoAtMaxAmongOthersIsTiedNotZeroVariance) {
  const GroupSaturation s = Summary(MakeGroup("s", "r", {0.5, 1.0, 0.25, 1.0}));
  EXPECT_EQ(s.at_max, 2u);
  EXPECT_FALSE(s.zero_variance);
  EXPECT_TRUE(s.tied_at_max);
  EXPECT_TRUE(s.saturated);
  EXPECT_DOUBLE_EQ(s.top2_gap, 0);
}

TEST(GroupSaturationTest, EqualBelowMaxIsZeroVarianceNotSaturated) {
  const GroupSaturation s = Summary(MakeGroup("s", "r", {0.5, 0.5, 0.5}));
  EXPECT_TRUE(s.zero_variance);
  EXPECT_EQ(s.tied_at_top, 3u);
  EXPECT_EQ(s.at_max, 0u);
  EXPECT_FALSE(s.tied_at_max);
  EXPECT_FALSE(s.saturated);
}

TEST(GroupSaturationTest, UniqueTopGivesTheGapToTheSecond) {
  const GroupSaturation s = Summary(MakeGroup("s", "r", {0.25, 1.0, 0.75}));
  EXPECT_FALSE(s.saturated);
  EXPECT_FALSE(s.zero_variance);
  EXPECT_EQ(s.tied_at_top, 1u);
  EXPECT_EQ(s.at_max, 1u);
  EXPECT_DOUBLE_EQ(s.top2_gap, 0.25);
}

TEST(GroupSaturationTest, InvalidResultsNeverCountAsMetOrTied) {
  // Two invalid responses (judge errors, reward 0 as scored) and one valid
  // at the max: fewer than two valid, so nothing is tied or saturated.
  const GroupSaturation s =
      Summary(MakeGroup("s", "r", {std::nullopt, 1.0, std::nullopt}));
  EXPECT_EQ(s.responses, 3u);
  EXPECT_EQ(s.valid, 1u);
  EXPECT_EQ(s.at_max, 1u);
  EXPECT_FALSE(s.zero_variance);
  EXPECT_FALSE(s.tied_at_max);
  EXPECT_FALSE(s.saturated);
  EXPECT_FALSE(s.has_gap);
}

TEST(GroupSaturationTest, InvalidResultWithMaxRewardIsIgnored) {
  TestGroup g = MakeGroup("s", "r", {1.0, 0.5});
  // An invalid result must not count even if its reward field says 1.
  g.results[1].score.valid = false;
  g.results[1].score.reward = 1.0;
  const GroupSaturation s = Summary(g);
  EXPECT_EQ(s.valid, 1u);
  EXPECT_FALSE(s.saturated);
}

TEST(GroupSaturationTest, SingleResponseAndEmptyGroup) {
  EXPECT_FALSE(Summary(MakeGroup("s", "r", {1.0})).saturated);
  EXPECT_FALSE(Summary(MakeGroup("s", "r", {1.0})).zero_variance);
  const GroupSaturation empty = Summary(MakeGroup("s", "r", {}));
  EXPECT_EQ(empty.valid, 0u);
  EXPECT_FALSE(empty.saturated);
}

TEST(GroupSaturationTest, RawSumMaxIsTheGivenMaximum) {
  TestGroup g = MakeGroup("s", "r", {3.0, 3.0});
  EXPECT_FALSE(SummarizeGroup(g.results, 4.0).saturated);
  EXPECT_TRUE(SummarizeGroup(g.results, 3.0).saturated);
}

SaturationTrackerOptions Options(FakeClock* clock, size_t max_rubrics) {
  SaturationTrackerOptions o;
  o.max_rubrics = max_rubrics;
  o.half_life = absl::Minutes(10);
  o.clock = [clock] { return clock->Now(); };
  return o;
}

void Feed(SaturationTracker& tracker, const TestGroup& g) {
  tracker.Record(g.View(), SummarizeGroup(g.results, 1.0));
}

TEST(SaturationTrackerTest, CountsOnlyRubricsThatSaturated) {
  FakeClock clock;
  SaturationTracker tracker(Options(&clock, 16));
  const TestGroup saturated = MakeGroup("med", "hot", {1.0, 1.0, 0.5});
  const TestGroup separated = MakeGroup("med", "cold", {1.0, 0.5, 0.25});
  Feed(tracker, separated);
  Feed(tracker, saturated);
  Feed(tracker, saturated);
  const TestGroup hot_separated = MakeGroup("med", "hot", {1.0, 0.5});
  Feed(tracker, hot_separated);
  ASSERT_EQ(tracker.size(), 1u);
  const std::vector<SaturatedRubric> top = tracker.Top(10);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].rubric_set, "med");
  EXPECT_EQ(top[0].rubric_id, "hot");
  EXPECT_EQ(top[0].rubric_version, "v-hot");
  EXPECT_EQ(top[0].set_version, "setv1");
  EXPECT_EQ(top[0].saturated_groups, 2u);
  EXPECT_EQ(top[0].groups, 3u);
  EXPECT_EQ(top[0].last_saturated, clock.Now());
  EXPECT_DOUBLE_EQ(top[0].score, 2.0);
}

TEST(SaturationTrackerTest, DecayRanksRecentAboveOld) {
  FakeClock clock;
  SaturationTracker tracker(Options(&clock, 16));
  for (int i = 0; i < 3; ++i) Feed(tracker, MakeGroup("s", "old", {1.0, 1.0}));
  clock.Advance(absl::Minutes(30));  // three half-lives: 3 -> 0.375
  Feed(tracker, MakeGroup("s", "new", {1.0, 1.0}));
  const std::vector<SaturatedRubric> top = tracker.Top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].rubric_id, "new");
  EXPECT_DOUBLE_EQ(top[0].score, 1.0);
  EXPECT_EQ(top[1].rubric_id, "old");
  EXPECT_NEAR(top[1].score, 0.375, 1e-9);
  EXPECT_EQ(top[1].saturated_groups, 3u);
}

TEST(SaturationTrackerTest, TopKAndTableAreBounded) {
  FakeClock clock;
  SaturationTracker tracker(Options(&clock, 4));
  for (int i = 0; i < 10; ++i) {
    // Earlier rubrics saturate more often, so they outrank later ones.
    for (int n = 0; n < 20 - i; ++n) {
      Feed(tracker, MakeGroup("s", absl::StrCat("r", i), {1.0, 1.0}));
    }
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(tracker.size(), 4u);
  EXPECT_EQ(tracker.Top(2).size(), 2u);
  const std::vector<SaturatedRubric> all = tracker.Top(100);
  ASSERT_EQ(all.size(), 4u);
  // Each newcomer evicted the lowest-scored entry: the newest always enters.
  EXPECT_EQ(all.back().rubric_id, "r9");
  EXPECT_EQ(all.front().rubric_id, "r0");
}

TEST(SaturationTrackerTest, FiltersBySetAndCountsInlineRubrics) {
  FakeClock clock;
  SaturationTracker tracker(Options(&clock, 16));
  Feed(tracker, MakeGroup("a", "x", {1.0, 1.0}));
  Feed(tracker, MakeGroup("b", "x", {1.0, 1.0}));
  Feed(tracker, MakeGroup("", "inline", {1.0, 1.0}));
  ASSERT_EQ(tracker.Top(10, "a").size(), 1u);
  EXPECT_EQ(tracker.Top(10, "a")[0].rubric_set, "a");
  ASSERT_EQ(tracker.Top(10, "_inline").size(), 1u);
  EXPECT_EQ(tracker.Top(10, "_inline")[0].rubric_id, "inline");
  EXPECT_EQ(tracker.Top(10).size(), 3u);
  EXPECT_TRUE(tracker.Top(10, "missing").empty());
}

TEST(SaturationTrackerTest, ZeroCapacityKeepsNothing) {
  FakeClock clock;
  SaturationTracker tracker(Options(&clock, 0));
  Feed(tracker, MakeGroup("a", "x", {1.0, 1.0}));
  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_TRUE(tracker.Top(10).empty());
}

}  // namespace
}  // namespace rewardd
