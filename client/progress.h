// ProgressBar: a one-line progress display (done/total, rate, ETA) redrawn
// on a terminal by a background thread.
//
//   rewardd::ProgressBar bar(/*total=*/1000, stderr);
//   bar.Start();
//   ... bar.Add(1);            // from any thread, lock-free
//   bar.Stop();                // draws the final line and a newline
//
// Render() is the pure formatting function, for tests and other displays.
#ifndef REWARDD_CLIENT_PROGRESS_H_
#define REWARDD_CLIENT_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace rewardd {

// Thread-safe: Add may be called from any thread at any time; Start and Stop
// from one owning thread.
class ProgressBar {
 public:
  // `total` < 0: unknown (no bar, no ETA). `out` is not owned.
  explicit ProgressBar(int64_t total, FILE* out = stderr,
                       absl::Duration interval = absl::Milliseconds(250));
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();  // Stop()

  void Start();
  void Add(int64_t done, int64_t failed = 0) {
    done_.fetch_add(done, std::memory_order_relaxed);
    failed_.fetch_add(failed, std::memory_order_relaxed);
  }
  void Stop();

  // E.g. "[#########           ]  450/1000  45%  37.5/s  ETA 14s  2 failed".
  static std::string Render(int64_t done, int64_t failed, int64_t total,
                            absl::Duration elapsed);

 private:
  void Draw(bool final);

  const int64_t total_;
  FILE* const out_;
  const absl::Duration interval_;
  absl::Time start_time_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> failed_{0};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace rewardd

#endif  // REWARDD_CLIENT_PROGRESS_H_
