// DeadlineHeap, the curl loop's transfer deadlines: earliest first, stale
// entries dropped as they reach the top, compaction that keeps every live
// entry. Deterministic: times are fixed values, liveness a set the test owns.
#include "server/judge/http/deadline_heap.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

absl::Time At(int ms) {
  return absl::FromUnixSeconds(1000) + absl::Milliseconds(ms);
}

// A heap and the set of running transfers it is asked about, as the loop
// keeps them.
class DeadlineHeapTest : public ::testing::Test {
 protected:
  explicit DeadlineHeapTest(size_t compact_slack = 1024)
      : heap_(compact_slack) {}

  bool IsLive(uint64_t id) const { return live_.contains(id); }

  // Starts transfer `id` with its deadline at At(ms).
  void Start(uint64_t id, int ms) {
    live_.insert(id);
    heap_.Push(At(ms), id, live_.size(),
               [this](uint64_t x) { return IsLive(x); });
  }

  std::optional<DeadlineHeap::Entry> Top() {
    return heap_.Top([this](uint64_t x) { return IsLive(x); });
  }

  // Pops every live entry in heap order; returns their ids.
  std::vector<uint64_t> Drain() {
    std::vector<uint64_t> ids;
    while (std::optional<DeadlineHeap::Entry> top = Top()) {
      ids.push_back(top->id);
      heap_.Pop();
    }
    return ids;
  }

  DeadlineHeap heap_;
  absl::flat_hash_set<uint64_t> live_;
};

TEST_F(DeadlineHeapTest, EntriesComeOutEarliestFirst) {
  Start(1, 50);
  Start(2, 10);
  Start(3, 40);
  Start(4, 20);
  Start(5, 30);
  std::optional<DeadlineHeap::Entry> top = Top();
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->id, 2u);
  EXPECT_EQ(top->when, At(10));
  EXPECT_EQ(Drain(), (std::vector<uint64_t>{2, 4, 5, 3, 1}));
  EXPECT_EQ(heap_.size(), 0u);
  EXPECT_FALSE(Top().has_value());
}

TEST_F(DeadlineHeapTest, StaleTopsAreDroppedAndTheNextLiveOneReturned) {
  Start(1, 10);
  Start(2, 20);
  Start(3, 30);
  // Transfers 1 and 2 complete early: their entries are not looked for.
  live_.erase(1);
  live_.erase(2);
  EXPECT_EQ(heap_.size(), 3u);
  std::optional<DeadlineHeap::Entry> top = Top();
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->id, 3u);
  EXPECT_EQ(top->when, At(30));
  EXPECT_EQ(heap_.size(), 1u);  // Top() popped the two on its way
}

TEST_F(DeadlineHeapTest, StaleEntriesBelowTheTopWaitUntilTheyReachIt) {
  Start(1, 10);
  Start(2, 20);
  Start(3, 30);
  live_.erase(2);
  ASSERT_EQ(Top()->id, 1u);
  EXPECT_EQ(heap_.size(), 3u);  // the stale 2 is still inside
  heap_.Pop();
  ASSERT_EQ(Top()->id, 3u);  // 2 dropped on the way
  EXPECT_EQ(heap_.size(), 1u);
}

TEST_F(DeadlineHeapTest, NoLiveEntriesLeavesAnEmptyHeap) {
  Start(7, 5);
  Start(8, 6);
  live_.clear();
  EXPECT_FALSE(Top().has_value());
  EXPECT_EQ(heap_.size(), 0u);
}

// Compaction runs once the heap holds more than 2 * live + slack entries.
class SmallSlackTest : public DeadlineHeapTest {
 protected:
  SmallSlackTest() : DeadlineHeapTest(/*compact_slack=*/4) {}
};

// After any push: at most 2 * (live + 1) + 4 entries, the pushed call
// counting as live when it was pushed.
size_t Bound(size_t live) { return 2 * (live + 1) + 4; }

TEST_F(SmallSlackTest, CompactionDropsStaleEntriesAndKeepsEveryLiveOne) {
  // Ids 1..30 with deadlines in reverse order; two in three complete right
  // after they start, every third stays.
  for (uint64_t id = 1; id <= 30; ++id) {
    Start(id, 1000 - static_cast<int>(id));
    if (id % 3 != 0) live_.erase(id);
    EXPECT_LE(heap_.size(), Bound(live_.size())) << "after id " << id;
  }
  // Compaction ran (else all 30 would still be inside) ...
  EXPECT_LT(heap_.size(), 30u);
  // ... and every live entry is still there, in deadline order.
  EXPECT_EQ(Drain(),
            (std::vector<uint64_t>{30, 27, 24, 21, 18, 15, 12, 9, 6, 3}));
}

TEST_F(SmallSlackTest, CompactedHeapKeepsItsOrderForLaterPushes) {
  for (uint64_t id = 1; id <= 8; ++id) Start(id, static_cast<int>(id) * 10);
  for (uint64_t id = 1; id <= 8; id += 2) live_.erase(id);  // odd ones done
  // Calls that complete at once, each the earliest deadline so far: the
  // heap compacts once it passes 2 * 5 + 4 entries.
  for (uint64_t id = 100; id < 110; ++id) {
    Start(id, 5 - static_cast<int>(id - 100));
    live_.erase(id);
    EXPECT_LE(heap_.size(), Bound(live_.size())) << "after id " << id;
  }
  EXPECT_LT(heap_.size(), 18u);  // compacted at least once
  Start(200, 45);
  EXPECT_EQ(Drain(), (std::vector<uint64_t>{2, 4, 200, 6, 8}));
}

}  // namespace
}  // namespace rewardd
