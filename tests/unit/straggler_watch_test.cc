// StragglerWatch: calls become due after the hedge delay, in send order; a
// due call that cannot be hedged yet stays watched and is offered again
// every retry interval until it is hedged or finishes. Times are injected.
#include "server/judge/pool/straggler_watch.h"

#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using Watch = StragglerWatch<int>;
const absl::Time t0 = absl::FromUnixSeconds(1000);
const absl::Duration kDelay = absl::Milliseconds(100);
const absl::Duration kRetry = absl::Milliseconds(50);

TEST(StragglerWatchTest, ItemsBecomeDueAfterTheDelayInSendOrder) {
  Watch w(kRetry);
  w.Add(1, t0);
  w.Add(2, t0 + absl::Milliseconds(30));
  std::vector<int> seen;
  auto take = [&](int& x) {
    seen.push_back(x);
    return Watch::kDone;
  };
  // Nothing is due before the delay: the next tick is the oldest's due time.
  EXPECT_EQ(w.Tick(t0 + absl::Milliseconds(99), kDelay, take), t0 + kDelay);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(w.Tick(t0 + kDelay, kDelay, take), t0 + absl::Milliseconds(130));
  EXPECT_EQ(seen, std::vector<int>({1}));
  EXPECT_EQ(w.Tick(t0 + absl::Milliseconds(200), kDelay, take),
            absl::InfiniteFuture());
  EXPECT_EQ(seen, std::vector<int>({1, 2}));
  EXPECT_EQ(w.watched(), 0u);
  EXPECT_EQ(w.overdue(), 0u);
}

TEST(StragglerWatchTest, ADueItemThatCannotBeHedgedYetIsOfferedAgain) {
  // The pool is busy (work queued for a slot) when the call becomes due;
  // the old behaviour dropped it, so it was never hedged once the queue
  // drained. It must stay watched until the hedge can go.
  Watch w(kRetry);
  w.Add(7, t0);
  bool busy = true;
  int offers = 0, hedged = 0;
  auto visit = [&](int&) {
    ++offers;
    if (busy) return Watch::kNotYet;
    ++hedged;
    return Watch::kDone;
  };
  absl::Time now = t0 + kDelay;
  absl::Time next = w.Tick(now, kDelay, visit);
  EXPECT_EQ(offers, 1);
  EXPECT_EQ(w.overdue(), 1u);
  EXPECT_EQ(next, now + kRetry);  // re-offered after the retry interval
  now = next;
  next = w.Tick(now, kDelay, visit);
  EXPECT_EQ(offers, 2);
  EXPECT_EQ(next, now + kRetry);
  busy = false;  // the queue drained
  now = next;
  EXPECT_EQ(w.Tick(now, kDelay, visit), absl::InfiniteFuture());
  EXPECT_EQ(offers, 3);
  EXPECT_EQ(hedged, 1);
  EXPECT_EQ(w.overdue(), 0u);
}

TEST(StragglerWatchTest, OverdueItemsAreOfferedFirstAndKeptUntilDone) {
  Watch w(kRetry);
  w.Add(1, t0);
  w.Add(2, t0 + absl::Milliseconds(10));
  w.Add(3, t0 + absl::Milliseconds(500));
  std::vector<int> seen;
  // First tick: 1 and 2 are due; 1 finished meanwhile (done), 2 waits.
  absl::Time next = w.Tick(t0 + absl::Milliseconds(120), kDelay, [&](int& x) {
    seen.push_back(x);
    return x == 1 ? Watch::kDone : Watch::kNotYet;
  });
  EXPECT_EQ(seen, std::vector<int>({1, 2}));
  // The overdue retry comes before item 3's due time.
  EXPECT_EQ(next, t0 + absl::Milliseconds(170));
  seen.clear();
  // At 3's due time: the overdue 2 is offered before 3.
  next = w.Tick(t0 + absl::Milliseconds(600), kDelay, [&](int& x) {
    seen.push_back(x);
    return Watch::kDone;
  });
  EXPECT_EQ(seen, std::vector<int>({2, 3}));
  EXPECT_EQ(next, absl::InfiniteFuture());
}

TEST(StragglerWatchTest, ClearForgetsEverything) {
  Watch w(kRetry);
  w.Add(1, t0);
  w.Add(2, t0);
  w.Tick(t0 + kDelay, kDelay, [](int&) { return Watch::kNotYet; });
  w.Add(3, t0 + kDelay);
  EXPECT_EQ(w.overdue(), 2u);
  EXPECT_EQ(w.watched(), 1u);
  w.Clear();
  EXPECT_EQ(w.overdue(), 0u);
  EXPECT_EQ(w.watched(), 0u);
  int offers = 0;
  EXPECT_EQ(w.Tick(t0 + absl::Seconds(10), kDelay,
                   [&](int&) {
                     ++offers;
                     return Watch::kDone;
                   }),
            absl::InfiniteFuture());
  EXPECT_EQ(offers, 0);
}

}  // namespace
}  // namespace rewardd
