// Where and when a proposer's next HTTP attempt may go: the judge pool's
// replica health (server/judge/pool/replica_set.h: least outstanding calls,
// a cool-down after a 429, a circuit breaker per replica) and its RPM/TPM
// limits (server/judge/pool/rate_limiter.h), reused for the proposers of
// rubric elicitation so they fail fast when their endpoint is down and stay
// under a hosted API's limits.
//
//   ProposerDispatch dispatch(options, absl::Now());
//   ProposerDispatch::Decision d = dispatch.Acquire(est_tokens, affinity,
//                                                   /*avoid=*/-1, now);
//   switch (d.kind) {
//     case kGo:      ... call replica d.replica ...
//                    dispatch.Finish(d.replica, end, est_tokens, now);
//     case kWait:    try again at d.until
//     case kAllOpen: fail at once (every breaker is open)
//   }
//
// Times are passed in, so tests drive breakers and limits with a fake
// clock.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#ifndef REWARDD_SERVER_ELICITATION_PROPOSER_DISPATCH_H_
#define REWARDD_SERVER_ELICITATION_PROPOSER_DISPATCH_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/judge/pool/rate_limiter.h"
#include "server/judge/pool/replica_set.h"

namespace rewardd {

struct ProposerDispatchOptions {
  int replicas = 1;
  int max_in_flight_per_replica = 64;
  // Consecutive failures (transport errors, 5xx, unreadable replies) that
  // open a replica's breaker, and how long it stays open before a probe.
  int breaker_failures = 5;
  absl::Duration breaker_open_time = absl::Seconds(5);
  // 0 = unlimited.
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
  absl::Duration rate_limit_burst = absl::Seconds(1);
};

class ProposerDispatch {
 public:
  struct Decision {
    enum Kind { kGo, kWait, kAllOpen } kind = kGo;
    int replica = -1;                         // kGo: the replica to call
    absl::Time until = absl::InfinitePast();  // kWait: when to ask again
  };
  // How an attempt ended, for the replica's health.
  enum class End {
    kSuccess,      // an answer (even one that did not parse as a rubric)
    kFailure,      // transport error, 5xx, a reply that is no completion
    kRateLimited,  // 429: cool down until `cool_until`, not a failure
    kNeutral,      // cancelled, a deadline, a 4xx: says nothing of health
  };

  ProposerDispatch(const ProposerDispatchOptions& options, absl::Time now);

  // A replica for an attempt estimated at `est_tokens` tokens, counted in
  // flight and against the limits; or when to ask again (rate limit, every
  // replica cooling down or at its cap); or kAllOpen.
  Decision Acquire(double est_tokens, uint64_t affinity, int avoid,
                   absl::Time now);
  // Ends an attempt that Acquire() started on `replica`. `actual_tokens`
  // (> 0) corrects the estimate from the answer's usage.
  void Finish(int replica, End end, absl::Time cool_until, double est_tokens,
              double actual_tokens, absl::Time now);

  int replicas() const { return replica_count_; }
  ReplicaSet::BreakerState state(int replica) const;
  int in_flight(int replica) const;

 private:
  const int replica_count_;
  // How long a caller waits when every replica is busy or cooling down:
  // the replica set does not say when one frees up.
  static constexpr absl::Duration kBusyPoll = absl::Milliseconds(50);
  mutable absl::Mutex mu_;
  ReplicaSet replica_set_ ABSL_GUARDED_BY(mu_);
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSER_DISPATCH_H_
