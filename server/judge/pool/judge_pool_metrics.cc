#include "server/judge/pool/judge_pool_metrics.h"

#include <map>
#include <string>

namespace rewardd {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& BatchBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      1, 2, 4, 8, 16, 32, 64, 128, 256};
  return *buckets;
}

// A family named `name` with `help`, registered in `registry`.
prometheus::Family<prometheus::Counter>& AddCounter(
    prometheus::Registry& registry, const char* name, const char* help) {
  return BuildCounter().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Gauge>& AddGauge(prometheus::Registry& registry,
                                                const char* name,
                                                const char* help) {
  return BuildGauge().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Histogram>& AddHistogram(
    prometheus::Registry& registry, const char* name, const char* help) {
  return BuildHistogram().Name(name).Help(help).Register(registry);
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5,   1,      2.5,   5,    10,    30,   60,  120};
  return *buckets;
}

absl::string_view JudgeCallOutcomeName(JudgeCallOutcome outcome) {
  switch (outcome) {
    case JudgeCallOutcome::kOk:
      return "ok";
    case JudgeCallOutcome::kHttpError:
      return "http_error";
    case JudgeCallOutcome::kRateLimited:
      return "rate_limited";
    case JudgeCallOutcome::kTransportError:
      return "transport_error";
    case JudgeCallOutcome::kTimeout:
      return "timeout";
    case JudgeCallOutcome::kParseError:
      return "parse_error";
    case JudgeCallOutcome::kCancelled:
      return "cancelled";
    case JudgeCallOutcome::kError:
      return "error";
  }
  return "error";
}

absl::string_view JudgeRetryReasonName(JudgeRetryReason reason) {
  switch (reason) {
    case JudgeRetryReason::kTransport:
      return "transport";
    case JudgeRetryReason::kRateLimited:
      return "rate_limited";
    case JudgeRetryReason::kServerError:
      return "server_error";
    case JudgeRetryReason::kUnparsable:
      return "unparsable";
    case JudgeRetryReason::kTruncated:
      return "truncated";
  }
  return "transport";
}

absl::string_view JudgeParseFailureName(JudgeParseFailure kind) {
  switch (kind) {
    case JudgeParseFailure::kUnparsable:
      return "unparsable";
    case JudgeParseFailure::kTruncated:
      return "truncated";
    case JudgeParseFailure::kMissingCriterion:
      return "missing_criterion";
    case JudgeParseFailure::kBadValue:
      return "bad_value";
    case JudgeParseFailure::kUnknownId:
      return "unknown_id";
    case JudgeParseFailure::kShortChoices:
      return "short_choices";
  }
  return "unparsable";
}

absl::string_view JudgeBreakerStateName(JudgeBreakerState state) {
  switch (state) {
    case JudgeBreakerState::kClosed:
      return "closed";
    case JudgeBreakerState::kOpen:
      return "open";
    case JudgeBreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

void JudgeReplicaMetrics::CallDone(JudgeCallOutcome outcome,
                                   absl::Duration latency) {
  calls_[static_cast<int>(outcome)]->Increment();
  latency_->Observe(absl::ToDoubleSeconds(latency));
}

void JudgeReplicaMetrics::SetInFlight(int calls) { in_flight_->Set(calls); }

void JudgeReplicaMetrics::SetBreakerState(JudgeBreakerState state) {
  for (int i = 0; i < kJudgeBreakerStateCount; ++i) {
    breaker_[i]->Set(i == static_cast<int>(state) ? 1 : 0);
  }
}

void JudgePoolMetrics::SetQueueDepth(size_t queued) {
  queue_depth_->Set(static_cast<double>(queued));
}
void JudgePoolMetrics::QueueWait(absl::Duration waited) {
  queue_wait_->Observe(absl::ToDoubleSeconds(waited));
}
void JudgePoolMetrics::BatchSize(size_t criteria) {
  batch_->Observe(static_cast<double>(criteria));
}
void JudgePoolMetrics::QueueRefused() { refused_->Increment(); }
void JudgePoolMetrics::Retry(JudgeRetryReason reason) {
  retries_[static_cast<int>(reason)]->Increment();
}
void JudgePoolMetrics::ParseFailure(JudgeParseFailure kind, uint64_t count) {
  parse_failures_[static_cast<int>(kind)]->Increment(
      static_cast<double>(count));
}
void JudgePoolMetrics::CacheLookup(bool hit) {
  (hit ? cache_hits_ : cache_misses_)->Increment();
}
void JudgePoolMetrics::DedupJoin() { dedup_->Increment(); }
void JudgePoolMetrics::Tokens(uint64_t prompt_tokens,
                              uint64_t completion_tokens) {
  prompt_tokens_->Increment(static_cast<double>(prompt_tokens));
  completion_tokens_->Increment(static_cast<double>(completion_tokens));
}
void JudgePoolMetrics::HedgeSent() { hedges_->Increment(); }
void JudgePoolMetrics::HedgeWon() { hedges_won_->Increment(); }
void JudgePoolMetrics::BatchReleased(bool full) {
  (full ? batches_full_ : batches_delay_)->Increment();
}

JudgeMetricFamilies::JudgeMetricFamilies(prometheus::Registry& r)
    : calls_(AddCounter(r, "rewardd_judge_calls_total",
                        "Judge calls (HTTP attempts; one per graded response "
                        "for local judges) by judge, replica and outcome.")),
      call_duration_(AddHistogram(r, "rewardd_judge_call_duration_seconds",
                                  "Wall time of one judge call.")),
      in_flight_(AddGauge(r, "rewardd_judge_in_flight",
                          "Judge calls in flight per replica.")),
      breaker_(AddGauge(r, "rewardd_judge_breaker_state",
                        "Circuit breaker state per replica: 1 for the "
                        "current state, 0 for the others.")),
      queue_depth_(AddGauge(r, "rewardd_judge_queue_depth",
                            "Judge calls waiting for a replica slot.")),
      queue_capacity_(AddGauge(r, "rewardd_judge_queue_capacity",
                               "Most judge calls that may wait; beyond it "
                               "requests are refused.")),
      queue_wait_(AddHistogram(r, "rewardd_judge_queue_wait_seconds",
                               "Time a judge call waited for a replica slot.")),
      refusals_(AddCounter(r, "rewardd_judge_queue_refusals_total",
                           "Judge work refused because the queue was full.")),
      batch_(AddHistogram(r, "rewardd_judge_batch_criteria",
                          "Criteria graded by one judge call.")),
      retries_(AddCounter(r, "rewardd_judge_retries_total",
                          "Judge calls tried again, by reason.")),
      parse_failures_(AddCounter(r, "rewardd_judge_parse_failures_total",
                                 "Problems in judge answers, by kind.")),
      cache_(AddCounter(r, "rewardd_judge_cache_lookups_total",
                        "Verdict cache look-ups by result (hit, miss).")),
      dedup_(AddCounter(r, "rewardd_judge_dedup_joins_total",
                        "Judge work answered by an identical call already "
                        "queued or in flight.")),
      tokens_(AddCounter(r, "rewardd_judge_tokens_total",
                         "Tokens reported in judge answers' usage, by type "
                         "(prompt, completion).")),
      hedges_(AddCounter(r, "rewardd_judge_hedges_total",
                         "Duplicate calls sent to another replica for calls "
                         "in flight longer than the hedge delay.")),
      hedges_won_(AddCounter(r, "rewardd_judge_hedges_won_total",
                             "Hedged calls whose duplicate answered first.")),
      batches_(AddCounter(r, "rewardd_judge_batches_total",
                          "Batching windows released, by trigger (full: "
                          "max_batch_size reached; delay: max_queue_delay or "
                          "a deadline ran out).")) {}

std::unique_ptr<JudgePoolMetrics> JudgeMetricFamilies::ForPool(
    const std::string& judge, const std::vector<std::string>& replica_labels,
    size_t queue_capacity, absl::string_view role) {
  // Every series carries {judge, role} plus its own labels.
  const std::string role_label(role);
  auto labels = [&](std::map<std::string, std::string> own) {
    own.emplace("judge", judge);
    own.emplace("role", role_label);
    return own;
  };
  auto m = std::make_unique<JudgePoolMetrics>();
  m->judge_ = judge;
  for (const std::string& replica : replica_labels) {
    auto r = std::make_unique<JudgeReplicaMetrics>();
    for (int i = 0; i < kJudgeCallOutcomeCount; ++i) {
      const auto outcome = static_cast<JudgeCallOutcome>(i);
      r->calls_[i] = &calls_.Add(
          labels({{"replica", replica},
                  {"outcome", std::string(JudgeCallOutcomeName(outcome))}}));
    }
    r->latency_ =
        &call_duration_.Add(labels({{"replica", replica}}), LatencyBuckets());
    r->in_flight_ = &in_flight_.Add(labels({{"replica", replica}}));
    for (int i = 0; i < kJudgeBreakerStateCount; ++i) {
      const auto state = static_cast<JudgeBreakerState>(i);
      r->breaker_[i] = &breaker_.Add(
          labels({{"replica", replica},
                  {"state", std::string(JudgeBreakerStateName(state))}}));
    }
    r->SetBreakerState(JudgeBreakerState::kClosed);
    m->replicas_.push_back(std::move(r));
  }
  m->queue_depth_ = &queue_depth_.Add(labels({}));
  queue_capacity_.Add(labels({})).Set(static_cast<double>(queue_capacity));
  m->queue_wait_ = &queue_wait_.Add(labels({}), LatencyBuckets());
  m->batch_ = &batch_.Add(labels({}), BatchBuckets());
  m->refused_ = &refusals_.Add(labels({}));
  for (int i = 0; i < kJudgeRetryReasonCount; ++i) {
    const auto reason = static_cast<JudgeRetryReason>(i);
    m->retries_[i] = &retries_.Add(
        labels({{"reason", std::string(JudgeRetryReasonName(reason))}}));
  }
  for (int i = 0; i < kJudgeParseFailureCount; ++i) {
    const auto kind = static_cast<JudgeParseFailure>(i);
    m->parse_failures_[i] = &parse_failures_.Add(
        labels({{"kind", std::string(JudgeParseFailureName(kind))}}));
  }
  m->cache_hits_ = &cache_.Add(labels({{"result", "hit"}}));
  m->cache_misses_ = &cache_.Add(labels({{"result", "miss"}}));
  m->dedup_ = &dedup_.Add(labels({}));
  m->prompt_tokens_ = &tokens_.Add(labels({{"type", "prompt"}}));
  m->completion_tokens_ = &tokens_.Add(labels({{"type", "completion"}}));
  m->hedges_ = &hedges_.Add(labels({}));
  m->hedges_won_ = &hedges_won_.Add(labels({}));
  m->batches_full_ = &batches_.Add(labels({{"trigger", "full"}}));
  m->batches_delay_ = &batches_.Add(labels({{"trigger", "delay"}}));
  return m;
}

}  // namespace rewardd
