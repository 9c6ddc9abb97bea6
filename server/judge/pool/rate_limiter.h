// Requests-per-minute and tokens-per-minute limits of one judge, for hosted
// APIs that answer 429 beyond them: two token buckets that the worker pool
// consults before it starts a call. A call's tokens are estimated before it
// starts (prompt bytes / 4) and corrected from the answer's `usage` after.
//
//   RateLimiter limits(/*requests_per_minute=*/500, /*tokens_per_minute=*/
//                      200000, /*burst=*/absl::Seconds(1), absl::Now());
//   absl::Time ready = limits.ReadyAt(est_tokens, now);
//   if (ready <= now) limits.Take(est_tokens, now); else wake up at `ready`
//   ...
//   limits.Correct(est_tokens, usage.prompt + usage.completion, now);
//
// Each bucket refills continuously at limit / 60 s and holds `burst` worth
// of refill (at least one request or call). A call larger than the bucket
// starts when the bucket is full and drives it below zero, so later calls
// wait for the debt: the long-run rate never exceeds the limit, however the
// calls are sized. A limit of 0 disables its bucket.
//
// Thread-safety: none; the pool calls it under its own mutex. Times are
// passed in, so tests need no clock.
#ifndef REWARDD_SERVER_JUDGE_POOL_RATE_LIMITER_H_
#define REWARDD_SERVER_JUDGE_POOL_RATE_LIMITER_H_

#include "absl/time/time.h"

namespace rewardd {

class TokenBucket {
 public:
  // `per_minute` <= 0: unlimited.
  TokenBucket(double per_minute, absl::Duration burst, absl::Time now);

  bool limited() const { return rate_per_s_ > 0; }
  // When `n` can be taken (`now` if it can now).
  absl::Time ReadyAt(double n, absl::Time now);
  // Takes `n` (may leave the level negative).
  void Take(double n, absl::Time now);
  // Adds `n` back (a correction; capped at the capacity).
  void Give(double n, absl::Time now);
  double level(absl::Time now);

 private:
  void Refill(absl::Time now);

  double rate_per_s_ = 0;
  double capacity_ = 0;
  double level_ = 0;
  absl::Time last_;
};

class RateLimiter {
 public:
  RateLimiter(double requests_per_minute, double tokens_per_minute,
              absl::Duration burst, absl::Time now);

  bool enabled() const { return requests_.limited() || tokens_.limited(); }
  bool limits_tokens() const { return tokens_.limited(); }

  // The earliest time a call estimated at `tokens` may start.
  absl::Time ReadyAt(double tokens, absl::Time now);
  // Starts a call: one request and `tokens`.
  void Take(double tokens, absl::Time now);
  // Replaces a started call's estimate by what its answer's usage says.
  void Correct(double estimated, double actual, absl::Time now);

  // For stats and tests.
  double tokens_available(absl::Time now) { return tokens_.level(now); }
  double requests_available(absl::Time now) { return requests_.level(now); }

 private:
  TokenBucket requests_;
  TokenBucket tokens_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_RATE_LIMITER_H_
