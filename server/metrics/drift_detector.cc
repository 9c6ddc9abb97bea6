#include "server/metrics/drift_detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace rewardd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::unique_ptr<std::atomic<double>[]> NaNSlots(size_t n) {
  auto slots = std::make_unique<std::atomic<double>[]>(n);
  for (size_t i = 0; i < n; ++i)
    slots[i].store(kNaN, std::memory_order_relaxed);
  return slots;
}

double Mean(absl::Span<const double> v) {
  if (v.empty()) return kNaN;
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

int BinOf(double x, int bins) {
  const double clamped = std::min(1.0, std::max(0.0, x));
  return std::min(bins - 1, static_cast<int>(clamped * bins));
}

}  // namespace

double PopulationStabilityIndex(absl::Span<const double> expected,
                                absl::Span<const double> actual, int bins) {
  std::vector<double> e(bins, 0), a(bins, 0);
  for (double x : expected) e[BinOf(x, bins)] += 1;
  for (double x : actual) a[BinOf(x, bins)] += 1;
  // Additive smoothing: an empty bin on one side would make the index
  // infinite; half a count per bin keeps it finite and barely moves full
  // bins.
  constexpr double kPseudoCount = 0.5;
  const double e_total = expected.size() + kPseudoCount * bins;
  const double a_total = actual.size() + kPseudoCount * bins;
  double psi = 0;
  for (int i = 0; i < bins; ++i) {
    const double p = (e[i] + kPseudoCount) / e_total;
    const double q = (a[i] + kPseudoCount) / a_total;
    psi += (q - p) * std::log(q / p);
  }
  return psi;
}

double KolmogorovSmirnovStatistic(absl::Span<const double> a,
                                  absl::Span<const double> b) {
  size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    // Step past every copy of the smaller value on both sides, so ties
    // (rewards are often a handful of distinct fractions) are compared at
    // the same x.
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / a.size() -
                             static_cast<double>(j) / b.size()));
  }
  return d;
}

double KolmogorovSmirnovPValue(double d, size_t n, size_t m) {
  if (n == 0 || m == 0) return kNaN;
  const double en = std::sqrt(static_cast<double>(n) * m / (n + m));
  const double lambda = (en + 0.12 + 0.11 / en) * d;
  if (lambda < 1e-3) return 1.0;
  // Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2).
  double sum = 0, sign = 1;
  for (int k = 1; k <= 100; ++k) {
    const double term = sign * std::exp(-2.0 * k * k * lambda * lambda);
    sum += term;
    if (std::abs(term) < 1e-12) break;
    sign = -sign;
  }
  return std::min(1.0, std::max(0.0, 2 * sum));
}

DriftDetector::DriftDetector(DriftOptions options)
    : options_(options),
      reference_capacity_(std::max<size_t>(1, options.reference_size)),
      reference_(NaNSlots(reference_capacity_)),
      window_(NaNSlots(std::max<size_t>(1, options.window_size))) {}

void DriftDetector::SetReference(std::vector<double> rewards) {
  if (rewards.empty()) return;
  reference_capacity_ = rewards.size();
  reference_ = NaNSlots(reference_capacity_);
  for (size_t i = 0; i < rewards.size(); ++i) {
    reference_[i].store(rewards[i], std::memory_order_relaxed);
  }
  reference_next_.store(rewards.size(), std::memory_order_release);
  preset_ = true;
}

void DriftDetector::Add(double reward) {
  if (!std::isfinite(reward)) return;
  if (reference_next_.load(std::memory_order_relaxed) < reference_capacity_) {
    const uint64_t i = reference_next_.fetch_add(1, std::memory_order_relaxed);
    if (i < reference_capacity_) {
      reference_[i].store(reward, std::memory_order_release);
    }
  }
  const size_t w = std::max<size_t>(1, options_.window_size);
  const uint64_t j = window_next_.fetch_add(1, std::memory_order_relaxed);
  window_[j % w].store(reward, std::memory_order_release);
}

std::vector<double> DriftDetector::Reference() const {
  const size_t n = std::min<uint64_t>(
      reference_next_.load(std::memory_order_acquire), reference_capacity_);
  std::vector<double> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = reference_[i].load(std::memory_order_acquire);
    if (!std::isnan(x)) out.push_back(x);  // claimed, not yet stored
  }
  return out;
}

std::vector<double> DriftDetector::Window() const {
  const size_t w = std::max<size_t>(1, options_.window_size);
  const uint64_t next = window_next_.load(std::memory_order_acquire);
  const uint64_t n = std::min<uint64_t>(next, w);
  std::vector<double> out;
  out.reserve(n);
  for (uint64_t k = next - n; k < next; ++k) {
    const double x = window_[k % w].load(std::memory_order_acquire);
    if (!std::isnan(x)) out.push_back(x);
  }
  return out;
}

DriftStats DriftDetector::Compute() const {
  std::vector<double> reference = Reference();
  std::vector<double> window = Window();
  DriftStats s;
  s.reference_samples = reference.size();
  s.window_samples = window.size();
  s.reference_mean = Mean(reference);
  s.window_mean = Mean(window);
  const size_t min_window =
      std::max<size_t>(1, std::min(options_.min_window_samples,
                                   std::max<size_t>(1, options_.window_size)));
  s.ready =
      reference.size() >= reference_capacity_ && window.size() >= min_window;
  if (!s.ready) {
    s.mean_shift = s.psi = s.ks_statistic = s.ks_p_value = kNaN;
    return s;
  }
  s.mean_shift = s.window_mean - s.reference_mean;
  s.psi = PopulationStabilityIndex(reference, window,
                                   std::max(1, options_.psi_bins));
  std::sort(reference.begin(), reference.end());
  std::sort(window.begin(), window.end());
  s.ks_statistic = KolmogorovSmirnovStatistic(reference, window);
  s.ks_p_value =
      KolmogorovSmirnovPValue(s.ks_statistic, reference.size(), window.size());
  return s;
}

}  // namespace rewardd
