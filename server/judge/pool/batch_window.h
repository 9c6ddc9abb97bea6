// The batching window of a judge pool (JudgePoolOptions::max_queue_delay):
// work with one affinity key (the same prompt and rubric) is held, then
// released together so the pool sends it back-to-back to one replica. A
// batch is released when it holds max_batch_size items, or at
//   min(first hold + max_queue_delay,
//       each item's deadline - 2 * min_time_to_start - latency)
// where `latency` is the pool's average call time: an item is never held so
// long that a typical call could not finish before its deadline (the second
// min_time_to_start absorbs a late timer). Times are passed in; the caller
// arms a timer for the time Hold() returns and calls IsForming() + Take()
// when it fires.
//
//   BatchWindow<CallPtr> window({max_queue_delay, max_batch_size,
//                                min_time_to_start});
//   BatchWindow<CallPtr>::Held h =
//       window.Hold(key, call, deadline, latency, now);
//   if (h.release_now) queue(window.Take(key));
//   else if (h.timer != absl::InfiniteFuture()) arm(h.timer, key, h.batch);
//   ... timer fires: if (window.IsForming(key, batch)) queue(window.Take(key));
//
// Thread-safety: none; JudgePool guards it with its mutex.
#ifndef REWARDD_SERVER_JUDGE_POOL_BATCH_WINDOW_H_
#define REWARDD_SERVER_JUDGE_POOL_BATCH_WINDOW_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace rewardd {

template <typename Item>
class BatchWindow {
 public:
  struct Options {
    absl::Duration max_queue_delay;
    size_t max_batch_size;
    absl::Duration min_time_to_start;
  };
  struct Held {
    uint64_t batch = 0;  // the batch the item joined
    // Arm a release timer for `batch` at this time (InfiniteFuture: none
    // needed, a timer for the batch is armed already or it is released).
    absl::Time timer = absl::InfiniteFuture();
    bool release_now = false;  // Take(key) now
    bool full = false;         // ... because it holds max_batch_size items
  };

  explicit BatchWindow(Options options) : options_(options) {}

  // Adds `item` to the batch of `key` (opening one if there is none).
  Held Hold(uint64_t key, Item item, absl::Time deadline,
            absl::Duration latency, absl::Time now) {
    const absl::Time latest =
        deadline - 2 * options_.min_time_to_start - latency;
    Batch& b = forming_[key];
    Held held;
    if (b.items.empty()) {
      b.id = ++next_batch_id_;
      b.release_at = now + options_.max_queue_delay;
      held.timer = b.release_at;
    }
    if (latest < b.release_at) {
      // An earlier timer for the same batch; the later one finds it gone.
      b.release_at = latest;
      held.timer = latest;
    }
    b.items.push_back(std::move(item));
    ++held_;
    held.batch = b.id;
    held.full = b.items.size() >= options_.max_batch_size;
    if (held.full || b.release_at <= now) {
      held.release_now = true;
      held.timer = absl::InfiniteFuture();
    }
    return held;
  }

  // Whether batch `batch` of `key` is still being filled (not released by
  // being full, an earlier timer, or emptied by Sweep()).
  bool IsForming(uint64_t key, uint64_t batch) const {
    auto it = forming_.find(key);
    return it != forming_.end() && it->second.id == batch;
  }

  // Removes the batch of `key` and returns its items in arrival order
  // (empty when there is none).
  std::vector<Item> Take(uint64_t key) {
    std::vector<Item> items;
    auto it = forming_.find(key);
    if (it == forming_.end()) return items;
    items = std::move(it->second.items);
    forming_.erase(it);
    held_ -= items.size();
    return items;
  }

  // Calls `remove(item)` on every held item; the ones it returns true for
  // (after moving them out, if it wants them) leave the window. Emptied
  // batches are closed. Returns whether any item left.
  template <typename Remove>
  bool Sweep(Remove remove) {
    bool removed = false;
    std::vector<uint64_t> emptied;
    for (auto& [key, batch] : forming_) {
      auto kept = std::remove_if(batch.items.begin(), batch.items.end(),
                                 [&](Item& item) { return remove(item); });
      if (kept == batch.items.end()) continue;
      removed = true;
      held_ -= static_cast<size_t>(batch.items.end() - kept);
      batch.items.erase(kept, batch.items.end());
      if (batch.items.empty()) emptied.push_back(key);
    }
    for (uint64_t key : emptied) forming_.erase(key);
    return removed;
  }

  // Every held item (batch by batch); the window is empty after.
  std::vector<Item> TakeAll() {
    std::vector<Item> items;
    for (auto& [key, batch] : forming_) {
      for (Item& item : batch.items) items.push_back(std::move(item));
    }
    forming_.clear();
    held_ = 0;
    return items;
  }

  // Items held in all batches.
  size_t held() const { return held_; }

 private:
  struct Batch {
    uint64_t id = 0;
    absl::Time release_at;
    std::vector<Item> items;
  };

  Options options_;
  absl::flat_hash_map<uint64_t, Batch> forming_;
  size_t held_ = 0;
  uint64_t next_batch_id_ = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_BATCH_WINDOW_H_
