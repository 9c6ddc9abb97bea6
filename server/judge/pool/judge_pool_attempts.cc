// JudgePool's calls in flight: starting queued work (Pump), sending an
// attempt, hedging stragglers, and an attempt's end (decoding the answer,
// AttemptClassifier's decision, retries); see judge_pool.h.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/judge_pool_call.h"

namespace rewardd {

void JudgePool::Pump() {
  std::vector<Dispatch> start;
  std::vector<Finished> finished;
  absl::Time limit_wake = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    const absl::Time now = absl::Now();
    while (!queue_.empty() &&
           PumpFrontLocked(now, &start, &finished, &limit_wake)) {
    }
    PublishGaugesLocked();
  }
  if (limit_wake != absl::InfiniteFuture()) {
    counters_.rate_limit_waits.fetch_add(1, std::memory_order_relaxed);
    loop_->RunAt(limit_wake, [self = shared_from_this()] {
      {
        absl::MutexLock lock(&self->mu_);
        self->limit_timer_armed_ = false;
      }
      self->Pump();
    });
  }
  FinishAll(finished);
  for (Dispatch& s : start) Send(s.call, s.replica, /*slot=*/0, s.seq);
}

bool JudgePool::PumpFrontLocked(absl::Time now, std::vector<Dispatch>* start,
                                std::vector<Finished>* finished,
                                absl::Time* limit_wake) {
  CallPtr& c = queue_.front();
  auto fail = [&](CriterionStatus status, std::string message) {
    finished->push_back({std::move(c), {}, status, std::move(message)});
    queue_.pop_front();
    return true;
  };
  if (c->AllCancelled()) {
    return fail(CriterionStatus::kSkipped, "the request was cancelled");
  }
  if (c->deadline - now < options_.min_time_to_start) {
    return fail(CriterionStatus::kTimeout,
                "the deadline was too close to start a judge call");
  }
  if (rate_limited_) {
    const absl::Time ready = limiter_.ReadyAt(c->est_tokens, now);
    if (ready > now) {
      if (c->deadline - ready < options_.min_time_to_start) {
        return fail(CriterionStatus::kTimeout,
                    absl::StrCat("judge '", config_.name,
                                 "': its requests/tokens-per-minute limit "
                                 "would start the call only after the "
                                 "deadline"));
      }
      // Wait in the queue; a loop timer pumps again when it may start.
      if (!limit_timer_armed_) {
        limit_timer_armed_ = true;
        *limit_wake = ready;
      }
      return false;
    }
  }
  int r = -1;
  ReplicaSet::Pick pick;
  if (c->pin != nullptr && c->pin->replica >= 0 &&
      replicas_.TryTake(c->pin->replica, now)) {
    // The rest of a batch follows its first call (warm prefix cache).
    r = c->pin->replica;
    pick = ReplicaSet::Pick::kPicked;
  } else {
    pick = replicas_.Choose(c->affinity, c->avoid, now, &r);
  }
  if (pick == ReplicaSet::Pick::kBusy) return false;
  if (pick == ReplicaSet::Pick::kAllOpen) {
    return fail(CriterionStatus::kJudgeError,
                absl::StrCat("every replica of judge '", config_.name,
                             "' is failing (circuit breaker open)"));
  }
  if (rate_limited_) {
    limiter_.Take(c->est_tokens, now);
    c->reserved_tokens = c->est_tokens;
  }
  if (c->pin != nullptr) {
    if (c->pin->replica < 0) c->pin->replica = r;
    c->pin.reset();  // a retry goes wherever it is best
  }
  in_flight_.insert(c.get());
  c->live = 1;
  c->replica[0] = r;
  const uint32_t seq = ++c->sends;
  if (hedging_) hedge_budget_.OnStart();
  start->push_back({std::move(c), r, seq});
  queue_.pop_front();
  return true;
}

