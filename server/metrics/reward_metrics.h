// Reward metrics per rubric set and policy version: what the people running
// RL training watch for reward hacking and drift. Fed one graded response
// at a time (ServerMetrics::OnGraded); every handle is cached in a
// read-mostly table, so the hot path is a few lock-free look-ups and
// increments.
//
//   RewardMetrics rewards(registry, RewardMetricsOptions{});
//   rewards.PrepareRubricSet("medical");  // series at 0 before traffic
//   rewards.OnGraded(result, "ckpt-1200");  // a GradeResult
//
// Series (label values bounded: rubric_set by the store's files, at most
// rubric_set_limit; policy_version: the first policy_version_limit distinct
// values, later ones "other", absent "none"; tag: criterion tags passing
// the prefix filter, at most criterion_tag_limit, later ones "other", plus
// "all"):
//   rewardd_grades_total{rubric_set,policy_version,result}     valid|invalid
//   rewardd_reward{rubric_set,policy_version}                  histogram
//   rewardd_reward_tail_total{rubric_set,policy_version}       reward >= tail
//   rewardd_reward_tail_threshold                              gauge
//   rewardd_criterion_results_total{rubric_set,policy_version,tag,result}
//       pass|fail|no_verdict; pass = the desirable outcome (a positive
//       criterion met, or a negative one not met)
//   rewardd_response_length_bytes{rubric_set,policy_version,reward_band}
//       histogram; bands 0.00_0.25, 0.25_0.50, 0.50_0.75, 0.75_1.00
//   rewardd_reward_drift_*{rubric_set}     gauges computed at scrape time
//       (see drift_detector.h)
// Inline rubrics count under rubric_set="_inline".
//
// Thread-safety: OnGraded() and PrepareRubricSet() may be called from any
// thread; creating a new cell takes a per-set mutex (once per cell).
// SetBaseline() must be called before the first OnGraded().
#ifndef REWARDD_SERVER_METRICS_REWARD_METRICS_H_
#define REWARDD_SERVER_METRICS_REWARD_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/grading/grader.h"
#include "server/metrics/drift_baseline.h"
#include "server/metrics/drift_detector.h"
#include "server/metrics/label_limiter.h"
#include "server/metrics/read_mostly_map.h"

namespace rewardd {

struct RewardMetricsOptions {
  // Distinct policy_version label values kept (--policy_version_limit).
  size_t policy_version_limit = 8;
  // Rewards at or above this are "in the tail" (--tail_threshold).
  double tail_threshold = 0.9;
  // Criterion tags counted: those starting with one of these prefixes; empty
  // means every tag (--criterion_tag_prefixes).
  std::vector<std::string> criterion_tag_prefixes;
  // Distinct tags kept (--criterion_tag_limit).
  size_t criterion_tag_limit = 16;
  // Rubric sets with their own series; later ones count as "other".
  size_t rubric_set_limit = 64;
  DriftOptions drift;
};

class RewardMetrics {
 public:
  static constexpr absl::string_view kInlineSet = "_inline";
  static constexpr int kBands = 4;

  RewardMetrics(prometheus::Registry& registry, RewardMetricsOptions options);
  ~RewardMetrics();

  // Reference windows for the drift detectors of the sets it names. Call
  // before traffic starts (sets already prepared get theirs too).
  void SetBaseline(DriftBaseline baseline);

  // Creates the series of (set, policy_version "none") at 0, so a set's
  // rates are defined from its first scrape on; with `rubrics`, also the
  // criterion series of every tag they use (tags take limiter slots in file
  // order, the same on every pod).
  void PrepareRubricSet(absl::string_view rubric_set,
                        const RubricSet* rubrics = nullptr);

  // One graded response. `result.input->rubric` is the rubric that graded
  // it (criteria parallel to result.verdicts).
  void OnGraded(const GradeResult& result, absl::string_view policy_version);

  // The drift gauges, computed now.
  void CollectDrift(std::vector<prometheus::MetricFamily>* out) const;

  // The current reference windows (or the recent windows), per set, for
  // saving as a baseline. Sets with no rewards are left out.
  DriftBaseline SnapshotDrift(bool recent_window) const;

  // "0.00_0.25" ... "0.75_1.00".
  static absl::string_view BandName(int band);
  static int BandOf(double reward);

 private:
  struct TagCell;
  struct PolicyCell;
  struct SetCell;

  SetCell* FindSet(absl::string_view name);
  PolicyCell* FindPolicy(SetCell& set, const LabelValueLimiter::Value& pv);
  TagCell* FindTag(SetCell& set, PolicyCell& cell, size_t index,
                   const std::string& tag);
  bool TagCounted(absl::string_view tag) const;
  void BuildGaugeThreshold(prometheus::Registry& registry);

  const RewardMetricsOptions options_;
  DriftBaseline baseline_;

  prometheus::Family<prometheus::Counter>& grades_;
  prometheus::Family<prometheus::Histogram>& reward_;
  prometheus::Family<prometheus::Counter>& tail_;
  prometheus::Family<prometheus::Counter>& criteria_;
  prometheus::Family<prometheus::Histogram>& length_;
  prometheus::Histogram::BucketBoundaries reward_buckets_;

  LabelValueLimiter policy_versions_;
  LabelValueLimiter tags_;
  ReadMostlyMap<SetCell> sets_;
  std::unique_ptr<SetCell> other_set_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_REWARD_METRICS_H_
