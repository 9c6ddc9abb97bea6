// What one finished HTTP attempt of a judge call means: finish the call
// (with the decoded verdicts, or one status for every criterion), retry it
// (now or after a backoff), or ignore the result (a hedged call whose other
// attempt answered or may still answer); plus what it says about the
// replica's health (success, failure, rate-limited until). This is where a
// judge call's per-criterion failure status (JUDGE_ERROR, TIMEOUT, SKIPPED)
// and its explanation are chosen. JudgePool applies the decision under its
// mutex; nothing here touches the pool, the clock or the network.
//
//   AttemptClassifier classifier(config, options);
//   auto backoff = [&](int k) { return RetryBackoff(k, options, rng); };
//   AttemptDecision d =
//       classifier.Classify(replica, result, &outcome, state, backoff);
//   switch (d.action) { case AttemptDecision::Action::kFinish: ... }
//
// Thread-safety: Classify() is const and reads only the config and options
// it was built with (which must outlive it); call it from any thread.
#ifndef REWARDD_SERVER_JUDGE_POOL_ATTEMPT_CLASSIFIER_H_
#define REWARDD_SERVER_JUDGE_POOL_ATTEMPT_CLASSIFIER_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/time/time.h"
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/judge.h"
#include "server/judge/pool/judge_pool_metrics.h"
#include "server/judge/pool/judge_pool_options.h"

namespace rewardd {

// The backoff before retry number `retry` (1 = first retry): exponential,
// capped, with +-jitter (JudgePoolOptions).
absl::Duration RetryBackoff(int retry, const JudgePoolOptions& options,
                            absl::BitGen& gen);

// What the pool knows about the call when one of its attempts ends.
struct AttemptState {
  absl::Time now;
  absl::Time deadline;
  // Another attempt of the call (its hedge, or the attempt it hedges) is
  // still in flight.
  bool other_attempt_live = false;
  // Another attempt of the call already gave its final answer.
  bool won = false;
  bool stopping = false;       // the pool is shutting down
  bool all_cancelled = false;  // every request waiting on the call is
  // Failed transport/HTTP attempts, parse and length retries so far, and
  // the sampling parameters the attempt was sent with.
  int attempts = 0;
  int parse_retries = 0;
  int length_retries = 0;
  CallParams params;
};

// How an attempt's end changes a replica's health (ReplicaSet).
enum class ReplicaHealth {
  kNone,         // says nothing (cancelled, or cut by the deadline)
  kSuccess,      // OnSuccess: the replica answered
  kFailure,      // OnFailure: counts toward its circuit breaker
  kRateLimited,  // OnRateLimited(cool_until): a 429
};

struct AttemptDecision {
  enum class Action { kFinish, kRetry, kIgnore };
  Action action = Action::kFinish;

  ReplicaHealth health = ReplicaHealth::kNone;
  absl::Time cool_until = absl::InfinitePast();  // kRateLimited

  // kFinish: the decoded verdicts when `use_verdicts` (the judge answered),
  // else every criterion gets `status` with `message` as explanation.
  bool use_verdicts = false;
  CriterionStatus status = CriterionStatus::kJudgeError;
  std::string message;

  // kRetry: after `delay` (zero: at once), preferring another replica when
  // `avoid_replica`. A parse retry (truncated or unparsable answer) counts
  // apart from a transport/HTTP retry.
  absl::Duration delay = absl::ZeroDuration();
  JudgeRetryReason reason = JudgeRetryReason::kTransport;
  bool parse_retry = false;
  bool avoid_replica = false;

  // An answer (HTTP 200): its time counts toward the pool's latency.
  bool record_latency = false;

  // The call's counters and sampling parameters after this attempt.
  int attempts = 0;
  int parse_retries = 0;
  int length_retries = 0;
  CallParams params;
};

class AttemptClassifier {
 public:
  AttemptClassifier(const HttpJudgeConfig& config,
                    const JudgePoolOptions& options)
      : config_(config), options_(options) {}

  // `outcome`: the decoded answer's outcome when the attempt got HTTP 200
  // (see ChoicesOutcome for calls with n > 1), else null. `backoff(k)`: the
  // delay before retry k (RetryBackoff), called only for a transport/HTTP
  // retry.
  AttemptDecision Classify(
      int replica, const HttpResult& result,
      const DecodedCall::Outcome* outcome, const AttemptState& state,
      absl::FunctionRef<absl::Duration(int)> backoff) const;

 private:
  // The health a result reports when the attempt's result is ignored.
  void IgnoredHealth(const HttpResult& result, const AttemptState& state,
                     AttemptDecision& d) const;
  // Transport errors, 429 and 5xx: retry with backoff, or finish.
  void TransportOrHttpFailure(int replica, const HttpResult& result,
                              const AttemptState& state,
                              absl::FunctionRef<absl::Duration(int)> backoff,
                              AttemptDecision& d) const;
  // HTTP 200: finish with the verdicts, or retry a truncated or
  // unparsable answer while retries are left.
  void Answered(DecodedCall::Outcome outcome, AttemptDecision& d) const;
  absl::Duration CappedRetryAfter(const HttpResult& result) const;

  const HttpJudgeConfig& config_;
  const JudgePoolOptions& options_;
};

// A call asking for n > 1 choices is good when any choice is (the others'
// verdicts are then failed samples, not votes), and retried only when none
// could be read. `short_choices`: the reply had fewer than n choices.
struct ChoicesOutcome {
  DecodedCall::Outcome outcome;
  bool short_choices = false;
};
ChoicesOutcome MergeChoices(const DecodedCall& decoded, int n);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_ATTEMPT_CLASSIFIER_H_
