// JudgePool: the worker pool of one HTTP judge. It implements Judge, so the
// grading engine sees an LLM judge exactly like the embedded one, and turns
// each JudgeWork into one Chat Completions call, spread over the judge's
// replicas, retried, bounded and cached.
//
//   absl::StatusOr<std::shared_ptr<JudgePool>> pool = JudgePool::Create(
//       http_config, JudgePoolOptions{}, loop, cache);
//   (*pool)->Grade(std::move(work), std::move(done));  // never blocks
//   (*pool)->Shutdown();                                // before exit
//
// ---------------------------------------------------------------------------
// Knobs (JudgePoolOptions), defaults, and how to tune them
// ---------------------------------------------------------------------------
// max_queue_size (4096): calls waiting for a replica slot. When full, Grade()
//   refuses at once with RESOURCE_EXHAUSTED and a retry hint, and nothing
//   already queued is lost. Size it to absorb a burst (a few training steps'
//   worth of calls): a longer queue only adds latency once the judge is
//   saturated, and rollout workers should rather see the refusal.
// max_in_flight_per_replica (64): concurrent calls to one replica. Set it to
//   what the replica serves concurrently at full throughput (vLLM's
//   --max-num-seqs, e.g. 256 on one GPU); more only queues on the server,
//   where rewardd can neither reorder nor cancel it. Throughput ~= replicas *
//   max_in_flight / latency.
// affinity_slack (4): a prompt's calls stay on their affinity replica (warm
//   prefix cache) unless it has this many more calls in flight than the least
//   busy replica. 0 = pure least-outstanding; large = pure affinity.
// max_attempts (4): tries per call on connection errors, 429 and 5xx, with
//   exponential backoff initial_backoff (100 ms) * multiplier (2) up to
//   max_backoff (5 s), +-backoff_jitter (50%) so clients do not retry in step;
//   a Retry-After header raises the delay (capped at max_retry_after, 30 s).
//   Hosted APIs that rate-limit want more attempts and longer backoff.
// breaker_failures (5) / breaker_open_time (5 s): a replica that fails this
//   many calls in a row gets no calls for breaker_open_time, then one probe;
//   when every replica is open, calls fail at once (JUDGE_ERROR) instead of
//   waiting on a judge that is down.
// min_time_to_start (20 ms): a call whose deadline is closer than this is not
//   started (TIMEOUT). Raise it towards the judge's typical latency to avoid
//   spending GPU time on answers that will arrive too late.
// sweep_interval (50 ms): how often queued work is checked for deadlines and
//   cancellation, and in-flight calls of cancelled requests are aborted.
// dedup (true): identical work (same judge, prompt, response, criteria) that
//   is queued or in flight is answered by the one call (cached = true for the
//   followers). Off for requests with skip_cache.
// The verdict cache (shared between pools, bounded by bytes) is passed in;
//   nullptr disables it.
// max_votes (16): the most samples a request may ask for (GradeOptions.votes;
//   more is INVALID_ARGUMENT). The judge's default is its config's `votes`
//   (1). A grading with n > 1 votes draws n samples at the judge's
//   vote_temperature (0.7): with the judge's `vote_via_n` (the default) one
//   call asking for n choices (seed `seed`, 1 when the judge has none; one
//   queue slot), else n calls with seeds seed, seed+1, ... (n queue slots,
//   refused as a whole when they do not fit). Either way each call is a
//   normal one (queued, balanced, retried) and the samples' verdicts are
//   tallied (vote_tally.h: majority or mean, a tie is unmet) with the
//   agreement reported; choices a reply lacks are failed samples, not votes.
//   Samples never read or write the verdict cache; the tallied verdicts are
//   cached under a key that includes n, the aggregation and the vote
//   temperature. n votes cost n times the judge's decoding (and without
//   vote_via_n, n prompts): use them where the judge's noise matters
//   (borderline criteria, soft rewards from `mean`).
// requests_per_minute (0 = off) / tokens_per_minute (0 = off) /
//   rate_limit_burst (1 s): limits for hosted APIs (rate_limiter.h). A call
//   starts only when both token buckets allow it; its tokens are estimated
//   as request bytes / 4 and corrected from the answer's `usage`. Queued work
//   waits (a loop timer, no polling); work whose deadline comes before the
//   limit would let it start fails at once with TIMEOUT. Set them a little
//   under the provider's limits; the burst is what may go out at once after
//   a quiet spell (providers enforce per-minute limits over shorter windows,
//   so keep it short).
// max_queue_delay (0 = off) / max_batch_size (32): a batching window. Work
//   with one affinity key (the same prompt and rubric: a group of rollouts
//   of one prompt) is held for up to max_queue_delay, then released as one
//   batch that is queued back-to-back and sent to one replica (the replica
//   the batch's first call gets, while it has free slots, whatever
//   affinity_slack says), so every call after the first finds the prompt
//   in that replica's prefix cache. A batch is released at once when it
//   holds max_batch_size calls. Chat Completions takes one conversation per
//   request, so a batch is still one HTTP call per work item; what it buys
//   is locality, not fewer calls. Held work counts toward max_queue_size,
//   is swept for cancellation and deadlines like queued work, and is never
//   held past its deadline - 2 * min_time_to_start - the pool's average
//   call time (its batch is released early then). Turn it on (a few ms,
//   e.g. 5) when rollout workers send a group's responses as separate
//   requests that arrive spread out and affinity alone scatters them (busy
//   replicas, affinity_slack); leave it off when a group arrives in one
//   request or latency matters more than prefix-cache hits: every held call
//   waits up to the delay.
// hedge_delay (0 = off) / hedge_after_percentile (0 = off) / max_hedge_ratio
//   (0.1): hedging of stragglers. A call in flight longer than the hedge
//   delay gets a duplicate on another replica (breaker closed, a free slot)
//   when no work is waiting for a slot; the first good answer wins, the
//   other transfer is aborted and its result ignored. The delay is
//   hedge_delay, or the hedge_after_percentile-th percentile (e.g. 95) of
//   the pool's last 256 successful call times once 20 were measured (then
//   hedge_delay, if set, is its floor). A budget caps the extra load: each
//   call started earns max_hedge_ratio of a hedge (up to 10 saved) and a
//   hedge spends one, so hedges are at most that share of calls and cannot
//   double the load on a saturated judge. Use it with several replicas when
//   one can stall (a GPU node swapping, a long prefill in front of the
//   call): p95 with the default ratio trims the tail for ~5% more calls.
//   Each call is hedged at most once; a pool with one replica never hedges.
//
// Failure reporting: a refused Grade() (queue full, shut down, deadline
// already passed) answers a non-OK status; every other failure is a
// per-criterion status: JUDGE_ERROR (transport/HTTP errors after retries,
// breaker open), TIMEOUT (deadline), PARSE_ERROR (no verdict after
// parse/length retries), MISSING (the judge left a criterion out), SKIPPED
// (the request was cancelled). A failure never reads as "unmet".
//
// Thread-safety: Grade() and stats() may be called from any thread; callbacks
// run on the calling thread (cache hits, refusals) or on the HTTP loop
// thread. One mutex guards the queue and replica state; it is never held
// across I/O, encoding, parsing or a callback.
#ifndef REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_H_
#define REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/judge/pool/rate_limiter.h"
#include "server/judge/pool/replica_set.h"
#include "server/judge/pool/verdict_cache.h"
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/judge.h"
#include "server/judge/pool/judge_pool_metrics.h"

