#include "server/judge/pool/replica_set.h"

#include <algorithm>

namespace rewardd {

ReplicaSet::ReplicaSet(int replicas, Options options)
    : options_(options), replicas_(std::max(replicas, 0)) {}

// splitmix64 of affinity and replica: rendezvous hashing, so a replica that
// drops out moves only its own keys.
uint64_t ReplicaSet::Score(uint64_t affinity, int replica) {
  uint64_t z = affinity + 0x9e3779b97f4a7c15ull * (replica + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

bool ReplicaSet::Usable(Replica& r, absl::Time now, bool* open) {
  *open = false;
  if (r.state == BreakerState::kOpen) {
    if (now < r.open_until) {
      *open = true;
      return false;
    }
    r.state = BreakerState::kHalfOpen;
    r.probe_in_flight = false;
  }
  if (r.state == BreakerState::kHalfOpen) {
    return !r.probe_in_flight && now >= r.cool_until;
  }
  return r.in_flight < options_.max_in_flight && now >= r.cool_until;
}

ReplicaSet::Pick ReplicaSet::Choose(uint64_t affinity, int avoid,
                                    absl::Time now, int* replica) {
  int preferred = -1, least = -1, fallback = -1;
  uint64_t best_score = 0;
  int open = 0;
  for (int i = 0; i < size(); ++i) {
    Replica& r = replicas_[i];
    bool is_open = false;
    if (!Usable(r, now, &is_open)) {
      open += is_open;
      continue;
    }
    if (i == avoid) {
      fallback = i;
      continue;
    }
    const uint64_t score = Score(affinity, i);
    if (preferred < 0 || score > best_score) {
      preferred = i;
      best_score = score;
    }
    if (least < 0 || r.in_flight < replicas_[least].in_flight) least = i;
  }
  if (preferred < 0) preferred = least = fallback;
  if (preferred < 0) {
    return open == size() ? Pick::kAllOpen : Pick::kBusy;
  }
  int chosen = preferred;
  if (replicas_[preferred].in_flight >
      replicas_[least].in_flight + options_.affinity_slack) {
    chosen = least;
  }
  Replica& r = replicas_[chosen];
  if (r.state == BreakerState::kHalfOpen) r.probe_in_flight = true;
  ++r.in_flight;
  *replica = chosen;
  return Pick::kPicked;
}

bool ReplicaSet::TryTake(int replica, absl::Time now) {
  if (replica < 0 || replica >= size()) return false;
  Replica& r = replicas_[replica];
  bool open = false;
  if (!Usable(r, now, &open)) return false;
  if (r.state == BreakerState::kHalfOpen) r.probe_in_flight = true;
  ++r.in_flight;
  return true;
}

bool ReplicaSet::ChooseHedge(int exclude, absl::Time now, int* replica) {
  int best = -1;
  for (int i = 0; i < size(); ++i) {
    if (i == exclude) continue;
    Replica& r = replicas_[i];
    bool open = false;
    // A half-open replica's one probe is not spent on a duplicate.
    if (!Usable(r, now, &open) || r.state != BreakerState::kClosed) continue;
    if (best < 0 || r.in_flight < replicas_[best].in_flight) best = i;
  }
  if (best < 0) return false;
  ++replicas_[best].in_flight;
  *replica = best;
  return true;
}

void ReplicaSet::Release(int replica) { --replicas_[replica].in_flight; }

void ReplicaSet::OnSuccess(int replica) {
  Replica& r = replicas_[replica];
  r.consecutive_failures = 0;
  r.state = BreakerState::kClosed;
  r.probe_in_flight = false;
}

void ReplicaSet::OnFailure(int replica, absl::Time now) {
  Replica& r = replicas_[replica];
  ++r.consecutive_failures;
  if (r.state == BreakerState::kHalfOpen ||
      r.consecutive_failures >= options_.breaker_failures) {
    r.state = BreakerState::kOpen;
    r.open_until = now + options_.breaker_open_time;
    r.probe_in_flight = false;
  }
}

void ReplicaSet::OnRateLimited(int replica, absl::Time until) {
  Replica& r = replicas_[replica];
  r.cool_until = std::max(r.cool_until, until);
  if (r.state == BreakerState::kHalfOpen) r.probe_in_flight = false;
}

int ReplicaSet::total_in_flight() const {
  int n = 0;
  for (const Replica& r : replicas_) n += r.in_flight;
  return n;
}

}  // namespace rewardd
