// LatencyHistogram: an HDR-style histogram of durations for the load
// generator. Log-linear buckets (128 linear sub-buckets per power of two) keep
// the relative error of any reported percentile under 1% while recording
// costs one atomic increment, so completion callbacks on many gRPC threads
// can record without a lock.
//
//   LatencyHistogram h;
//   h.Record(absl::Microseconds(850));          // from any thread
//   absl::Duration p99 = h.Percentile(99.0);    // after the run
//   LatencyHistogram::Summary s = h.Summarize();
//
// Thread-safety: Record() may be called from any number of threads at once.
// Percentile(), Summarize() and Merge() read the counters without stopping
// writers: call them after the run for exact figures.
#ifndef REWARDD_BENCH_LATENCY_HISTOGRAM_H_
#define REWARDD_BENCH_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace rewardd::bench {

class LatencyHistogram {
 public:
  // Values are nanoseconds; 2^kMaxExponent ns (about 9 minutes) and above
  // land in the last bucket.
  static constexpr int kSubBucketBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMaxExponent = 39;
  static constexpr int kBuckets =
      (kMaxExponent - kSubBucketBits + 1) * kSubBuckets + kSubBuckets;

  struct Summary {
    int64_t count = 0;
    absl::Duration min, mean, max;
    absl::Duration p50, p90, p99, p999;
  };

  LatencyHistogram();
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Negative durations count as zero.
  void Record(absl::Duration d);

  // Adds every sample of `other` (e.g. per-phase histograms).
  void Merge(const LatencyHistogram& other);

  // Zeroes every counter. Not atomic with respect to concurrent Record().
  void Reset();

  int64_t count() const { return count_.load(std::memory_order_relaxed); }

  // The smallest recorded value v such that at least q% of the samples are
  // <= v, to within the bucket width (the bucket's midpoint is reported,
  // clamped to [min, max]). q in [0, 100]. Zero when empty.
  absl::Duration Percentile(double q) const;

  Summary Summarize() const;

  // Bucket arithmetic, exposed for tests.
  static int BucketOf(int64_t ns);
  static int64_t BucketLow(int bucket);   // smallest value in the bucket
  static int64_t BucketHigh(int bucket);  // largest value in the bucket

 private:
  std::array<std::atomic<int64_t>, kBuckets> buckets_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_ns_{0};
  std::atomic<int64_t> min_ns_;
  std::atomic<int64_t> max_ns_{0};
};

}  // namespace rewardd::bench

#endif  // REWARDD_BENCH_LATENCY_HISTOGRAM_H_