namespace rewardd {

struct JudgePoolOptions {
  size_t max_queue_size = 4096;
  int max_in_flight_per_replica = 64;
  int affinity_slack = 4;
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double backoff_multiplier = 2;
  absl::Duration max_backoff = absl::Seconds(5);
  double backoff_jitter = 0.5;
  absl::Duration max_retry_after = absl::Seconds(30);
  int breaker_failures = 5;
  absl::Duration breaker_open_time = absl::Seconds(5);
  absl::Duration min_time_to_start = absl::Milliseconds(20);
  absl::Duration sweep_interval = absl::Milliseconds(50);
  bool dedup = true;
  int max_votes = 16;
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
  absl::Duration rate_limit_burst = absl::Seconds(1);
  absl::Duration max_queue_delay = absl::ZeroDuration();
  size_t max_batch_size = 32;
  absl::Duration hedge_delay = absl::ZeroDuration();
  double hedge_after_percentile = 0;
  double max_hedge_ratio = 0.1;
};

// The backoff before retry number `retry` (1 = first retry): exponential,
// capped, with +-jitter. Exposed for tests.
absl::Duration RetryBackoff(int retry, const JudgePoolOptions& options,
                            absl::BitGen& gen);

class JudgePool : public Judge, public std::enable_shared_from_this<JudgePool> {
 public:
  // `loop` runs the HTTP calls (may be shared by pools); `cache` may be
  // null. Reads the API key and template file named in `config`. With
  // `metrics` (which must outlive the pool), the pool creates its
  // rewardd_judge_* series once (JudgeMetricFamilies::ForPool, replicas
  // labelled "0", "1", ...) and updates them on its hot path; null: none.
  static absl::StatusOr<std::shared_ptr<JudgePool>> Create(
      HttpJudgeConfig config, JudgePoolOptions options,
      std::shared_ptr<CurlMultiLoop> loop, std::shared_ptr<VerdictCache> cache,
      JudgeMetricFamilies* metrics = nullptr);
  ~JudgePool() override;

