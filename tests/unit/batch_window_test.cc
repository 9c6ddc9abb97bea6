// BatchWindow: when a batch of one affinity key is released (full, after
// max_queue_delay, early for a near deadline), what a sweep removes and
// what shutdown takes, all with times passed in.
#include "server/judge/pool/batch_window.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::ElementsAre;
using Window = BatchWindow<std::string>;

const absl::Time kNow = absl::FromUnixSeconds(1000);
constexpr absl::Duration kDelay = absl::Milliseconds(5);
constexpr absl::Duration kMinStart = absl::Milliseconds(20);
const absl::Time kFar = kNow + absl::Minutes(1);

Window MakeWindow(size_t max_batch_size = 3) {
  return Window({kDelay, max_batch_size, kMinStart});
}

TEST(BatchWindowTest, FirstItemOpensABatchReleasedAfterTheDelay) {
  Window w = MakeWindow();
  const Window::Held a = w.Hold(7, "a", kFar, absl::ZeroDuration(), kNow);
  EXPECT_FALSE(a.release_now);
  EXPECT_EQ(a.timer, kNow + kDelay);  // now + max_queue_delay
  // The second joins the batch; its timer is armed already.
  const Window::Held b =
      w.Hold(7, "b", kFar, absl::ZeroDuration(), kNow + absl::Milliseconds(1));
  EXPECT_EQ(b.batch, a.batch);
  EXPECT_EQ(b.timer, absl::InfiniteFuture());
  EXPECT_EQ(w.held(), 2u);
  // Another key is another batch.
  const Window::Held other = w.Hold(8, "x", kFar, absl::ZeroDuration(), kNow);
  EXPECT_NE(other.batch, a.batch);
  EXPECT_EQ(w.held(), 3u);
  // The timer fires: the batch is still forming; its items in order.
  ASSERT_TRUE(w.IsForming(7, a.batch));
  EXPECT_THAT(w.Take(7), ElementsAre("a", "b"));
  EXPECT_FALSE(w.IsForming(7, a.batch));
  EXPECT_TRUE(w.Take(7).empty());
  EXPECT_EQ(w.held(), 1u);
}

TEST(BatchWindowTest, AFullBatchIsReleasedAtOnce) {
  Window w = MakeWindow(/*max_batch_size=*/3);
  w.Hold(7, "a", kFar, absl::ZeroDuration(), kNow);
  EXPECT_FALSE(w.Hold(7, "b", kFar, absl::ZeroDuration(), kNow).release_now);
  const Window::Held c = w.Hold(7, "c", kFar, absl::ZeroDuration(), kNow);
  EXPECT_TRUE(c.release_now);
  EXPECT_TRUE(c.full);
  EXPECT_EQ(c.timer, absl::InfiniteFuture());
  EXPECT_THAT(w.Take(7), ElementsAre("a", "b", "c"));
  // The old batch's timer finds it gone; a new item opens a new batch.
  const Window::Held d = w.Hold(7, "d", kFar, absl::ZeroDuration(), kNow);
  EXPECT_FALSE(w.IsForming(7, c.batch));
  EXPECT_TRUE(w.IsForming(7, d.batch));
}

TEST(BatchWindowTest, ANearDeadlineReleasesEarly) {
  Window w = MakeWindow(/*max_batch_size=*/10);
  const absl::Duration latency = absl::Milliseconds(10);
  w.Hold(7, "a", kFar, latency, kNow);
  // Released at deadline - 2 * min_time_to_start - latency, if that comes
  // before now + max_queue_delay: an earlier timer for the same batch.
  const absl::Time deadline = kNow + absl::Milliseconds(52);
  const Window::Held b = w.Hold(7, "b", deadline, latency, kNow);
  EXPECT_FALSE(b.release_now);
  EXPECT_EQ(b.timer, deadline - 2 * kMinStart - latency);
  EXPECT_EQ(b.timer, kNow + absl::Milliseconds(2));
  // A deadline that leaves no time at all: released at once, not full.
  const Window::Held c =
      w.Hold(7, "c", kNow + absl::Milliseconds(40), latency, kNow);
  EXPECT_TRUE(c.release_now);
  EXPECT_FALSE(c.full);
  EXPECT_THAT(w.Take(7), ElementsAre("a", "b", "c"));
}

TEST(BatchWindowTest, SweepRemovesItemsAndClosesEmptiedBatches) {
  Window w = MakeWindow(/*max_batch_size=*/10);
  const Window::Held a = w.Hold(7, "a", kFar, absl::ZeroDuration(), kNow);
  w.Hold(7, "drop1", kFar, absl::ZeroDuration(), kNow);
  const Window::Held d = w.Hold(8, "drop2", kFar, absl::ZeroDuration(), kNow);
  std::vector<std::string> removed;
  EXPECT_TRUE(w.Sweep([&](std::string& item) {
    if (item.rfind("drop", 0) != 0) return false;
    removed.push_back(std::move(item));
    return true;
  }));
  EXPECT_THAT(removed, ::testing::UnorderedElementsAre("drop1", "drop2"));
  EXPECT_EQ(w.held(), 1u);
  EXPECT_TRUE(w.IsForming(7, a.batch));
  EXPECT_FALSE(w.IsForming(8, d.batch));  // emptied: its timer finds it gone
  EXPECT_FALSE(w.Sweep([](std::string&) { return false; }));
  EXPECT_THAT(w.Take(7), ElementsAre("a"));
}

TEST(BatchWindowTest, TakeAllEmptiesTheWindow) {
  Window w = MakeWindow();
  w.Hold(7, "a", kFar, absl::ZeroDuration(), kNow);
  w.Hold(8, "b", kFar, absl::ZeroDuration(), kNow);
  EXPECT_THAT(w.TakeAll(), ::testing::UnorderedElementsAre("a", "b"));
  EXPECT_EQ(w.held(), 0u);
  EXPECT_TRUE(w.TakeAll().empty());
}

}  // namespace
}  // namespace rewardd
