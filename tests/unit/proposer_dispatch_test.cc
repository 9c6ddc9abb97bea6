// ProposerDispatch (server/elicitation/proposer_dispatch.h): the judge
// pool's breaker and RPM/TPM limits as a proposer uses them, driven by a
// fake clock (times are passed in).
#include "server/elicitation/proposer_dispatch.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

using Decision = ProposerDispatch::Decision;
using End = ProposerDispatch::End;

const absl::Time kT0 = absl::FromUnixSeconds(1000000);

ProposerDispatchOptions Options(int replicas) {
  ProposerDispatchOptions o;
  o.replicas = replicas;
  o.max_in_flight_per_replica = 8;
  o.breaker_failures = 2;
  o.breaker_open_time = absl::Seconds(10);
  return o;
}

TEST(ProposerDispatchTest, BreakerOpensAfterFailuresThenProbesAndCloses) {
  ProposerDispatch d(Options(1), kT0);
  for (int i = 0; i < 2; ++i) {
    const Decision go = d.Acquire(100, 7, -1, kT0);
    ASSERT_EQ(go.kind, Decision::kGo);
    d.Finish(go.replica, End::kFailure, absl::InfinitePast(), 100, 0, kT0);
  }
  EXPECT_EQ(d.state(0), ReplicaSet::BreakerState::kOpen);
  // Open: fail fast, no replica taken.
  EXPECT_EQ(d.Acquire(100, 7, -1, kT0 + absl::Seconds(9)).kind,
            Decision::kAllOpen);
  EXPECT_EQ(d.in_flight(0), 0);
  // After open_time: one probe; a second call waits for it.
  const absl::Time later = kT0 + absl::Seconds(10);
  const Decision probe = d.Acquire(100, 7, -1, later);
  ASSERT_EQ(probe.kind, Decision::kGo);
  EXPECT_EQ(d.state(0), ReplicaSet::BreakerState::kHalfOpen);
  const Decision second = d.Acquire(100, 7, -1, later);
  EXPECT_EQ(second.kind, Decision::kWait);
  EXPECT_GT(second.until, later);
  d.Finish(probe.replica, End::kSuccess, absl::InfinitePast(), 100, 0, later);
  EXPECT_EQ(d.state(0), ReplicaSet::BreakerState::kClosed);
  EXPECT_EQ(d.Acquire(100, 7, -1, later).kind, Decision::kGo);
}

TEST(ProposerDispatchTest, NeutralAndRateLimitedEndsDoNotOpenTheBreaker) {
  ProposerDispatch d(Options(1), kT0);
  for (int i = 0; i < 4; ++i) {
    const Decision go = d.Acquire(100, 7, -1, kT0);
    ASSERT_EQ(go.kind, Decision::kGo);
    d.Finish(go.replica, End::kNeutral, absl::InfinitePast(), 100, 0, kT0);
  }
  EXPECT_EQ(d.state(0), ReplicaSet::BreakerState::kClosed);
  const Decision go = d.Acquire(100, 7, -1, kT0);
  ASSERT_EQ(go.kind, Decision::kGo);
  // A 429 cools the replica down until its Retry-After.
  d.Finish(go.replica, End::kRateLimited, kT0 + absl::Seconds(3), 100, 0, kT0);
  EXPECT_EQ(d.state(0), ReplicaSet::BreakerState::kClosed);
  EXPECT_EQ(d.Acquire(100, 7, -1, kT0 + absl::Seconds(1)).kind,
            Decision::kWait);
  EXPECT_EQ(d.Acquire(100, 7, -1, kT0 + absl::Seconds(3)).kind, Decision::kGo);
}

TEST(ProposerDispatchTest, RetryAvoidsTheFailedReplicaAndSkipsAnOpenOne) {
  ProposerDispatch d(Options(2), kT0);
  const Decision first = d.Acquire(100, 7, -1, kT0);
  ASSERT_EQ(first.kind, Decision::kGo);
  d.Finish(first.replica, End::kFailure, absl::InfinitePast(), 100, 0, kT0);
  const Decision retry = d.Acquire(100, 7, first.replica, kT0);
  ASSERT_EQ(retry.kind, Decision::kGo);
  EXPECT_NE(retry.replica, first.replica);
  d.Finish(retry.replica, End::kSuccess, absl::InfinitePast(), 100, 0, kT0);
  // Open the first replica's breaker: every call goes to the other one.
  const Decision again = d.Acquire(100, 7, retry.replica, kT0);
  ASSERT_EQ(again.replica, first.replica);
  d.Finish(again.replica, End::kFailure, absl::InfinitePast(), 100, 0, kT0);
  ASSERT_EQ(d.state(first.replica), ReplicaSet::BreakerState::kOpen);
  for (int i = 0; i < 3; ++i) {
    const Decision go = d.Acquire(100, i, -1, kT0);
    ASSERT_EQ(go.kind, Decision::kGo);
    EXPECT_EQ(go.replica, retry.replica);
    d.Finish(go.replica, End::kSuccess, absl::InfinitePast(), 100, 0, kT0);
  }
}

TEST(ProposerDispatchTest, RequestsPerMinuteHoldCallsUntilTheBudgetRefills) {
  ProposerDispatchOptions o = Options(1);
  o.requests_per_minute = 60;  // one a second, a burst of one
  ProposerDispatch d(o, kT0);
  const Decision first = d.Acquire(10, 7, -1, kT0);
  ASSERT_EQ(first.kind, Decision::kGo);
  d.Finish(first.replica, End::kSuccess, absl::InfinitePast(), 10, 0, kT0);
  const Decision held = d.Acquire(10, 7, -1, kT0);
  ASSERT_EQ(held.kind, Decision::kWait);
  EXPECT_GT(held.until, kT0);
  EXPECT_LE(held.until, kT0 + absl::Seconds(1) + absl::Milliseconds(2));
  EXPECT_EQ(d.Acquire(10, 7, -1, held.until).kind, Decision::kGo);
}

TEST(ProposerDispatchTest, TokensPerMinuteChargeTheAnswersUsage) {
  ProposerDispatchOptions o = Options(1);
  o.tokens_per_minute = 6000;  // 100 a second
  o.rate_limit_burst = absl::Seconds(1);
  ProposerDispatch d(o, kT0);
  const Decision first = d.Acquire(50, 7, -1, kT0);
  ASSERT_EQ(first.kind, Decision::kGo);
  // The estimate was 50, the answer used 650: the bucket owes 600 tokens,
  // six seconds of refill, before the next call of 50 may start.
  d.Finish(first.replica, End::kSuccess, absl::InfinitePast(), 50, 650, kT0);
  const Decision held = d.Acquire(50, 7, -1, kT0);
  ASSERT_EQ(held.kind, Decision::kWait);
  EXPECT_GE(held.until, kT0 + absl::Seconds(5));
  EXPECT_EQ(d.Acquire(50, 7, -1, held.until).kind, Decision::kGo);
}

}  // namespace
}  // namespace rewardd