void JudgePool::Send(const CallPtr& call, int replica, int slot, uint32_t seq) {
  const absl::Time now = absl::Now();
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    deadline = call->deadline;
  }
  if (slot == 0 && call->first_start == absl::InfiniteFuture()) {
    call->first_start = now;
    if (metrics_ != nullptr) {
      metrics_->QueueWait(now - call->enqueued);
      metrics_->BatchSize(call->criteria.size());
    }
  }
  HttpRequest req;
  req.url = endpoints_[replica];
  codec_.EncodeBody(call->mode, call->input, call->criteria, call->params,
                    &req.body);
  req.headers = headers_;
  req.timeout = std::min(config_.timeout, deadline - now);
  req.max_response_bytes = static_cast<size_t>(config_.max_reply_bytes);
  counters_.calls_started.fetch_add(1, std::memory_order_relaxed);
  const uint64_t id = loop_->Submit(
      std::move(req),
      [self = shared_from_this(), call, replica, slot](HttpResult r) {
        self->OnHttpDone(call, replica, slot, std::move(r));
      });
  bool cancel = false;
  absl::Time hedge_at = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    // A stale id (the attempt completed already) is harmless: cancelling a
    // finished transfer is a no-op.
    if (call->sends == seq) call->transfer[slot] = id;
    cancel = stopping_ && in_flight_.contains(call.get());
    if (slot == 0 && !cancel) hedge_at = WatchForHedgeLocked(call, seq, now);
  }
  if (cancel) loop_->Cancel(id);
  if (hedge_at != absl::InfiniteFuture()) ArmHedgeTimer(hedge_at);
}

absl::Time JudgePool::WatchForHedgeLocked(const CallPtr& call, uint32_t seq,
                                          absl::Time now) {
  if (!hedging_ || call->hedged || call->sends != seq || call->live != 1) {
    return absl::InfiniteFuture();
  }
  const absl::Duration delay = hedge_delay_.Current();
  if (delay == absl::InfiniteDuration()) return absl::InfiniteFuture();
  hedge_watch_.Add(HedgeWatch{call, seq}, now);
  if (hedge_timer_armed_) return absl::InfiniteFuture();
  hedge_timer_armed_ = true;
  return now + delay;
}

void JudgePool::ArmHedgeTimer(absl::Time when) {
  // Weak, like the batch timers: the delay may be long (a percentile).
  loop_->RunAt(when, [weak = weak_from_this()] {
    if (std::shared_ptr<JudgePool> self = weak.lock()) self->HedgeTick();
  });
}

void JudgePool::HedgeTick() {
  std::vector<Dispatch> hedges;
  absl::Time next = absl::InfiniteFuture();
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    hedge_timer_armed_ = false;
    const absl::Duration delay =
        hedging_ ? hedge_delay_.Current() : absl::InfiniteDuration();
    if (stopping_ || delay == absl::InfiniteDuration()) {
      hedge_watch_.Clear();
      return;
    }
    using Watch = StragglerWatch<HedgeWatch>;
    next = hedge_watch_.Tick(
        now, delay, [&](HedgeWatch& w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          Call& c = *w.call;
          if (c.sends != w.seq || c.live != 1 || c.won || c.hedged) {
            return Watch::kDone;  // answered, retried or hedged already
          }
          int r = -1;
          if (!ShouldHedgeLocked(c, now, &r)) return Watch::kNotYet;
          c.hedged = true;
          ++c.live;
          // The attempt that loses holds this until it completes, so that
          // Shutdown() waits for it too (it still updates metrics).
          ++outstanding_;
          c.replica[1] = r;
          hedges.push_back(Dispatch{w.call, r, w.seq});
          return Watch::kDone;
        });
    if (next != absl::InfiniteFuture()) hedge_timer_armed_ = true;
    if (!hedges.empty()) PublishGaugesLocked();
  }
  if (next != absl::InfiniteFuture()) ArmHedgeTimer(next);
  for (Dispatch& h : hedges) {
    counters_.hedges_sent.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->HedgeSent();
    Send(h.call, h.replica, /*slot=*/1, h.seq);
  }
}

bool JudgePool::ShouldHedgeLocked(const Call& c, absl::Time now, int* replica) {
  // Hedge only with budget, when nothing waits for a slot (a hedge must
  // not delay first attempts), with time left, and on another healthy
  // replica with a free slot (ChooseHedge takes the slot: it comes last).
  if (!queue_.empty() || !hedge_budget_.CanSpend() ||
      c.deadline - now < options_.min_time_to_start || c.AllCancelled() ||
      (rate_limited_ && limiter_.ReadyAt(c.est_tokens, now) > now) ||
      !replicas_.ChooseHedge(c.replica[0], now, replica)) {
    return false;
  }
  if (rate_limited_) limiter_.Take(c.est_tokens, now);
  hedge_budget_.TrySpend();
  return true;
}

