// Reward drift of one rubric set: a reference window of rewards (the first N
// valid rewards after start, or rewards loaded from a baseline file written
// by an earlier run) compared with a sliding window of the most recent ones.
//
//   DriftDetector drift(DriftOptions{.reference_size = 1000,
//                                    .window_size = 1000});
//   drift.Add(reward);                  // hot path: lock-free, no allocation
//   DriftStats s = drift.Compute();     // at scrape time
//   if (s.ready && s.psi > 0.25) ...
//
// The statistics (see docs/observability.md for when each alarms):
//  - mean shift: mean(window) - mean(reference), in reward units;
//  - PSI, the population stability index: sum over fixed bins of [0, 1] of
//    (w_i - r_i) * ln(w_i / r_i), with additive smoothing so empty bins stay
//    finite; < 0.1 stable, 0.1-0.25 moderate, > 0.25 a real shift;
//  - KS, the two-sample Kolmogorov-Smirnov statistic: the largest gap between
//    the two empirical CDFs (0..1), and its asymptotic p-value.
//
// Every reward goes into the window; the first reference_size also fill the
// reference, so right after the reference fills the two overlap and the
// statistics read "no drift" until the window has moved on.
//
// Thread-safety: Add() is wait-free and may race with Compute(); Compute()
// may see a slot being overwritten, which only changes which of two recent
// rewards it counts. SetReference() must be called before any Add().
#ifndef REWARDD_SERVER_METRICS_DRIFT_DETECTOR_H_
#define REWARDD_SERVER_METRICS_DRIFT_DETECTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"

namespace rewardd {

struct DriftOptions {
  // Rewards in the reference window (--drift_reference_size).
  size_t reference_size = 1000;
  // Most recent rewards compared with it (--drift_window).
  size_t window_size = 1000;
  // Statistics are NaN until the reference is full and the window holds at
  // least this many rewards (capped at window_size).
  size_t min_window_samples = 50;
  // Equal-width PSI bins over [0, 1]; rewards outside are clamped.
  int psi_bins = 10;
};

struct DriftStats {
  bool ready = false;  // false: the statistics below are NaN
  size_t reference_samples = 0;
  size_t window_samples = 0;
  double reference_mean = 0;  // NaN when there are no samples
  double window_mean = 0;
  double mean_shift = 0;
  double psi = 0;
  double ks_statistic = 0;
  double ks_p_value = 0;
};

// The population stability index of `actual` against `expected` over `bins`
// equal-width bins of [0, 1] (values clamped), with additive smoothing of
// 0.5 per bin. Both spans must be non-empty.
double PopulationStabilityIndex(absl::Span<const double> expected,
                                absl::Span<const double> actual, int bins);

// The two-sample Kolmogorov-Smirnov statistic sup |F_a(x) - F_b(x)|. Both
// inputs must be sorted ascending and non-empty.
double KolmogorovSmirnovStatistic(absl::Span<const double> a,
                                  absl::Span<const double> b);

// The asymptotic p-value of statistic `d` for sample sizes n and m
// (Kolmogorov distribution with Stephens' small-sample correction).
double KolmogorovSmirnovPValue(double d, size_t n, size_t m);

class DriftDetector {
 public:
  explicit DriftDetector(DriftOptions options);
  DriftDetector(const DriftDetector&) = delete;
  DriftDetector& operator=(const DriftDetector&) = delete;

  // Makes `rewards` (non-empty) the complete reference; later Add()s go to
  // the window only. Call before the first Add().
  void SetReference(std::vector<double> rewards);
  // Whether the reference came from SetReference().
  bool reference_preset() const { return preset_; }

  // Records one valid reward. Wait-free. NaN and infinities are ignored.
  void Add(double reward);

  DriftStats Compute() const;

  // Copies of the windows as they are now (reference in arrival order; the
  // window oldest first).
  std::vector<double> Reference() const;
  std::vector<double> Window() const;

  const DriftOptions& options() const { return options_; }

 private:
  const DriftOptions options_;
  size_t reference_capacity_;
  std::unique_ptr<std::atomic<double>[]> reference_;
  std::unique_ptr<std::atomic<double>[]> window_;
  // Slots claimed; a claimed slot holds NaN until its value is stored.
  std::atomic<uint64_t> reference_next_{0};
  std::atomic<uint64_t> window_next_{0};
  bool preset_ = false;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_DRIFT_DETECTOR_H_
