// ParallelFor: runs fn(i) for i in [0, n) on at most `concurrency` threads
// (each takes the next index when it finishes one), for reward-cli commands
// whose calls block (one RefineRubric stream per thread) and must be
// bounded. Stops handing out indices once `stop` (optional) is set.
//
//   std::atomic<bool> stop{false};
//   ParallelFor(records.size(), 8, [&](size_t i) { Refine(records[i]); },
//               &stop);
//
// Thread-safety: fn runs concurrently with itself; it must synchronize what
// it shares. Returns when every started fn has returned.
#ifndef REWARDD_CLIENT_CLI_PARALLEL_FOR_H_
#define REWARDD_CLIENT_CLI_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"

namespace rewardd::cli {

inline void ParallelFor(size_t n, int concurrency,
                        absl::FunctionRef<void(size_t)> fn,
                        const std::atomic<bool>* stop = nullptr) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    while (stop == nullptr || !stop->load()) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      fn(i);
    }
  };
  const size_t threads =
      std::min(n, static_cast<size_t>(std::max(1, concurrency)));
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
}

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_PARALLEL_FOR_H_
