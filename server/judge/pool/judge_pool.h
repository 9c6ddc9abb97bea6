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
// The knobs, their defaults and how to tune them: judge_pool_options.h and
// docs/judges.md. The parts: attempt_classifier.h (what an HTTP attempt's
// end means), replica_set.h (replica choice, breakers), batch_window.h,
// hedge_budget.h, hedge_delay.h and straggler_watch.h (batching and
// hedging), rate_limiter.h, vote_samples.h and vote_tally.h (votes),
// verdict_cache.h.
//
// Votes: a grading with n > 1 votes (GradeOptions.votes, else the judge's
// `votes`) draws n samples at the judge's vote_temperature, as one call
// asking for n choices (vote_via_n) or n calls with distinct seeds, each a
// normal call (queued, balanced, retried); their verdicts are tallied and
// the tally is cached under a key of its own. Samples never read or write
// the verdict cache.
//
// Threads: Grade() runs on the caller's thread (a gRPC reaction) and never
// waits for I/O: it answers cache hits and refusals there, queues the work
// and starts what the queue lets start (encoding the body, handing it to
// the loop). A call's answer (decoding, AttemptClassifier, retrying,
// finishing with the callbacks) and every timer (sweeps, batch releases,
// hedges, rate limits, retry backoffs) run on the HTTP loop thread. So a
// callback runs on the caller's thread for cache hits, refusals and work
// failed before it started, else on the loop thread.
//
// Where codes are chosen: Grade() refuses as a whole with INVALID_ARGUMENT
// (too many votes, a per_criterion piece of several criteria),
// DEADLINE_EXCEEDED (the deadline had passed), RESOURCE_EXHAUSTED (queue
// full, with a retry hint) or UNAVAILABLE (shutting down). Every other
// failure is a per-criterion status: chosen by AttemptClassifier for an
// attempt's end (JUDGE_ERROR after retries or on other 4xx, TIMEOUT,
// SKIPPED), by the pool for work that never started (TIMEOUT, SKIPPED,
// JUDGE_ERROR when every breaker is open or at shutdown), and by the codec
// for answers (PARSE_ERROR, MISSING). A failure never reads as "unmet".
//
// Thread-safety: Grade() and stats() may be called from any thread. One
// mutex guards the queue and replica state; it is never held across I/O,
// encoding, parsing or a callback.
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
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/judge.h"
#include "server/judge/pool/attempt_classifier.h"
#include "server/judge/pool/batch_window.h"
#include "server/judge/pool/hedge_budget.h"
#include "server/judge/pool/hedge_delay.h"
#include "server/judge/pool/judge_pool_metrics.h"
#include "server/judge/pool/judge_pool_options.h"
#include "server/judge/pool/rate_limiter.h"
#include "server/judge/pool/replica_set.h"
#include "server/judge/pool/straggler_watch.h"
#include "server/judge/pool/verdict_cache.h"
#include "server/judge/pool/vote_samples.h"

namespace rewardd {

class JudgePool : public Judge, public std::enable_shared_from_this<JudgePool> {
 public:
  // `loop` runs the HTTP calls (may be shared by pools); `cache` may be
  // null. Checks `options` (ValidateJudgePoolOptions) and the judge's
  // `votes` against max_votes, reads the API key and template file named
  // in `config`. With `metrics` (which must outlive the pool), the pool
  // creates its rewardd_judge_* series once (JudgeMetricFamilies::ForPool,
  // replicas labelled "0", "1", ...) and updates them on its hot path;
  // null: none.
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
  // What OnHttpDone does once the lock is released.
  struct AttemptEnd {
    std::optional<Finished> fin;
    bool retry_later = false;  // arm a backoff timer for `delay`
    absl::Duration delay = absl::ZeroDuration();
    uint64_t abort_other = 0;  // the losing attempt of a hedged call
    bool hedge_won = false;
    bool ignored = false;  // the losing (or failed, overtaken) attempt
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

