// The knobs of one HTTP judge's worker pool (JudgePool), with their
// defaults, and the one function that checks them. The judges config file
// sets them in a judge's "pool" object under the same names (durations in
// milliseconds with an _ms suffix); docs/judges.md says when to change them.
//
//   JudgePoolOptions o;            // the defaults below
//   o.max_in_flight_per_replica = 256;
//   absl::Status s = ValidateJudgePoolOptions(o);  // JudgePool::Create and
//                                                  // the config reader call it
//
// Thread-safety: a plain value.
#ifndef REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_OPTIONS_H_
#define REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_OPTIONS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace rewardd {

struct JudgePoolOptions {
  // ---- Queue and replicas -------------------------------------------------

  // Calls waiting for a replica slot, plus calls held in a batching window.
  // When full, Grade() refuses at once with RESOURCE_EXHAUSTED and a retry
  // hint, and nothing already queued is lost. Size it to absorb a burst (a
  // few training steps' worth of calls): a longer queue only adds latency
  // once the judge is saturated.
  size_t max_queue_size = 4096;

  // Concurrent calls to one replica. Set it to what the replica serves
  // concurrently at full throughput (vLLM's --max-num-seqs): more only
  // queues on the server, where rewardd can neither reorder nor cancel it.
  // Throughput is about replicas * max_in_flight_per_replica / latency.
  int max_in_flight_per_replica = 64;

  // A prompt's calls stay on their affinity replica (warm prefix cache)
  // unless it has this many more calls in flight than the least busy
  // replica. 0 = pure least-outstanding; large = pure affinity.
  int affinity_slack = 4;

  // ---- Retries (connection errors, 429 and 5xx) ---------------------------

  // Tries per call. Hosted APIs that rate-limit want more attempts and
  // longer backoff.
  int max_attempts = 4;

  // Backoff before retry k: initial_backoff * backoff_multiplier^(k-1),
  // capped at max_backoff, times a random factor in 1 +- backoff_jitter so
  // that clients do not retry in step. Jitter is in [0, 1).
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double backoff_multiplier = 2;
  absl::Duration max_backoff = absl::Seconds(5);
  double backoff_jitter = 0.5;

  // A Retry-After header raises the backoff (and cools a replica that
  // answered 429 down) for at most this long.
  absl::Duration max_retry_after = absl::Seconds(30);

  // ---- Circuit breaker ----------------------------------------------------

  // A replica that fails this many calls in a row gets no calls for
  // breaker_open_time, then one probe. When every replica is open, calls
  // fail at once (JUDGE_ERROR) instead of waiting on a judge that is down.
  int breaker_failures = 5;
  absl::Duration breaker_open_time = absl::Seconds(5);

  // ---- Deadlines, cancellation, dedup -------------------------------------

  // A call whose deadline is closer than this is not started (TIMEOUT).
  // Raise it towards the judge's typical latency to avoid spending GPU time
  // on answers that will arrive too late.
  absl::Duration min_time_to_start = absl::Milliseconds(20);

  // How often queued and held work is checked for deadlines and
  // cancellation, and in-flight calls of cancelled requests are aborted.
  absl::Duration sweep_interval = absl::Milliseconds(50);

  // Identical work (same judge, prompt, response, criteria) that is queued
  // or in flight is answered by the one call (cached = true for the
  // followers). Requests with skip_cache never join.
  bool dedup = true;

  // ---- Votes --------------------------------------------------------------

  // The most samples a request may ask for (GradeOptions.votes; more is
  // INVALID_ARGUMENT), and the most a judge's config `votes` may be.
  int max_votes = 16;

  // ---- Rate limits for hosted APIs (rate_limiter.h) -----------------------

  // A call starts only when both token buckets allow it; its tokens are
  // estimated as request bytes / 4 and corrected from the answer's `usage`.
  // Work whose deadline comes before the limit would let it start fails at
  // once with TIMEOUT. 0 = no limit. Set them a little under the provider's.
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
  // What may go out at once after a quiet spell. Providers enforce
  // per-minute limits over shorter windows, so keep it short.
  absl::Duration rate_limit_burst = absl::Seconds(1);

  // ---- Batching window (batch_window.h) -----------------------------------

  // Work with one affinity key (the same prompt and rubric: a group of
  // rollouts of one prompt) is held for up to this long, then queued as one
  // batch sent back-to-back to one replica, so every call after the first
  // finds the prompt in its prefix cache. Still one HTTP call per work item.
  // Held work is never held past its deadline - 2 * min_time_to_start - the
  // pool's average call time. 0 = off; a few ms when rollout workers send a
  // group's responses as separate requests.
  absl::Duration max_queue_delay = absl::ZeroDuration();
  // A batch holding this many calls is released at once.
  size_t max_batch_size = 32;

  // ---- Hedging of stragglers (hedge_budget.h, hedge_delay.h) -------------

  // A call in flight longer than the hedge delay gets a duplicate on another
  // replica (breaker closed, a free slot) when no work waits for a slot; the
  // first good answer wins and the other transfer is aborted. The delay is
  // hedge_delay, or the hedge_after_percentile-th percentile (in [0, 100))
  // of the pool's recent successful call times once enough were measured
  // (then hedge_delay, if set, is its floor). 0 and 0 = off. A pool with
  // one replica never hedges; each call is hedged at most once.
  absl::Duration hedge_delay = absl::ZeroDuration();
  double hedge_after_percentile = 0;
  // Each call started earns this share of a hedge (a few saved at most) and
  // a hedge spends one, so hedges are at most this share of calls and
  // cannot double the load on a saturated judge. In [0, 1].
  double max_hedge_ratio = 0.1;
  // The hedges a quiet pool may save up (>= 1). Stragglers are hedged when
  // the queue drains, at the end of a burst of work (a GRPO step): then a
  // slow replica holds up to max_in_flight_per_replica calls, and a budget
  // smaller than that leaves its youngest calls, the last to finish,
  // unhedged. The ratio still caps hedges over time.
  double max_hedge_burst = 10;
};

// OK, or INVALID_ARGUMENT naming the fields that are wrong by their config
// file names (e.g. "sweep_interval_ms"), without a prefix: the config reader
// prefixes "pool: ", JudgePool::Create the judge's name.
absl::Status ValidateJudgePoolOptions(const JudgePoolOptions& options);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_OPTIONS_H_
