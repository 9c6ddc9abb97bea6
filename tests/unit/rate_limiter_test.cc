// RateLimiter and TokenBucket: pacing at the rate, overdraft by large
// calls, corrections from usage, with times passed in.
#include "server/judge/pool/rate_limiter.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

TEST(TokenBucketTest, PacesAtTheRateAndOverdrawsForLargeCalls) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  // 120 a minute = 2 a second; a burst of 1 s holds 2.
  RateLimiter limits(120, 0, absl::Seconds(1), t0);
  EXPECT_TRUE(limits.enabled());
  EXPECT_FALSE(limits.limits_tokens());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(limits.ReadyAt(0, t0), t0);
    limits.Take(0, t0);
  }
  // The third waits half a second (rounded up to the next millisecond).
  const absl::Time ready = limits.ReadyAt(0, t0);
  EXPECT_GE(ready, t0 + absl::Milliseconds(500));
  EXPECT_LE(ready, t0 + absl::Milliseconds(502));
  EXPECT_EQ(limits.ReadyAt(0, ready), ready);

  // Tokens: 6000 a minute = 100/s, bucket 100. A 1000-token call starts on
  // a full bucket and leaves a debt of 900: the next waits ~10 s.
  RateLimiter tokens(0, 6000, absl::Seconds(1), t0);
  ASSERT_EQ(tokens.ReadyAt(1000, t0), t0);
  tokens.Take(1000, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -900);
  EXPECT_GE(tokens.ReadyAt(50, t0), t0 + absl::Milliseconds(9500));
  // The answer's usage said 400 tokens: 600 come back.
  tokens.Correct(1000, 400, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -300);
  // Usage above the estimate deepens the debt.
  tokens.Correct(100, 300, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -500);
  // Refill is capped at the bucket.
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0 + absl::Minutes(5)), 100);
  // Unlimited buckets never wait.
  RateLimiter off(0, 0, absl::Seconds(1), t0);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.ReadyAt(1e9, t0), t0);
}

}  // namespace
}  // namespace rewardd