  const std::string& name() const override { return config_.name; }
  GradingMode default_mode() const override { return config_.default_mode; }
  void Grade(JudgeWork work, JudgeCallback done) override;

  // Refuses new work (UNAVAILABLE), answers queued work UNAVAILABLE, aborts
  // calls in flight (JUDGE_ERROR) and waits until every callback ran (unless
  // called on the HTTP loop thread). Idempotent.
  void Shutdown();

  struct Stats {
    uint64_t calls_started = 0;    // HTTP attempts
    uint64_t calls_succeeded = 0;  // HTTP 200
    uint64_t retries = 0;          // transport/HTTP retries
    uint64_t parse_retries = 0;    // unparsable or truncated answers retried
    uint64_t refused_queue_full = 0;
    uint64_t dedup_joins = 0;
    uint64_t cache_hits = 0;   // work answered wholly from the cache
    uint64_t unknown_ids = 0;  // ids in answers that the rubric lacks
    uint64_t prompt_tokens = 0;
    uint64_t completion_tokens = 0;
    uint64_t votes = 0;             // gradings by vote (n samples each)
    uint64_t short_choices = 0;     // vote calls answered with < n choices
    uint64_t rate_limit_waits = 0;  // times the queue waited for a limit
    uint64_t batches_released = 0;  // batching windows closed
    uint64_t batches_full = 0;      // ... of which reached max_batch_size
    uint64_t hedges_sent = 0;       // duplicate calls of stragglers
    uint64_t hedges_won = 0;        // ... that answered first
    size_t queued = 0;              // waiting for a replica slot
    size_t held = 0;                // held in a batching window
    int in_flight = 0;
    std::vector<ReplicaSet::BreakerState> breakers;
  };
  Stats stats() const;

  const HttpJudgeConfig& config() const { return config_; }

 private:
  struct Call;
  using CallPtr = std::shared_ptr<Call>;
  struct Finished {
    CallPtr call;
    std::vector<Verdict> verdicts;  // empty: use `status` for all
    CriterionStatus status = CriterionStatus::kJudgeError;
    std::string message;
    // A call with n > 1 choices: the verdicts of choices 2, 3, ...
    std::vector<std::vector<Verdict>> more_choices = {};
  };

  JudgePool(HttpJudgeConfig config, JudgePoolOptions options,
            std::shared_ptr<CurlMultiLoop> loop,
            std::shared_ptr<VerdictCache> cache, ChatJudgeCodec codec,
            std::string api_key);

  // An attempt to send once the lock is released: Pump()'s first attempts
  // and HedgeTick()'s duplicates.
  struct Dispatch {
    CallPtr call;
    int replica;
    uint32_t seq;  // the call's send count when it was decided
  };

  // A vote sample: how its call differs from a plain one.
  struct Sample {
    std::string fingerprint;  // scopes dedup keys; never cached
    CallParams params;
  };

