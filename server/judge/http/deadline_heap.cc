#include "server/judge/http/deadline_heap.h"

#include <algorithm>

namespace rewardd {
namespace {

// The heap's order: std::push_heap keeps the greatest on top, so "greater"
// means "later" for a min-heap of deadlines.
bool Later(const DeadlineHeap::Entry& a, const DeadlineHeap::Entry& b) {
  return a.when > b.when;
}

}  // namespace

void DeadlineHeap::Push(absl::Time when, uint64_t id, size_t live_count,
                        IsLive live) {
  heap_.push_back({when, id});
  std::push_heap(heap_.begin(), heap_.end(), Later);
  // Stale entries leave only as they reach the top; when they may outnumber
  // the live ones, drop them all at once (amortized O(1) per push).
  if (heap_.size() > 2 * live_count + compact_slack_) Compact(live);
}

std::optional<DeadlineHeap::Entry> DeadlineHeap::Top(IsLive live) {
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    if (live(top.id)) return top;
    Pop();
  }
  return std::nullopt;
}

void DeadlineHeap::Pop() {
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  heap_.pop_back();
}

void DeadlineHeap::Compact(IsLive live) {
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(),
                             [&live](const Entry& e) { return !live(e.id); }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), Later);
}

}  // namespace rewardd