void JudgePool::OnHttpDone(const CallPtr& call, int replica, int slot,
                           HttpResult result) {
  const absl::Time now = absl::Now();
  const bool answered = result.transport_ok() && result.status == 200;
  DecodedCall decoded;
  if (answered) decoded = DecodeAnswer(*call, result);
  AttemptEnd end;
  {
    absl::MutexLock lock(&mu_);
    end = EndAttemptLocked(call, replica, slot, result, decoded, now);
  }
  if (end.abort_other != 0) loop_->Cancel(end.abort_other);
  if (end.hedge_won) {
    counters_.hedges_won.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->HedgeWon();
  }
  if (metrics_ != nullptr) {
    RecordAttempt(replica, result, decoded, answered, end.fin);
  }
  if (end.fin.has_value()) Finish(*std::move(end.fin));
  if (end.retry_later) RetryAfter(call, now + end.delay);
  Pump();
  if (end.ignored) {
    absl::MutexLock lock(&mu_);
    if (--outstanding_ == 0) idle_.SignalAll();
  }
}

DecodedCall JudgePool::DecodeAnswer(const Call& call,
                                    const HttpResult& result) {
  DecodedCall decoded =
      codec_.Decode(call.mode, *call.input, call.criteria, result.body);
  if (call.params.n > 1) {
    const ChoicesOutcome choices = MergeChoices(decoded, call.params.n);
    decoded.outcome = choices.outcome;
    if (choices.short_choices) {
      counters_.short_choices.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        metrics_->ParseFailure(JudgeParseFailure::kShortChoices);
      }
    }
  }
  counters_.calls_succeeded.fetch_add(1, std::memory_order_relaxed);
  counters_.unknown_ids.fetch_add(decoded.unknown_ids,
                                  std::memory_order_relaxed);
  counters_.prompt_tokens.fetch_add(decoded.prompt_tokens,
                                    std::memory_order_relaxed);
  counters_.completion_tokens.fetch_add(decoded.completion_tokens,
                                        std::memory_order_relaxed);
  return decoded;
}

JudgePool::AttemptEnd JudgePool::EndAttemptLocked(const CallPtr& call,
                                                  int replica, int slot,
                                                  const HttpResult& result,
                                                  DecodedCall& decoded,
                                                  absl::Time now) {
  replicas_.Release(replica);
  --call->live;
  call->transfer[slot] = 0;
  if (call->live == 0) in_flight_.erase(call.get());
  const bool answered = result.transport_ok() && result.status == 200;
  if (rate_limited_ && answered && decoded.prompt_tokens > 0) {
    limiter_.Correct(
        call->reserved_tokens,
        static_cast<double>(decoded.prompt_tokens + decoded.completion_tokens),
        now);
  }
  AttemptState state;
  state.now = now;
  state.deadline = call->deadline;
  state.other_attempt_live = call->live > 0;
  state.won = call->won;
  state.stopping = stopping_;
  state.all_cancelled = result.cancelled && call->AllCancelled();
  state.attempts = call->attempts;
  state.parse_retries = call->parse_retries;
  state.length_retries = call->length_retries;
  state.params = call->params;
  absl::BitGen& rng = rng_;
  const AttemptDecision d = classifier_.Classify(
      replica, result, answered ? &decoded.outcome : nullptr, state,
      [&](int retry) { return RetryBackoff(retry, options_, rng); });
  ApplyHealthLocked(replica, d, now);
  if (d.record_latency) {
    latency_ewma_ = latency_ewma_ == absl::ZeroDuration()
                        ? result.elapsed
                        : latency_ewma_ * 0.8 + result.elapsed * 0.2;
    hedge_delay_.Record(result.elapsed);
  }
  AttemptEnd end;
  switch (d.action) {
    case AttemptDecision::Action::kIgnore:
      end.ignored = true;
      break;
    case AttemptDecision::Action::kFinish:
      end.fin = Finished{call, {}, d.status, d.message};
      if (d.use_verdicts) {
        end.fin->verdicts = std::move(decoded.verdicts);
        for (DecodedCall& c : decoded.more_choices) {
          end.fin->more_choices.push_back(std::move(c.verdicts));
        }
      }
      break;
    case AttemptDecision::Action::kRetry:
      RetryLocked(call, replica, d, end);
      break;
  }
  if (end.fin.has_value() && call->live > 0) {
    // First good answer of a hedged call: abort the other attempt.
    call->won = true;
    end.abort_other = call->transfer[1 - slot];
  }
  const bool good = answered && decoded.outcome == DecodedCall::Outcome::kOk;
  end.hedge_won = slot == 1 && good && end.fin.has_value();
  PublishGaugesLocked();
  return end;
}

