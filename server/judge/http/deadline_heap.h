// The curl loop's transfer deadlines: a min-heap of (deadline, id) values.
// A transfer that completes early is not looked for in the heap; its entry
// becomes stale and is dropped when it reaches the top (lazy removal), or all
// at once when stale entries may outnumber live ones (compaction), so the
// heap stays within a constant factor of the live transfers. Which ids are
// live is the caller's to say, through a predicate.
//
//   DeadlineHeap heap;
//   heap.Push(start + timeout, id, running.size(), is_running);
//   while (std::optional<DeadlineHeap::Entry> top = heap.Top(is_running)) {
//     if (top->when > now) break;  // the next deadline to sleep until
//     heap.Pop();
//     Expire(top->id);
//   }
//
// Thread-safety: none; the curl loop uses it on its own thread only.
#ifndef REWARDD_SERVER_JUDGE_HTTP_DEADLINE_HEAP_H_
#define REWARDD_SERVER_JUDGE_HTTP_DEADLINE_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace rewardd {

class DeadlineHeap {
 public:
  struct Entry {
    absl::Time when;
    uint64_t id;
  };
  // True while the transfer `id` still runs.
  using IsLive = absl::FunctionRef<bool(uint64_t id)>;

  // Compaction runs once the heap holds more than twice the live entries
  // plus `compact_slack`, so small heaps are never compacted.
  explicit DeadlineHeap(size_t compact_slack = 1024)
      : compact_slack_(compact_slack) {}

  // Adds the deadline of `id`. `live_count` is the number of live ids
  // (those `live` accepts), which decides when to compact.
  void Push(absl::Time when, uint64_t id, size_t live_count, IsLive live);

  // Drops stale entries from the top, then returns the earliest live entry;
  // nullopt when there is none.
  std::optional<Entry> Top(IsLive live);

  // Removes the top entry (the one Top() returned). The heap must not be
  // empty.
  void Pop();

  // Entries held, stale ones included.
  size_t size() const { return heap_.size(); }

 private:
  // Removes every stale entry and restores the heap order.
  void Compact(IsLive live);

  const size_t compact_slack_;
  std::vector<Entry> heap_;  // std::push_heap order with Later()
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_DEADLINE_HEAP_H_