  // Grade() without the vote split: `sample` is null for a plain call.
  void Enqueue(JudgeWork work, JudgeCallback done, const Sample* sample);
  void GradeVotes(JudgeWork work, JudgeCallback done, int votes);
  void Pump();
  // Sends attempt `seq` of `call` (slot 0) or its hedge (slot 1).
  void Send(const CallPtr& call, int replica, int slot, uint32_t seq);
  void OnHttpDone(const CallPtr& call, int replica, int slot,
                  HttpResult result);
  // Requeues `call` at the front now or after `delay`.
  void Retry(const CallPtr& call, absl::Duration delay);
  void Finish(Finished f);
  void FinishAll(std::vector<Finished>& finished);
  void ArmSweepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Sweep();
  // Batching window: adds `call` to its affinity's batch (releasing it when
  // full or due). Returns when a release timer is needed (InfiniteFuture:
  // none) and sets *batch to the batch id it is for.
  absl::Time HoldLocked(CallPtr call, absl::Time now, uint64_t* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the batch of `affinity` back-to-back, its calls pinned to the
  // replica its first call gets. `full`: it reached max_batch_size.
  void ReleaseLocked(uint64_t affinity, bool full)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmRelease(uint64_t affinity, uint64_t batch, absl::Time when);
  // The release timer of batch `batch` of `affinity`.
  void ReleaseDue(uint64_t affinity, uint64_t batch);
  // Calls queued or held: what max_queue_size bounds.
  size_t QueuedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() + held_;
  }
  // The current hedge delay; InfiniteDuration when hedging is off or its
  // percentile is not known yet.
  absl::Duration HedgeDelayLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a successful call's time for hedge_after_percentile.
  void RecordLatencyLocked(absl::Duration elapsed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The hedge timer: duplicates the calls in flight past the delay.
  void HedgeTick();
  void ArmHedgeTimer(absl::Time when);
  absl::Duration RetryHintLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copies queue depth, in-flight per replica and breaker changes to the
  // metric gauges (lock-free stores; a no-op without metrics).
  void PublishGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts one finished HTTP attempt: outcome, latency, tokens, parse
  // failures. `fin` is the attempt's final answer, if it was final.
  void RecordAttempt(int replica, const HttpResult& result,
                     const DecodedCall& decoded, bool answered,
                     const std::optional<Finished>& fin);

  const HttpJudgeConfig config_;
  const JudgePoolOptions options_;
  const std::shared_ptr<CurlMultiLoop> loop_;
  const std::shared_ptr<VerdictCache> cache_;
  const ChatJudgeCodec codec_;
  std::shared_ptr<const HttpHeaders> headers_;
  std::vector<std::string> endpoints_;  // <replica>/chat/completions
  std::string fingerprint_;             // what cache keys are scoped by

  mutable absl::Mutex mu_;
  absl::CondVar idle_;  // signalled when outstanding_ drops to 0
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool sweep_armed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<CallPtr> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Call*> in_flight_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<CallPtr> backing_off_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<CacheKey, Call*> dedup_ ABSL_GUARDED_BY(mu_);
  ReplicaSet replicas_ ABSL_GUARDED_BY(mu_);
  // Calls not yet finished, plus hedge attempts that lost and have not
  // completed yet (Shutdown() waits for both).
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration latency_ewma_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  const bool rate_limited_;  // requests_ or tokens_per_minute set
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
  bool limit_timer_armed_ ABSL_GUARDED_BY(mu_) = false;

  // Batching windows being filled, by affinity key (empty when off).
  struct Batch {
    uint64_t id = 0;
    absl::Time release_at;
    std::vector<CallPtr> calls;
  };
  const bool batching_;  // max_queue_delay > 0
  absl::flat_hash_map<uint64_t, Batch> forming_ ABSL_GUARDED_BY(mu_);
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;  // calls in forming_
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 0;

  // Hedging. Calls are watched in send order: with one delay for all, the
  // oldest is the first due, so one timer serves the pool.
  struct HedgeWatch {
    absl::Time sent;
    CallPtr call;
    uint32_t seq;  // the attempt watched; stale once the call moved on
  };
  const bool hedging_;  // hedge_delay or hedge_after_percentile set
  std::deque<HedgeWatch> hedge_watch_ ABSL_GUARDED_BY(mu_);
  bool hedge_timer_armed_ ABSL_GUARDED_BY(mu_) = false;
  double hedge_tokens_ ABSL_GUARDED_BY(mu_) = 0;
  // Successful call times (microseconds), a ring, and the percentile of
  // them, recomputed every few answers.
  std::vector<int64_t> latency_ring_ ABSL_GUARDED_BY(mu_);
  uint64_t latency_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration latency_percentile_ ABSL_GUARDED_BY(mu_) =
      absl::InfiniteDuration();

  struct Counters {
    std::atomic<uint64_t> calls_started{0}, calls_succeeded{0}, retries{0},
        parse_retries{0}, refused_queue_full{0}, dedup_joins{0}, cache_hits{0},
        unknown_ids{0}, prompt_tokens{0}, completion_tokens{0}, votes{0},
        rate_limit_waits{0}, batches_released{0}, batches_full{0},
        hedges_sent{0}, hedges_won{0}, short_choices{0};
  };
  Counters counters_;

  // Prometheus handles (judge_pool_metrics.h); null when metrics are off.
  // Set by Create() before the pool is shared, then read-only; its methods
  // are lock-free, so they are called with or without mu_.
  std::unique_ptr<JudgePoolMetrics> metrics_;
  // The breaker state last exported per replica, to export changes only.
  std::vector<ReplicaSet::BreakerState> exported_breakers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_H_
