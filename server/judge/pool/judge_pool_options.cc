#include "server/judge/pool/judge_pool_options.h"

namespace rewardd {

absl::Status ValidateJudgePoolOptions(const JudgePoolOptions& o) {
  if (o.max_queue_size == 0 || o.max_in_flight_per_replica <= 0 ||
      o.max_attempts <= 0 || o.breaker_failures <= 0 ||
      o.sweep_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "max_queue_size, max_in_flight_per_replica, max_attempts, "
        "breaker_failures and sweep_interval_ms must be positive");
  }
  if (o.max_votes < 1 || o.requests_per_minute < 0 || o.tokens_per_minute < 0 ||
      o.rate_limit_burst < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "max_votes must be positive; requests_per_minute, "
        "tokens_per_minute and rate_limit_burst_ms must be >= 0");
  }
  if (o.backoff_jitter < 0 || o.backoff_jitter >= 1) {
    return absl::InvalidArgumentError("backoff_jitter must be in [0, 1)");
  }
  if (o.max_queue_delay < absl::ZeroDuration() || o.max_batch_size < 1) {
    return absl::InvalidArgumentError(
        "max_queue_delay_ms must be >= 0 and max_batch_size >= 1");
  }
  if (o.hedge_delay < absl::ZeroDuration() || o.hedge_after_percentile < 0 ||
      o.hedge_after_percentile >= 100 || o.max_hedge_ratio < 0 ||
      o.max_hedge_ratio > 1 || !(o.max_hedge_burst >= 1)) {
    return absl::InvalidArgumentError(
        "hedge_delay_ms must be >= 0, hedge_after_percentile in [0, "
        "100), max_hedge_ratio in [0, 1] and max_hedge_burst >= 1");
  }
  return absl::OkStatus();
}

}  // namespace rewardd
