#include "server/judge/pool/attempt_classifier.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rewardd {
namespace {

// A transport timeout this close to the deadline is the deadline's doing
// (the call's timeout was cut to it), not the replica's.
constexpr absl::Duration kDeadlineSlack = absl::Milliseconds(5);

bool CutByDeadline(const HttpResult& result, const AttemptState& state) {
  return result.timed_out() && state.now + kDeadlineSlack >= state.deadline;
}

}  // namespace

absl::Duration RetryBackoff(int retry, const JudgePoolOptions& options,
                            absl::BitGen& gen) {
  double factor = std::pow(options.backoff_multiplier, std::max(0, retry - 1));
  absl::Duration d = options.initial_backoff * factor;
  if (d > options.max_backoff) d = options.max_backoff;
  if (options.backoff_jitter > 0) {
    d = d * absl::Uniform(gen, 1 - options.backoff_jitter,
                          1 + options.backoff_jitter);
  }
  return std::min(d, options.max_backoff);
}

ChoicesOutcome MergeChoices(const DecodedCall& decoded, int n) {
  ChoicesOutcome out{decoded.outcome, false};
  if (n <= 1) return out;
  for (const DecodedCall& d : decoded.more_choices) {
    if (d.outcome == DecodedCall::Outcome::kOk) {
      out.outcome = DecodedCall::Outcome::kOk;
    }
  }
  out.short_choices = 1 + decoded.more_choices.size() < static_cast<size_t>(n);
  return out;
}

AttemptDecision AttemptClassifier::Classify(
    int replica, const HttpResult& result, const DecodedCall::Outcome* outcome,
    const AttemptState& state,
    absl::FunctionRef<absl::Duration(int)> backoff) const {
  AttemptDecision d;
  d.attempts = state.attempts;
  d.parse_retries = state.parse_retries;
  d.length_retries = state.length_retries;
  d.params = state.params;
  const bool answered =
      outcome != nullptr && result.transport_ok() && result.status == 200;
  const bool good = answered && *outcome == DecodedCall::Outcome::kOk;
  if (state.won || (state.other_attempt_live && !good)) {
    // A hedged call: the other attempt answered already, or may still
    // answer; this result is ignored, but the replica's health counts.
    d.action = AttemptDecision::Action::kIgnore;
    if (!state.won && !result.cancelled) IgnoredHealth(result, state, d);
    return d;
  }
  if (result.cancelled) {
    d.status = state.stopping        ? CriterionStatus::kJudgeError
               : state.all_cancelled ? CriterionStatus::kSkipped
                                     : CriterionStatus::kTimeout;
    d.message = state.stopping ? "the judge pool shut down during the call"
                : state.all_cancelled
                    ? "the request was cancelled"
                    : "the deadline passed during the judge call";
    return d;
  }
  const bool retryable_status =
      result.transport_ok() && (result.status == 429 || result.status >= 500);
  if (!result.transport_ok() || retryable_status) {
    TransportOrHttpFailure(replica, result, state, backoff, d);
    return d;
  }
  if (!answered) {
    // 4xx other than 429: the request itself is wrong; retrying cannot
    // help, and the replica is healthy.
    d.health = ReplicaHealth::kSuccess;
    d.message =
        absl::StrCat("judge '", config_.name, "' answered HTTP ", result.status,
                     ": ", absl::string_view(result.body).substr(0, 300));
    return d;
  }
  d.health = ReplicaHealth::kSuccess;
  d.record_latency = true;
  Answered(*outcome, d);
  return d;
}

void AttemptClassifier::IgnoredHealth(const HttpResult& result,
                                      const AttemptState& state,
                                      AttemptDecision& d) const {
  if (!result.transport_ok()) {
    if (!CutByDeadline(result, state)) d.health = ReplicaHealth::kFailure;
  } else if (result.status == 429) {
    d.health = ReplicaHealth::kRateLimited;
    d.cool_until = state.now + CappedRetryAfter(result);
  } else if (result.status >= 500) {
    d.health = ReplicaHealth::kFailure;
  } else {
    d.health = ReplicaHealth::kSuccess;
  }
}

void AttemptClassifier::TransportOrHttpFailure(
    int replica, const HttpResult& result, const AttemptState& state,
    absl::FunctionRef<absl::Duration(int)> backoff, AttemptDecision& d) const {
  std::string what;
  if (!result.transport_ok()) {
    if (CutByDeadline(result, state)) {
      d.status = CriterionStatus::kTimeout;
      d.message =
          absl::StrCat("the deadline passed during the judge call (after ",
                       absl::FormatDuration(result.elapsed), ")");
      return;
    }
    d.health = ReplicaHealth::kFailure;
    d.reason = JudgeRetryReason::kTransport;
    what = absl::StrCat("judge '", config_.name, "' replica ",
                        config_.replicas[replica], ": ", result.error);
  } else if (result.status == 429) {
    d.health = ReplicaHealth::kRateLimited;
    d.cool_until = state.now + CappedRetryAfter(result);
    d.reason = JudgeRetryReason::kRateLimited;
    what = absl::StrCat("judge '", config_.name, "' answered HTTP 429");
  } else {
    d.health = ReplicaHealth::kFailure;
    d.reason = JudgeRetryReason::kServerError;
    what =
        absl::StrCat("judge '", config_.name, "' answered HTTP ", result.status,
                     ": ", absl::string_view(result.body).substr(0, 200));
  }
  ++d.attempts;
  d.status = CriterionStatus::kJudgeError;
  if (d.attempts >= options_.max_attempts) {
    d.message = absl::StrCat(what, " (", d.attempts, " attempts)");
    return;
  }
  d.delay = backoff(d.attempts);
  if (result.retry_after.has_value()) {
    d.delay = std::max(d.delay, CappedRetryAfter(result));
  }
  if (state.now + d.delay + options_.min_time_to_start > state.deadline) {
    d.message =
        absl::StrCat(what, "; no time left before the deadline to retry");
    return;
  }
  d.action = AttemptDecision::Action::kRetry;
  d.avoid_replica = true;
}

void AttemptClassifier::Answered(DecodedCall::Outcome outcome,
                                 AttemptDecision& d) const {
  d.use_verdicts = true;
  d.status = CriterionStatus::kOk;
  switch (outcome) {
    case DecodedCall::Outcome::kOk:
      return;
    case DecodedCall::Outcome::kTruncated:
      if (d.length_retries >= config_.length_retries) return;
      ++d.length_retries;
      d.params.max_tokens =
          d.params.max_tokens.has_value()
              ? std::max(*d.params.max_tokens * 2, config_.length_retry_tokens)
              : config_.length_retry_tokens;
      d.reason = JudgeRetryReason::kTruncated;
      break;
    case DecodedCall::Outcome::kUnparsable:
      if (d.parse_retries >= config_.parse_retries) return;
      ++d.parse_retries;
      d.params.temperature = std::min(
          1.0, d.params.temperature + config_.parse_retry_temperature_step);
      d.reason = JudgeRetryReason::kUnparsable;
      break;
  }
  d.action = AttemptDecision::Action::kRetry;
  d.use_verdicts = false;
  d.parse_retry = true;
}

absl::Duration AttemptClassifier::CappedRetryAfter(
    const HttpResult& result) const {
  return std::min(result.retry_after.value_or(absl::ZeroDuration()),
                  options_.max_retry_after);
}

}  // namespace rewardd
