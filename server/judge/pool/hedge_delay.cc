#include "server/judge/pool/hedge_delay.h"

#include <algorithm>
#include <cmath>

namespace rewardd {

HedgeDelay::HedgeDelay(absl::Duration fixed, double percentile)
    : fixed_(fixed), percentile_(percentile) {
  if (percentile_ > 0) ring_.reserve(kRing);
}

void HedgeDelay::Record(absl::Duration elapsed) {
  if (percentile_ <= 0) return;
  const int64_t us = absl::ToInt64Microseconds(elapsed);
  if (ring_.size() < kRing) {
    ring_.push_back(us);
  } else {
    ring_[count_ % kRing] = us;
  }
  ++count_;
  if (count_ < kMinSamples ||
      (count_ != kMinSamples && count_ % kRecomputeEvery != 0)) {
    return;
  }
  // A selection over at most kRing numbers on the stack.
  int64_t scratch[kRing];
  const size_t n = ring_.size();
  std::copy(ring_.begin(), ring_.end(), scratch);
  const double rank = std::ceil(percentile_ / 100 * static_cast<double>(n));
  const size_t k =
      std::min(n - 1, static_cast<size_t>(std::max(1.0, rank)) - 1);
  std::nth_element(scratch, scratch + k, scratch + n);
  learned_ = absl::Microseconds(scratch[k]);
}

absl::Duration HedgeDelay::Current() const {
  if (percentile_ > 0) {
    if (learned_ == absl::InfiniteDuration()) {
      return fixed_ > absl::ZeroDuration() ? fixed_ : absl::InfiniteDuration();
    }
    return std::max(fixed_, learned_);
  }
  return fixed_ > absl::ZeroDuration() ? fixed_ : absl::InfiniteDuration();
}

}  // namespace rewardd
