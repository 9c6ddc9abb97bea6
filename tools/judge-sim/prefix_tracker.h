// What a prefix cache (vLLM/SGLang automatic prefix caching) could have
// saved: for each prompt, the length of its longest common prefix with any
// earlier prompt. Earlier prompts are kept in a sorted set; the earlier
// prompt sharing the longest prefix with X is always X's predecessor or
// successor in sorted order, so each Add() costs O(log n) comparisons plus
// two prefix scans. Memory is bounded: the oldest prompts are forgotten
// first once `max_bytes` is exceeded (a real cache evicts too).
//
//   PrefixTracker t(256 << 20);
//   t.Add("system...user A");        // returns 0
//   t.Add("system...user B");        // returns len("system...user ")
//
// Thread-safety: not thread-safe; the simulator guards it with a mutex.
#ifndef REWARDD_TOOLS_JUDGE_SIM_PREFIX_TRACKER_H_
#define REWARDD_TOOLS_JUDGE_SIM_PREFIX_TRACKER_H_

#include <cstddef>
#include <deque>
#include <set>
#include <string>

namespace rewardd {

class PrefixTracker {
 public:
  explicit PrefixTracker(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Records `prompt`; returns how many of its leading bytes an earlier
  // prompt already had.
  size_t Add(std::string prompt);

  size_t stored_bytes() const { return bytes_; }

 private:
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::multiset<std::string> prompts_;
  std::deque<std::multiset<std::string>::iterator> order_;  // oldest first
};

}  // namespace rewardd

#endif  // REWARDD_TOOLS_JUDGE_SIM_PREFIX_TRACKER_H_
