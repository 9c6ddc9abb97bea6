#include "server/elicitation/proposer_dispatch.h"

namespace rewardd {

ProposerDispatch::ProposerDispatch(const ProposerDispatchOptions& options,
                                   absl::Time now)
    : replica_count_(options.replicas),
      replica_set_(options.replicas,
                   ReplicaSet::Options{options.max_in_flight_per_replica,
                                       options.breaker_failures,
                                       options.breaker_open_time,
                                       /*affinity_slack=*/4}),
      limiter_(options.requests_per_minute, options.tokens_per_minute,
               options.rate_limit_burst, now) {}

ProposerDispatch::Decision ProposerDispatch::Acquire(double est_tokens,
                                                     uint64_t affinity,
                                                     int avoid,
                                                     absl::Time now) {
  absl::MutexLock lock(&mu_);
  Decision d;
  if (limiter_.enabled()) {
    const absl::Time ready = limiter_.ReadyAt(est_tokens, now);
    if (ready > now) {
      d.kind = Decision::kWait;
      d.until = ready;
      return d;
    }
  }
  switch (replica_set_.Choose(affinity, avoid, now, &d.replica)) {
    case ReplicaSet::Pick::kPicked:
      if (limiter_.enabled()) limiter_.Take(est_tokens, now);
      d.kind = Decision::kGo;
      return d;
    case ReplicaSet::Pick::kBusy:
      d.kind = Decision::kWait;
      d.until = now + kBusyPoll;
      return d;
    case ReplicaSet::Pick::kAllOpen:
      d.kind = Decision::kAllOpen;
      return d;
  }
  return d;
}

void ProposerDispatch::Finish(int replica, End end, absl::Time cool_until,
                              double est_tokens, double actual_tokens,
                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  replica_set_.Release(replica);
  switch (end) {
    case End::kSuccess:
      replica_set_.OnSuccess(replica);
      break;
    case End::kFailure:
      replica_set_.OnFailure(replica, now);
      break;
    case End::kRateLimited:
      replica_set_.OnRateLimited(replica, cool_until);
      break;
    case End::kNeutral:
      break;
  }
  if (limiter_.limits_tokens() && actual_tokens > 0) {
    limiter_.Correct(est_tokens, actual_tokens, now);
  }
}

ReplicaSet::BreakerState ProposerDispatch::state(int replica) const {
  absl::MutexLock lock(&mu_);
  return replica_set_.state(replica);
}

int ProposerDispatch::in_flight(int replica) const {
  absl::MutexLock lock(&mu_);
  return replica_set_.in_flight(replica);
}

}  // namespace rewardd