  // Grade() without the vote split: `sample` is null for a plain call.
  void Enqueue(JudgeWork work, JudgeCallback done, const VoteSample* sample);
  // A Call for `work` with its keys, affinity and parameters; null when
  // the cache answered `done` already.
  CallPtr NewCall(JudgeWork& work, JudgeCallback& done,
                  const VoteSample* sample, absl::Time now);
  // Every verdict of `keys` from the cache, or nothing (counts the lookup).
  std::optional<JudgeResult> LookupAll(const std::vector<CacheKey>& keys);
  // Adds `call` to the queue (or a batching window), or makes `done` a
  // follower of the call queued or in flight with the same dedup key
  // (*joined). A non-OK status: refused, `done` not consumed. Sets
  // *arm_sweep, and *held to the batch release timer to arm.
  absl::Status AdmitLocked(CallPtr call, JudgeCallback& done, bool dedup,
                           bool* joined, bool* arm_sweep,
                           BatchWindow<CallPtr>::Held* held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GradeVotes(JudgeWork work, JudgeCallback done, int votes);
  void Pump();
  // Pump()'s step for the queue's head: starts it (into *start), fails it
  // (into *finished), or returns false when the queue must wait.
  bool PumpFrontLocked(absl::Time now, std::vector<Dispatch>* start,
                       std::vector<Finished>* finished, absl::Time* limit_wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends attempt `seq` of `call` (slot 0) or its hedge (slot 1).
  void Send(const CallPtr& call, int replica, int slot, uint32_t seq);
  void OnHttpDone(const CallPtr& call, int replica, int slot,
                  HttpResult result);
  // Decodes an HTTP 200 answer and counts its tokens and choices.
  DecodedCall DecodeAnswer(const Call& call, const HttpResult& result);
  // Books the end of an attempt and applies AttemptClassifier's decision.
  AttemptEnd EndAttemptLocked(const CallPtr& call, int replica, int slot,
                              const HttpResult& result, DecodedCall& decoded,
                              absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies a retry decision: requeues `call` now, or after the backoff
  // (end.retry_later), or finishes it when the pool is shutting down.
  void RetryLocked(const CallPtr& call, int replica, const AttemptDecision& d,
                   AttemptEnd& end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyHealthLocked(int replica, const AttemptDecision& d, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Requeues `call` at the front after `delay` (a loop timer).
  void RetryAfter(const CallPtr& call, absl::Time when);
  void Finish(Finished f);
  void FinishAll(std::vector<Finished>& finished);
  void Sweep();
  // The sweep's verdict on queued or held work: a failure, or nothing.
  std::optional<Finished> SweepOne(CallPtr& c, absl::Time now,
                                   const char* where)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmSweep(absl::Time now);
  // Queues the batch of `affinity` back-to-back, its calls pinned to the
  // replica its first call gets. `full`: it reached max_batch_size.
  void ReleaseLocked(uint64_t affinity, bool full)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmRelease(uint64_t affinity, uint64_t batch, absl::Time when);
  // The release timer of batch `batch` of `affinity`.
  void ReleaseDue(uint64_t affinity, uint64_t batch);
  // Calls queued or held: what max_queue_size bounds.
  size_t QueuedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() + window_.held();
  }
  // Watches a first attempt just sent for hedging; returns when the hedge
  // timer must be armed (InfiniteFuture: no need).
  absl::Time WatchForHedgeLocked(const CallPtr& call, uint32_t seq,
                                 absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The hedge timer: duplicates the calls in flight past the delay.
  void HedgeTick();
  // Whether `c`, due for a hedge, gets one now; picks its replica.
  bool ShouldHedgeLocked(const Call& c, absl::Time now, int* replica)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  const AttemptClassifier classifier_{config_, options_};
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
  const bool batching_;  // max_queue_delay > 0
  BatchWindow<CallPtr> window_ ABSL_GUARDED_BY(mu_);

  // Hedging. Calls are watched in send order: with one delay for all, the
  // oldest is the first due, so one timer serves the pool; due calls that
  // could not be hedged yet are offered again every sweep_interval.
  struct HedgeWatch {
    CallPtr call;
    uint32_t seq;  // the attempt watched; stale once the call moved on
  };
  const bool hedging_;  // hedge_delay or hedge_after_percentile set
  StragglerWatch<HedgeWatch> hedge_watch_ ABSL_GUARDED_BY(mu_);
  bool hedge_timer_armed_ ABSL_GUARDED_BY(mu_) = false;
  HedgeBudget hedge_budget_ ABSL_GUARDED_BY(mu_);
  HedgeDelay hedge_delay_ ABSL_GUARDED_BY(mu_);

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
