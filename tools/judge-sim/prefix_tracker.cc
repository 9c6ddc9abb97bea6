#include "tools/judge-sim/prefix_tracker.h"

#include <algorithm>

namespace rewardd {
namespace {

size_t CommonPrefix(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

size_t PrefixTracker::Add(std::string prompt) {
  size_t best = 0;
  auto it = prompts_.lower_bound(prompt);
  if (it != prompts_.end()) best = CommonPrefix(prompt, *it);
  if (it != prompts_.begin()) {
    best = std::max(best, CommonPrefix(prompt, *std::prev(it)));
  }
  bytes_ += prompt.size();
  order_.push_back(prompts_.insert(it, std::move(prompt)));
  while (bytes_ > max_bytes_ && order_.size() > 1) {
    bytes_ -= order_.front()->size();
    prompts_.erase(order_.front());
    order_.pop_front();
  }
  return best;
}

}  // namespace rewardd
