#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rewardd::bench {

namespace {

int HighestBit(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

LatencyHistogram::LatencyHistogram()
    : min_ns_(std::numeric_limits<int64_t>::max()) {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
}

int LatencyHistogram::BucketOf(int64_t ns) {
  if (ns < kSubBuckets) return ns < 0 ? 0 : static_cast<int>(ns);
  int exponent = HighestBit(static_cast<uint64_t>(ns));
  if (exponent > kMaxExponent) return kBuckets - 1;
  // Values in [2^e, 2^(e+1)) split into kSubBuckets equal parts.
  const int shift = exponent - kSubBucketBits;
  const int sub = static_cast<int>((ns >> shift) - kSubBuckets);
  return (shift + 1) * kSubBuckets + sub;
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  const int sub = bucket % kSubBuckets;
  return static_cast<int64_t>(kSubBuckets + sub) << shift;
}

int64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  return BucketLow(bucket) + (int64_t{1} << shift) - 1;
}

void LatencyHistogram::Record(absl::Duration d) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns < 0) ns = 0;
  buckets_[BucketOf(ns)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  int64_t seen = min_ns_.load(std::memory_order_relaxed);
  while (ns < seen && !min_ns_.compare_exchange_weak(seen, ns)) {
  }
  seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns)) {
  }
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) {
    const int64_t n = other.buckets_[i].load(std::memory_order_relaxed);
    if (n != 0) buckets_[i].fetch_add(n, std::memory_order_relaxed);
  }
  count_.fetch_add(other.count(), std::memory_order_relaxed);
  sum_ns_.fetch_add(other.sum_ns_.load(std::memory_order_relaxed),
                    std::memory_order_relaxed);
  const int64_t omin = other.min_ns_.load(std::memory_order_relaxed);
  int64_t seen = min_ns_.load(std::memory_order_relaxed);
  while (omin < seen && !min_ns_.compare_exchange_weak(seen, omin)) {
  }
  const int64_t omax = other.max_ns_.load(std::memory_order_relaxed);
  seen = max_ns_.load(std::memory_order_relaxed);
  while (omax > seen && !max_ns_.compare_exchange_weak(seen, omax)) {
  }
}

void LatencyHistogram::Reset() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0);
  sum_ns_.store(0);
  min_ns_.store(std::numeric_limits<int64_t>::max());
  max_ns_.store(0);
}

absl::Duration LatencyHistogram::Percentile(double q) const {
  const int64_t total = count();
  if (total == 0) return absl::ZeroDuration();
  q = std::clamp(q, 0.0, 100.0);
  // Rank of the sample wanted, 1-based: ceil(q% of total), at least 1.
  const int64_t rank = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(q / 100.0 * double(total))));
  int64_t seen = 0;
  const int64_t lo = min_ns_.load(std::memory_order_relaxed);
  const int64_t hi = max_ns_.load(std::memory_order_relaxed);
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const int64_t mid = BucketLow(i) + (BucketHigh(i) - BucketLow(i)) / 2;
      return absl::Nanoseconds(std::clamp(mid, lo, std::max(lo, hi)));
    }
  }
  return absl::Nanoseconds(hi);
}

LatencyHistogram::Summary LatencyHistogram::Summarize() const {
  Summary s;
  s.count = count();
  if (s.count == 0) return s;
  s.min = absl::Nanoseconds(min_ns_.load(std::memory_order_relaxed));
  s.max = absl::Nanoseconds(max_ns_.load(std::memory_order_relaxed));
  s.mean = absl::Nanoseconds(sum_ns_.load(std::memory_order_relaxed) / s.count);
  s.p50 = Percentile(50);
  s.p90 = Percentile(90);
  s.p99 = Percentile(99);
  s.p999 = Percentile(99.9);
  return s;
}

}  // namespace rewardd::bench
