#include "server/judge/pool/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace rewardd {

TokenBucket::TokenBucket(double per_minute, absl::Duration burst,
                         absl::Time now)
    : last_(now) {
  if (per_minute <= 0) return;
  rate_per_s_ = per_minute / 60.0;
  // At least one unit, so a limit below one a `burst` still lets calls out.
  capacity_ = std::max(1.0, rate_per_s_ * absl::ToDoubleSeconds(burst));
  level_ = capacity_;
}

void TokenBucket::Refill(absl::Time now) {
  if (now <= last_) return;
  level_ = std::min(capacity_,
                    level_ + rate_per_s_ * absl::ToDoubleSeconds(now - last_));
  last_ = now;
}

double TokenBucket::level(absl::Time now) {
  Refill(now);
  return level_;
}

absl::Time TokenBucket::ReadyAt(double n, absl::Time now) {
  if (!limited()) return now;
  Refill(now);
  // A call larger than the bucket waits for a full bucket, then overdraws.
  const double need = std::min(n, capacity_);
  if (level_ >= need) return now;
  // Round up to a millisecond so the timer never wakes a hair too early and
  // spins (the loop's timers have millisecond resolution anyway).
  const double seconds = (need - level_) / rate_per_s_;
  return now + absl::Milliseconds(std::ceil(seconds * 1000) + 1);
}

void TokenBucket::Take(double n, absl::Time now) {
  if (!limited()) return;
  Refill(now);
  level_ -= n;
}

void TokenBucket::Give(double n, absl::Time now) {
  if (!limited()) return;
  Refill(now);
  level_ = std::min(capacity_, level_ + n);
}

RateLimiter::RateLimiter(double requests_per_minute, double tokens_per_minute,
                         absl::Duration burst, absl::Time now)
    : requests_(requests_per_minute, burst, now),
      tokens_(tokens_per_minute, burst, now) {}

absl::Time RateLimiter::ReadyAt(double tokens, absl::Time now) {
  return std::max(requests_.ReadyAt(1, now), tokens_.ReadyAt(tokens, now));
}

void RateLimiter::Take(double tokens, absl::Time now) {
  requests_.Take(1, now);
  tokens_.Take(tokens, now);
}

void RateLimiter::Correct(double estimated, double actual, absl::Time now) {
  if (actual > estimated) {
    tokens_.Take(actual - estimated, now);
  } else {
    tokens_.Give(estimated - actual, now);
  }
}

}  // namespace rewardd
