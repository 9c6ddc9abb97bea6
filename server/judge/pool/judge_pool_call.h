// The state of one judge call inside a JudgePool (JudgePool::Call): the
// work it answers, the requests waiting on it, and its attempts. Private to
// the pool's implementation (judge_pool.cc, judge_pool_attempts.cc).
//
// Thread-safety: fields are guarded by the pool's mutex unless their
// comment says otherwise.
#ifndef REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_CALL_H_
#define REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_CALL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "server/judge/http/chat_judge_codec.h"
#include "server/judge/judge.h"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/verdict_cache.h"

namespace rewardd {

// The replica a released batch goes to: set by its first call to start.
// Guarded by the pool's mu_.
struct BatchPin {
  int replica = -1;
};

struct JudgePool::Call {
  struct Waiter {
    JudgeCallback done;
    std::shared_ptr<const Cancellation> cancellation;
    absl::Time enqueued;
    bool follower = false;
  };

  std::shared_ptr<const GradeInput> input;
  std::vector<uint32_t> criteria;
  GradingMode mode = GradingMode::kAllInOne;
  std::vector<CacheKey> keys;  // per criterion; empty without cache/dedup
  CacheKey call_key;
  uint64_t affinity = 0;
  absl::Time enqueued;

  // Guarded by the pool's mu_ (followers join while the call runs).
  std::vector<Waiter> waiters;
  absl::Time deadline = absl::InfiniteFuture();
  bool in_dedup = false;
  // The batch this call was released in (until it starts).
  std::shared_ptr<BatchPin> pin;
  // Attempts in flight: slot 0 is the attempt, slot 1 its hedge. The first
  // good answer wins (`won`); the other attempt's result is ignored.
  int live = 0;
  bool won = false;
  bool hedged = false;  // at most one hedge per call
  uint32_t sends = 0;   // attempts started; names the current one
  uint64_t transfer[2] = {0, 0};
  int replica[2] = {-1, -1};

  // Touched only by whoever holds the call outside the queue (the sender,
  // then the completion on the loop thread): never concurrently.
  absl::Time first_start = absl::InfiniteFuture();
  CallParams params;
  int attempts = 0;
  int parse_retries = 0;
  int length_retries = 0;
  int avoid = -1;

  // Set before the call is queued, then read-only.
  bool sample = false;    // a vote sample: never cached
  double est_tokens = 0;  // request bytes / 4 (only with a tokens limit)
  // The tokens the rate limiter charged for the attempt in flight (mu_).
  double reserved_tokens = 0;

  // A call is abandoned only when every request waiting on it is.
  bool AllCancelled() const {
    if (waiters.empty()) return false;
    for (const Waiter& w : waiters) {
      if (w.cancellation == nullptr || !w.cancellation->cancelled()) {
        return false;
      }
    }
    return true;
  }
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_JUDGE_POOL_CALL_H_
