// How long a judge pool waits before it hedges a call in flight
// (JudgePoolOptions::hedge_delay, hedge_after_percentile): a fixed delay,
// or the percentile of the pool's recent successful call times once enough
// were recorded (with the fixed delay as its floor). Before then a
// percentile-only pool does not hedge.
//
//   HedgeDelay delay(options.hedge_delay, options.hedge_after_percentile);
//   delay.Record(result.elapsed);          // each successful call
//   absl::Duration d = delay.Current();    // InfiniteDuration: no hedging
//
// Thread-safety: none; JudgePool guards it with its mutex.
#ifndef REWARDD_SERVER_JUDGE_POOL_HEDGE_DELAY_H_
#define REWARDD_SERVER_JUDGE_POOL_HEDGE_DELAY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace rewardd {

class HedgeDelay {
 public:
  // Successful call times kept, how many must be seen before the
  // percentile is used, and how often it is recomputed.
  static constexpr size_t kRing = 256;
  static constexpr uint64_t kMinSamples = 20;
  static constexpr uint64_t kRecomputeEvery = 16;

  // `fixed` 0 and `percentile` 0: never hedge. `percentile` in [0, 100).
  HedgeDelay(absl::Duration fixed, double percentile);

  // A successful call's time (a no-op without a percentile).
  void Record(absl::Duration elapsed);
  // The current delay; InfiniteDuration when hedging is off or its
  // percentile is not known yet.
  absl::Duration Current() const;

 private:
  const absl::Duration fixed_;
  const double percentile_;
  // Call times in microseconds, a ring, and their percentile.
  std::vector<int64_t> ring_;
  uint64_t count_ = 0;
  absl::Duration learned_ = absl::InfiniteDuration();
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_HEDGE_DELAY_H_
