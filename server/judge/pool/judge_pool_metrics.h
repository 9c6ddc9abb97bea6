// Metric handles for one judge worker pool (server/judge/pool), created once
// per judge and replica so the pool's hot path only increments cached
// counters: no label maps, no look-ups, no locks beyond prometheus-cpp's own
// per-histogram one.
//
//   JudgeMetricFamilies families(registry);          // once, at start-up
//   std::unique_ptr<JudgePoolMetrics> m = families.ForPool(
//       "gpt-judge", /*replica_labels=*/{"0", "1"}, /*queue_capacity=*/4096);
//   // in the pool (m may be null when metrics are off):
//   m->SetQueueDepth(queue_.size());
//   m->QueueWait(now - call->enqueued);
//   m->replica(r).SetInFlight(replicas_.in_flight(r));
//   m->replica(r).CallDone(JudgeCallOutcome::kOk, result.elapsed);
//   m->Retry(JudgeRetryReason::kRateLimited);
//   m->Tokens(decoded.prompt_tokens, decoded.completion_tokens);
//
// Series (all created at 0 by ForPool; see docs/observability.md). Every
// series also has a `role` label: "judge", or "proposer" for the LLMs that
// write rubrics (server/elicitation/http_proposer.h), which use the same
// families; the `judge` label then holds the proposer's name.
//   rewardd_judge_calls_total{judge,replica,outcome}        counter
//   rewardd_judge_call_duration_seconds{judge,replica}      histogram
//   rewardd_judge_in_flight{judge,replica}                  gauge
//   rewardd_judge_breaker_state{judge,replica,state}        gauge (1 = current)
//   rewardd_judge_queue_depth{judge}                        gauge
//   rewardd_judge_queue_capacity{judge}                     gauge
//   rewardd_judge_queue_wait_seconds{judge}                 histogram
//   rewardd_judge_queue_refusals_total{judge}               counter
//   rewardd_judge_batch_criteria{judge}                     histogram
//   rewardd_judge_retries_total{judge,reason}               counter
//   rewardd_judge_parse_failures_total{judge,kind}          counter
//   rewardd_judge_cache_lookups_total{judge,result}         counter
//   rewardd_judge_dedup_joins_total{judge}                  counter
//   rewardd_judge_tokens_total{judge,type}                  counter
//   rewardd_judge_hedges_total{judge}                       counter
//   rewardd_judge_hedges_won_total{judge}                   counter
//   rewardd_judge_batches_total{judge,trigger}              counter
//
// Thread-safety: JudgeMetricFamilies::ForPool() may be called from any
// thread. JudgePoolMetrics and JudgeReplicaMetrics methods are lock-free
// updates of prometheus-cpp metrics and may be called from any thread,
// with or without the pool's own mutex held.
#ifndef REWARDD_SERVER_METRICS_JUDGE_POOL_METRICS_H_
#define REWARDD_SERVER_METRICS_JUDGE_POOL_METRICS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace rewardd {

// How one judge call (one HTTP attempt, or one local grading) ended.
enum class JudgeCallOutcome : int {
  kOk = 0,          // an answer with verdicts
  kHttpError,       // an HTTP status other than 200 and 429
  kRateLimited,     // HTTP 429
  kTransportError,  // connect, TLS, reset, read timeout before the deadline
  kTimeout,         // the request's deadline passed during the call
  kParseError,      // HTTP 200 but no usable verdicts (unparsable, truncated)
  kCancelled,       // the request was cancelled, or the pool shut down
  kError,           // any other failure (local judges)
};
inline constexpr int kJudgeCallOutcomeCount = 8;
// "ok", "http_error", "rate_limited", "transport_error", "timeout",
// "parse_error", "cancelled", "error".
absl::string_view JudgeCallOutcomeName(JudgeCallOutcome outcome);

// Why a call is tried again.
enum class JudgeRetryReason : int {
  kTransport = 0,  // connection-level failure
  kRateLimited,    // 429
  kServerError,    // 5xx
  kUnparsable,     // 200 without parsable verdicts (higher temperature)
  kTruncated,      // finish_reason "length" (more max_tokens)
};
inline constexpr int kJudgeRetryReasonCount = 5;
// "transport", "rate_limited", "server_error", "unparsable", "truncated".
absl::string_view JudgeRetryReasonName(JudgeRetryReason reason);

// What was wrong with a judge's answer.
enum class JudgeParseFailure : int {
  kUnparsable = 0,    // no verdict object or word found at all
  kTruncated,         // cut off by max_tokens
  kMissingCriterion,  // a criterion id the answer left out
  kBadValue,          // a criterion with a value that is not a verdict
  kUnknownId,         // an id in the answer that the rubric lacks
  kShortChoices,      // a vote call got fewer choices than its `n`
};
inline constexpr int kJudgeParseFailureCount = 6;
// "unparsable", "truncated", "missing_criterion", "bad_value", "unknown_id",
// "short_choices".
absl::string_view JudgeParseFailureName(JudgeParseFailure kind);

