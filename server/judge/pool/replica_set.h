// The replicas of one judge and how a call picks one: least outstanding
// requests, with affinity (rendezvous hashing of the prompt and rubric) that
// keeps one prompt's calls on one healthy replica while it is not much
// busier than the least busy one, so that replica's prefix cache stays warm.
// Each replica has a cap on calls in flight, a cool-down after a 429
// (Retry-After), and a circuit breaker:
//
//   closed --N consecutive failures--> open --open_time--> half-open
//   half-open: one probe call; success -> closed, failure -> open again
//
//   ReplicaSet replicas(3, ReplicaSet::Options{});
//   int r;
//   if (replicas.Choose(affinity, /*avoid=*/-1, absl::Now(), &r) ==
//       ReplicaSet::Pick::kPicked) {
//     ... call replica r ...
//     replicas.OnSuccess(r);  // or OnFailure(r, now) / OnRateLimited(...)
//     replicas.Release(r);
//   }
//
// Thread-safety: none; the owning pool guards it with its mutex.
#ifndef REWARDD_SERVER_JUDGE_POOL_REPLICA_SET_H_
#define REWARDD_SERVER_JUDGE_POOL_REPLICA_SET_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace rewardd {

class ReplicaSet {
 public:
  struct Options {
    int max_in_flight = 64;
    int breaker_failures = 5;
    absl::Duration breaker_open_time = absl::Seconds(5);
    // The affinity replica is kept while its outstanding calls are at most
    // this many more than the least busy replica's.
    int affinity_slack = 4;
  };
  enum class Pick {
    kPicked,
    kBusy,     // every usable replica is at its cap or cooling down
    kAllOpen,  // every replica's breaker is open: fail fast
  };
  enum class BreakerState { kClosed, kOpen, kHalfOpen };

  ReplicaSet(int replicas, Options options);

  // Picks a replica for a call and counts it in flight. `avoid` (a replica
  // that just failed this call, or -1) is used only when nothing else is.
  Pick Choose(uint64_t affinity, int avoid, absl::Time now, int* replica);
  // Counts a call in flight on `replica` itself if it is usable now (below
  // its cap, not cooling down, breaker not open): how a batch follows its
  // first call. False: nothing changed.
  bool TryTake(int replica, absl::Time now);
  // For a duplicate (hedged) call: the least busy replica other than
  // `exclude` whose breaker is closed, with a free slot and not cooling
  // down; counts the call in flight. False when there is none.
  bool ChooseHedge(int exclude, absl::Time now, int* replica);
  void Release(int replica);
  void OnSuccess(int replica);
  void OnFailure(int replica, absl::Time now);
  // A 429: no new calls to it before `until`; not a breaker failure.
  void OnRateLimited(int replica, absl::Time until);

  int size() const { return static_cast<int>(replicas_.size()); }
  int in_flight(int replica) const { return replicas_[replica].in_flight; }
  BreakerState state(int replica) const { return replicas_[replica].state; }
  int total_in_flight() const;
  int capacity() const { return size() * options_.max_in_flight; }

 private:
  struct Replica {
    int in_flight = 0;
    int consecutive_failures = 0;
    BreakerState state = BreakerState::kClosed;
    absl::Time open_until = absl::InfinitePast();
    absl::Time cool_until = absl::InfinitePast();
    bool probe_in_flight = false;
  };
  bool Usable(Replica& r, absl::Time now, bool* open);
  static uint64_t Score(uint64_t affinity, int replica);

  Options options_;
  std::vector<Replica> replicas_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_REPLICA_SET_H_
