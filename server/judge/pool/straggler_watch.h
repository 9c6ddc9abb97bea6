// The calls a judge pool watches for hedging (JudgePoolOptions::hedge_delay,
// hedge_after_percentile): first attempts in send order, each due for a
// hedge once it has been in flight for the hedge delay. A due call that
// cannot be hedged yet (work is queued for a slot, the budget is spent, no
// other replica has a free slot) stays watched as overdue and is offered
// again every `retry` until it is hedged or finishes: a straggler that
// passes its delay while the pool is busy is exactly the call that holds
// up the end of a burst (the last group of a GRPO step) once the queue
// drains, so it must not be forgotten. Times are passed in; the caller arms
// one timer for the time Tick() returns.
//
//   StragglerWatch<CallPtr> watch(options.sweep_interval);
//   watch.Add(call, now);                    // a first attempt just sent
//   absl::Time next = watch.Tick(now, delay, [&](CallPtr& c) {
//     if (!still_in_flight(c)) return StragglerWatch<CallPtr>::kDone;
//     return hedge_now(c) ? StragglerWatch<CallPtr>::kDone
//                         : StragglerWatch<CallPtr>::kNotYet;
//   });
//   if (next != absl::InfiniteFuture()) arm_timer(next);
//
// Thread-safety: none; JudgePool guards it with its mutex.
#ifndef REWARDD_SERVER_JUDGE_POOL_STRAGGLER_WATCH_H_
#define REWARDD_SERVER_JUDGE_POOL_STRAGGLER_WATCH_H_

#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace rewardd {

template <typename Item>
class StragglerWatch {
 public:
  // What the visitor of a due item decided.
  enum Verdict {
    kDone,    // hedged, or no longer worth one (finished, retried): dropped
    kNotYet,  // due but cannot be hedged now: offered again after `retry`
  };

  // `retry`: how often overdue items are offered again (> 0).
  explicit StragglerWatch(absl::Duration retry) : retry_(retry) {}

  // Watches `item`, sent at `sent` (not before the last item added).
  void Add(Item item, absl::Time sent) {
    watched_.push_back(Entry{sent, std::move(item)});
  }

  // Offers every item due at `now` (in flight for `delay` or longer, and
  // every overdue one) to `visit(Item&) -> Verdict`, oldest first. Returns
  // when to call Tick() next: the next item's due time, or now + retry
  // while overdue items remain; InfiniteFuture when nothing is watched.
  template <typename Visit>
  absl::Time Tick(absl::Time now, absl::Duration delay, Visit&& visit) {
    std::vector<Item> still;
    for (Item& item : overdue_) {
      if (visit(item) == kNotYet) still.push_back(std::move(item));
    }
    overdue_ = std::move(still);
    while (!watched_.empty() && watched_.front().sent + delay <= now) {
      Entry& e = watched_.front();
      if (visit(e.item) == kNotYet) overdue_.push_back(std::move(e.item));
      watched_.pop_front();
    }
    absl::Time next = absl::InfiniteFuture();
    if (!watched_.empty()) next = watched_.front().sent + delay;
    if (!overdue_.empty()) next = std::min(next, now + retry_);
    return next;
  }

  void Clear() {
    watched_.clear();
    overdue_.clear();
  }
  size_t watched() const { return watched_.size(); }
  size_t overdue() const { return overdue_.size(); }

 private:
  struct Entry {
    absl::Time sent;
    Item item;
  };
  const absl::Duration retry_;
  std::deque<Entry> watched_;  // in send order: the front is due first
  std::vector<Item> overdue_;  // due, not hedged yet
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_STRAGGLER_WATCH_H_
