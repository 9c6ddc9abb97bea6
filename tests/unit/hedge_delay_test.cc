// HedgeDelay: a fixed delay, or the percentile of recorded call times once
// enough were seen (the fixed delay its floor); off when neither is set.
#include "server/judge/pool/hedge_delay.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

TEST(HedgeDelayTest, FixedDelayOrOff) {
  EXPECT_EQ(HedgeDelay(absl::ZeroDuration(), 0).Current(),
            absl::InfiniteDuration());
  HedgeDelay fixed(absl::Milliseconds(200), 0);
  fixed.Record(absl::Seconds(5));  // no percentile: calls are not recorded
  EXPECT_EQ(fixed.Current(), absl::Milliseconds(200));
}

TEST(HedgeDelayTest, PercentileIsLearnedAfterEnoughCalls) {
  HedgeDelay p90(absl::ZeroDuration(), 90);
  // Calls of 1..19 ms: not enough yet, so no hedging.
  for (int ms = 1; ms < static_cast<int>(HedgeDelay::kMinSamples); ++ms) {
    p90.Record(absl::Milliseconds(ms));
    EXPECT_EQ(p90.Current(), absl::InfiniteDuration()) << ms;
  }
  // The 20th: the 90th percentile of 1..20 ms is 18 ms.
  p90.Record(absl::Milliseconds(20));
  EXPECT_EQ(p90.Current(), absl::Milliseconds(18));
  // Recomputed every kRecomputeEvery calls, not on each.
  for (uint64_t i = HedgeDelay::kMinSamples + 1; i < 32; ++i) {
    p90.Record(absl::Seconds(1));
  }
  EXPECT_EQ(p90.Current(), absl::Milliseconds(18));
  p90.Record(absl::Seconds(1));  // the 32nd
  EXPECT_EQ(p90.Current(), absl::Seconds(1));
}

TEST(HedgeDelayTest, FixedDelayIsTheFloorOfThePercentile) {
  HedgeDelay floored(absl::Milliseconds(50), 50);
  EXPECT_EQ(floored.Current(), absl::Milliseconds(50));  // not learned yet
  for (uint64_t i = 0; i < HedgeDelay::kMinSamples; ++i) {
    floored.Record(absl::Milliseconds(10));
  }
  EXPECT_EQ(floored.Current(), absl::Milliseconds(50));
  for (uint64_t i = 0; i < 2 * HedgeDelay::kRing; ++i) {
    floored.Record(absl::Milliseconds(80));
  }
  // The ring keeps the last kRing calls: the old 10 ms ones are gone.
  EXPECT_EQ(floored.Current(), absl::Milliseconds(80));
}

}  // namespace
}  // namespace rewardd