// Mirrors dispatch's ReplicaSet::BreakerState, so this library does not
// depend on the dispatcher.
enum class JudgeBreakerState : int { kClosed = 0, kOpen, kHalfOpen };
inline constexpr int kJudgeBreakerStateCount = 3;
// "closed", "open", "half_open".
absl::string_view JudgeBreakerStateName(JudgeBreakerState state);

// One replica's handles. Created by JudgeMetricFamilies::ForPool.
class JudgeReplicaMetrics {
 public:
  // One call (attempt) finished, with its wall time.
  void CallDone(JudgeCallOutcome outcome, absl::Duration latency);
  // Calls to this replica in flight now.
  void SetInFlight(int calls);
  // Sets the state's series to 1 and the other two to 0.
  void SetBreakerState(JudgeBreakerState state);

 private:
  friend class JudgeMetricFamilies;
  std::array<prometheus::Counter*, kJudgeCallOutcomeCount> calls_{};
  prometheus::Histogram* latency_ = nullptr;
  prometheus::Gauge* in_flight_ = nullptr;
  std::array<prometheus::Gauge*, kJudgeBreakerStateCount> breaker_{};
};

// One judge's handles. Created by JudgeMetricFamilies::ForPool.
class JudgePoolMetrics {
 public:
  const std::string& judge() const { return judge_; }
  int replicas() const { return static_cast<int>(replicas_.size()); }
  // `index` in [0, replicas()).
  JudgeReplicaMetrics& replica(int index) { return *replicas_[index]; }

  // Calls waiting for a replica slot now (set after every queue change).
  void SetQueueDepth(size_t queued);
  // Time one call spent queued before its (first) send.
  void QueueWait(absl::Duration waited);
  // Criteria graded by one call (the "batch" an LLM call answers).
  void BatchSize(size_t criteria);
  // Grade() refused because the queue was full (RESOURCE_EXHAUSTED).
  void QueueRefused();
  void Retry(JudgeRetryReason reason);
  void ParseFailure(JudgeParseFailure kind, uint64_t count = 1);
  // Work answered wholly from the verdict cache (hit) or sent (miss).
  void CacheLookup(bool hit);
  // Work answered by an identical call already queued or in flight.
  void DedupJoin();
  // `usage` of one answer.
  void Tokens(uint64_t prompt_tokens, uint64_t completion_tokens);
  // A duplicate of a straggling call sent to another replica.
  void HedgeSent();
  // A duplicate answered first (its original was aborted).
  void HedgeWon();
  // A batching window released its work: `full` when it reached
  // max_batch_size, else its delay (or a deadline) ran out.
  void BatchReleased(bool full);

 private:
  friend class JudgeMetricFamilies;
  std::string judge_;
  std::vector<std::unique_ptr<JudgeReplicaMetrics>> replicas_;
  prometheus::Gauge* queue_depth_ = nullptr;
  prometheus::Histogram* queue_wait_ = nullptr;
  prometheus::Histogram* batch_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  std::array<prometheus::Counter*, kJudgeRetryReasonCount> retries_{};
  std::array<prometheus::Counter*, kJudgeParseFailureCount> parse_failures_{};
  prometheus::Counter* cache_hits_ = nullptr;
  prometheus::Counter* cache_misses_ = nullptr;
  prometheus::Counter* dedup_ = nullptr;
  prometheus::Counter* prompt_tokens_ = nullptr;
  prometheus::Counter* completion_tokens_ = nullptr;
  prometheus::Counter* hedges_ = nullptr;
  prometheus::Counter* hedges_won_ = nullptr;
  prometheus::Counter* batches_full_ = nullptr;
  prometheus::Counter* batches_delay_ = nullptr;
};

// The judge metric families on one registry.
class JudgeMetricFamilies {
 public:
  explicit JudgeMetricFamilies(prometheus::Registry& registry);

  // Creates (or, for a name seen before, finds) every series of judge
  // `judge` at 0 and returns handles to them. `replica_labels` name the
  // replicas in the `replica` label, e.g. "0", "1", ... (keep them short
  // and bounded: an index or host:port, never a URL with a key in it).
  // The pool keeps the returned object for its lifetime.
  // `role` is the value of every series' `role` label: "judge" for a judge
  // pool, "proposer" for a rubric proposer (server/elicitation), so one
  // dashboard shows both and a query picks one with role="...".
  std::unique_ptr<JudgePoolMetrics> ForPool(
      const std::string& judge, const std::vector<std::string>& replica_labels,
      size_t queue_capacity, absl::string_view role = "judge");

 private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& call_duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& breaker_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Gauge>& queue_capacity_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Counter>& refusals_;
  prometheus::Family<prometheus::Histogram>& batch_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& parse_failures_;
  prometheus::Family<prometheus::Counter>& cache_;
  prometheus::Family<prometheus::Counter>& dedup_;
  prometheus::Family<prometheus::Counter>& tokens_;
  prometheus::Family<prometheus::Counter>& hedges_;
  prometheus::Family<prometheus::Counter>& hedges_won_;
  prometheus::Family<prometheus::Counter>& batches_;
};

// Bucket boundaries shared by every latency histogram: 1 ms .. 120 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_JUDGE_POOL_METRICS_H_
