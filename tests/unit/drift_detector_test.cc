// The drift detector's statistics against independent computations, its
// windows, and the baseline file round trip.
#include "server/metrics/drift_detector.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/drift_baseline.h"

namespace rewardd {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// Brute-force KS: the largest CDF gap evaluated at every observed value.
double BruteForceKs(const std::vector<double>& a,
                    const std::vector<double>& b) {
  std::vector<double> xs = a;
  xs.insert(xs.end(), b.begin(), b.end());
  double d = 0;
  for (double x : xs) {
    const double fa =
        std::count_if(a.begin(), a.end(), [x](double v) { return v <= x; }) /
        static_cast<double>(a.size());
    const double fb =
        std::count_if(b.begin(), b.end(), [x](double v) { return v <= x; }) /
        static_cast<double>(b.size());
    d = std::max(d, std::abs(fa - fb));
  }
  return d;
}

std::vector<double> Sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(DriftStatisticsTest, KolmogorovSmirnovMatchesBruteForceWithTies) {
  // Rewards of a 4-criterion rubric: only five distinct values, many ties.
  std::mt19937 rng(7);
  std::discrete_distribution<int> ref_dist({1, 2, 4, 2, 1});
  std::discrete_distribution<int> win_dist({1, 1, 2, 3, 3});
  std::vector<double> ref, win;
  for (int i = 0; i < 300; ++i) ref.push_back(ref_dist(rng) / 4.0);
  for (int i = 0; i < 200; ++i) win.push_back(win_dist(rng) / 4.0);
  const double d = KolmogorovSmirnovStatistic(Sorted(ref), Sorted(win));
  EXPECT_DOUBLE_EQ(d, BruteForceKs(ref, win));
  EXPECT_GT(d, 0.1);
}

TEST(DriftStatisticsTest, KolmogorovSmirnovExtremes) {
  EXPECT_DOUBLE_EQ(KolmogorovSmirnovStatistic({0.1, 0.2}, {0.8, 0.9, 1.0}),
                   1.0);
  EXPECT_DOUBLE_EQ(KolmogorovSmirnovStatistic({0.5, 0.5}, {0.5}), 0.0);
}

TEST(DriftStatisticsTest, KolmogorovSmirnovPValueSeparatesShiftFromNoise) {
  // Same distribution: a large p; disjoint samples of 100: tiny p.
  EXPECT_GT(KolmogorovSmirnovPValue(0.05, 500, 500), 0.5);
  EXPECT_LT(KolmogorovSmirnovPValue(1.0, 100, 100), 1e-10);
  // Monotone in d.
  EXPECT_GT(KolmogorovSmirnovPValue(0.1, 200, 200),
            KolmogorovSmirnovPValue(0.2, 200, 200));
}

TEST(DriftStatisticsTest, PsiMatchesTheDefinition) {
  // 10 bins; reference all in bin 2, window split between bins 2 and 9.
  const std::vector<double> ref(20, 0.25);
  std::vector<double> win(10, 0.25);
  win.insert(win.end(), 10, 0.95);
  // Smoothed shares, computed by hand from the documented formula.
  double expected = 0;
  for (int bin = 0; bin < 10; ++bin) {
    const double r = ((bin == 2 ? 20 : 0) + 0.5) / (20 + 5.0);
    const double w = ((bin == 2 || bin == 9 ? 10 : 0) + 0.5) / (20 + 5.0);
    expected += (w - r) * std::log(w / r);
  }
  EXPECT_NEAR(PopulationStabilityIndex(ref, win, 10), expected, 1e-12);
  EXPECT_GT(expected, 0.25);  // a real shift by the usual rule of thumb
  EXPECT_NEAR(PopulationStabilityIndex(ref, ref, 10), 0.0, 1e-12);
}

TEST(DriftStatisticsTest, PsiClampsRewardsOutsideTheUnitInterval) {
  // HealthBench rewards may be negative: they land in the first bin.
  EXPECT_NEAR(PopulationStabilityIndex({-0.4, 0.01}, {0.0, 0.05}, 10), 0.0,
              1e-12);
  EXPECT_NEAR(PopulationStabilityIndex({1.0}, {1.7}, 10), 0.0, 1e-12);
}

DriftOptions SmallOptions() {
  DriftOptions o;
  o.reference_size = 4;
  o.window_size = 3;
  o.min_window_samples = 2;
  return o;
}

TEST(DriftDetectorTest, ReferenceIsTheFirstRewardsAndWindowSlides) {
  DriftDetector d(SmallOptions());
  for (double r : {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}) d.Add(r);
  EXPECT_THAT(d.Reference(), ElementsAre(0.1, 0.2, 0.3, 0.4));
  EXPECT_THAT(d.Window(), ElementsAre(0.6, 0.7, 0.8));
}

TEST(DriftDetectorTest, NotReadyUntilReferenceIsFull) {
  DriftDetector d(SmallOptions());
  d.Add(0.5);
  d.Add(0.5);
  d.Add(0.5);
  DriftStats s = d.Compute();
  EXPECT_FALSE(s.ready);
  EXPECT_EQ(s.reference_samples, 3u);
  EXPECT_TRUE(std::isnan(s.psi));
  EXPECT_TRUE(std::isnan(s.ks_statistic));
  EXPECT_TRUE(std::isnan(s.mean_shift));
  d.Add(0.5);
  s = d.Compute();
  EXPECT_TRUE(s.ready);
  EXPECT_DOUBLE_EQ(s.mean_shift, 0.0);  // window overlaps the reference
  EXPECT_DOUBLE_EQ(s.ks_statistic, 0.0);
}

TEST(DriftDetectorTest, DetectsAShiftedWindow) {
  DriftOptions o;
  o.reference_size = 200;
  o.window_size = 200;
  DriftDetector d(o);
  std::vector<double> ref, win;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> low(0, 2), high(2, 4);
  for (int i = 0; i < 200; ++i) {
    ref.push_back(low(rng) / 4.0);
    d.Add(ref.back());
  }
  for (int i = 0; i < 200; ++i) {
    win.push_back(high(rng) / 4.0);
    d.Add(win.back());
  }
  const DriftStats s = d.Compute();
  ASSERT_TRUE(s.ready);
  double ref_mean = 0, win_mean = 0;
  for (double x : ref) ref_mean += x / ref.size();
  for (double x : win) win_mean += x / win.size();
  EXPECT_NEAR(s.mean_shift, win_mean - ref_mean, 1e-12);
  EXPECT_GT(s.mean_shift, 0.3);
  EXPECT_NEAR(s.psi, PopulationStabilityIndex(ref, win, 10), 1e-12);
  EXPECT_GT(s.psi, 0.25);
  EXPECT_DOUBLE_EQ(s.ks_statistic, BruteForceKs(ref, win));
  EXPECT_LT(s.ks_p_value, 1e-6);
}

TEST(DriftDetectorTest, PresetReferenceComesFromTheBaseline) {
  DriftDetector d(SmallOptions());
  d.SetReference({0.9, 0.9});
  EXPECT_TRUE(d.reference_preset());
  d.Add(0.1);
  d.Add(0.1);
  const DriftStats s = d.Compute();
  ASSERT_TRUE(s.ready);
  EXPECT_THAT(d.Reference(), ElementsAre(0.9, 0.9));  // not overwritten
  EXPECT_NEAR(s.mean_shift, -0.8, 1e-12);
  EXPECT_DOUBLE_EQ(s.ks_statistic, 1.0);
}

TEST(DriftDetectorTest, IgnoresNonFiniteRewards) {
  DriftDetector d(SmallOptions());
  d.Add(std::nan(""));
  d.Add(INFINITY);
  EXPECT_TRUE(d.Reference().empty());
  EXPECT_TRUE(d.Window().empty());
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(getpid());
}

TEST(DriftBaselineTest, RoundTrip) {
  DriftBaseline b;
  b.source = "window";
  b.saved_at_unix = 1767225600;
  b.sets["medical"] = {0.25, 0.5, 1.0};
  b.sets["_inline"] = {-0.2};
  const std::string path = TempPath("baseline.json");
  ASSERT_TRUE(SaveDriftBaseline(path, b).ok());
  absl::StatusOr<DriftBaseline> loaded = LoadDriftBaseline(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->source, "window");
  EXPECT_EQ(loaded->saved_at_unix, 1767225600);
  EXPECT_THAT(loaded->sets["medical"], ElementsAreArray(b.sets["medical"]));
  EXPECT_THAT(loaded->sets["_inline"], ElementsAre(-0.2));
  std::remove(path.c_str());
}

TEST(DriftBaselineTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(
      LoadDriftBaseline(TempPath("does-not-exist.json")).status()));
}

TEST(DriftBaselineTest, MalformedFilesNameTheProblem) {
  const std::string path = TempPath("bad.json");
  auto load = [&](const std::string& content) {
    std::ofstream(path) << content;
    return LoadDriftBaseline(path).status();
  };
  absl::Status s = load("{\"format\": \"something-else\", \"version\": 1}");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("format"));
  s = load(
      "{\"format\": \"rewardd-drift-baseline\", \"version\": 1, "
      "\"sets\": {\"a\": [0.5, \"x\"]}}");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("sets.a"));
  s = load("not json");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace rewardd
