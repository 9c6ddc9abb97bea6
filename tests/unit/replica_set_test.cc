// ReplicaSet: replica choice by affinity and load, the in-flight cap,
// circuit breakers and the 429 cool-down, with times passed in.
#include "server/judge/pool/replica_set.h"

#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

ReplicaSet::Options Opts(int cap, int failures = 3) {
  ReplicaSet::Options o;
  o.max_in_flight = cap;
  o.breaker_failures = failures;
  o.breaker_open_time = absl::Seconds(10);
  o.affinity_slack = 2;
  return o;
}

TEST(ReplicaSetTest, AffinityIsStableAndYieldsToLoad) {
  ReplicaSet set(4, Opts(100));
  const absl::Time now = absl::Now();
  int first = -1;
  ASSERT_EQ(set.Choose(12345, -1, now, &first), ReplicaSet::Pick::kPicked);
  set.Release(first);
  for (int i = 0; i < 10; ++i) {
    int r = -1;
    set.Choose(12345, -1, now, &r);
    EXPECT_EQ(r, first);
    set.Release(r);
  }
  // Load the affinity replica past the slack: the least busy one wins.
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    int r;
    set.Choose(12345, -1, now, &r);
    held.push_back(r);
  }
  EXPECT_EQ(held[0], first);
  EXPECT_EQ(held[1], first);
  EXPECT_EQ(held[2], first);  // 2 in flight vs 0: within slack 2
  int r;
  set.Choose(12345, -1, now, &r);
  EXPECT_NE(r, first);  // 3 vs 0: beyond the slack
}

TEST(ReplicaSetTest, CapAndBusy) {
  ReplicaSet set(2, Opts(1));
  const absl::Time now = absl::Now();
  int a, b, c;
  EXPECT_EQ(set.Choose(1, -1, now, &a), ReplicaSet::Pick::kPicked);
  EXPECT_EQ(set.Choose(1, -1, now, &b), ReplicaSet::Pick::kPicked);
  EXPECT_NE(a, b);
  EXPECT_EQ(set.Choose(1, -1, now, &c), ReplicaSet::Pick::kBusy);
  set.Release(a);
  EXPECT_EQ(set.Choose(1, -1, now, &c), ReplicaSet::Pick::kPicked);
  EXPECT_EQ(c, a);
}

TEST(ReplicaSetTest, BreakerOpensProbesAndCloses) {
  ReplicaSet set(1, Opts(10, 3));
  absl::Time now = absl::Now();
  int r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);
    set.OnFailure(r, now);
    set.Release(r);
  }
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kOpen);
  EXPECT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kAllOpen);
  now += absl::Seconds(11);
  ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);  // probe
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kHalfOpen);
  int other;
  EXPECT_EQ(set.Choose(1, -1, now, &other), ReplicaSet::Pick::kBusy);
  set.OnFailure(r, now);  // probe failed: open again
  set.Release(r);
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kOpen);
  now += absl::Seconds(11);
  ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);
  set.OnSuccess(r);
  set.Release(r);
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kClosed);
}

TEST(ReplicaSetTest, FailoverAvoidsAnOpenReplicaAndRateLimitCoolsDown) {
  ReplicaSet set(2, Opts(10, 1));
  const absl::Time now = absl::Now();
  int r;
  set.Choose(99, -1, now, &r);
  set.OnFailure(r, now);
  set.Release(r);
  int next;
  ASSERT_EQ(set.Choose(99, -1, now, &next), ReplicaSet::Pick::kPicked);
  EXPECT_NE(next, r);
  set.OnRateLimited(next, now + absl::Seconds(1));
  set.Release(next);
  int none;
  EXPECT_EQ(set.Choose(99, -1, now, &none), ReplicaSet::Pick::kBusy);
  EXPECT_EQ(set.Choose(99, -1, now + absl::Seconds(2), &none),
            ReplicaSet::Pick::kPicked);
}

}  // namespace
}  // namespace rewardd