void JudgePool::RetryLocked(const CallPtr& call, int replica,
                            const AttemptDecision& d, AttemptEnd& end) {
  call->attempts = d.attempts;
  call->parse_retries = d.parse_retries;
  call->length_retries = d.length_retries;
  call->params = d.params;
  if (d.avoid_replica) call->avoid = replica;
  (d.parse_retry ? counters_.parse_retries : counters_.retries)
      .fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->Retry(d.reason);
  if (stopping_) {
    end.fin = Finished{call,
                       {},
                       CriterionStatus::kJudgeError,
                       "the judge pool shut down before a retry"};
  } else if (d.delay <= absl::ZeroDuration()) {
    queue_.push_front(call);  // Pump() after the lock sends it
  } else {
    backing_off_.insert(call);
    end.retry_later = true;
    end.delay = d.delay;
  }
}

void JudgePool::ApplyHealthLocked(int replica, const AttemptDecision& d,
                                  absl::Time now) {
  switch (d.health) {
    case ReplicaHealth::kNone:
      break;
    case ReplicaHealth::kSuccess:
      replicas_.OnSuccess(replica);
      break;
    case ReplicaHealth::kFailure:
      replicas_.OnFailure(replica, now);
      break;
    case ReplicaHealth::kRateLimited:
      replicas_.OnRateLimited(replica, d.cool_until);
      break;
  }
}

void JudgePool::RetryAfter(const CallPtr& call, absl::Time when) {
  loop_->RunAt(when, [self = shared_from_this(), call] {
    {
      absl::MutexLock lock(&self->mu_);
      // Shutdown() may have answered it already.
      if (self->backing_off_.erase(call) == 0) return;
      self->queue_.push_front(call);
    }
    self->Pump();
  });
}

void JudgePool::RecordAttempt(int replica, const HttpResult& result,
                              const DecodedCall& decoded, bool answered,
                              const std::optional<Finished>& fin) {
  const bool deadline =
      fin.has_value() && fin->status == CriterionStatus::kTimeout;
  JudgeCallOutcome outcome;
  if (result.cancelled) {
    outcome =
        deadline ? JudgeCallOutcome::kTimeout : JudgeCallOutcome::kCancelled;
  } else if (!result.transport_ok()) {
    outcome = deadline ? JudgeCallOutcome::kTimeout
                       : JudgeCallOutcome::kTransportError;
  } else if (result.status == 429) {
    outcome = JudgeCallOutcome::kRateLimited;
  } else if (!answered) {
    outcome = JudgeCallOutcome::kHttpError;
  } else if (decoded.outcome == DecodedCall::Outcome::kOk) {
    outcome = JudgeCallOutcome::kOk;
  } else {
    outcome = JudgeCallOutcome::kParseError;
  }
  metrics_->replica(replica).CallDone(outcome, result.elapsed);
  if (!answered) return;
  metrics_->Tokens(
      static_cast<uint64_t>(std::max<int64_t>(0, decoded.prompt_tokens)),
      static_cast<uint64_t>(std::max<int64_t>(0, decoded.completion_tokens)));
  if (decoded.unknown_ids > 0) {
    metrics_->ParseFailure(JudgeParseFailure::kUnknownId,
                           static_cast<uint64_t>(decoded.unknown_ids));
  }
  switch (decoded.outcome) {
    case DecodedCall::Outcome::kUnparsable:
      metrics_->ParseFailure(JudgeParseFailure::kUnparsable);
      break;
    case DecodedCall::Outcome::kTruncated:
      metrics_->ParseFailure(JudgeParseFailure::kTruncated);
      break;
    case DecodedCall::Outcome::kOk: {
      // A final answer's per-criterion gaps: left out, or not a verdict.
      // (OnHttpDone moved the verdicts into `fin`.)
      const std::vector<Verdict>& verdicts =
          fin.has_value() && !fin->verdicts.empty() ? fin->verdicts
                                                    : decoded.verdicts;
      uint64_t missing = 0, bad = 0;
      for (const Verdict& v : verdicts) {
        missing += v.status == CriterionStatus::kMissing;
        bad += v.status == CriterionStatus::kParseError;
      }
      if (missing > 0) {
        metrics_->ParseFailure(JudgeParseFailure::kMissingCriterion, missing);
      }
      if (bad > 0) metrics_->ParseFailure(JudgeParseFailure::kBadValue, bad);
      break;
    }
  }
}

}  // namespace rewardd
