// Tail-saturation series: per rubric set, how many GradeGroup calls stopped
// separating their responses (group_saturation.h), plus a bounded top-k of
// the rubrics that saturated most recently (saturation_tracker.h). See
// docs/observability.md, "Tail saturation".
//
//   SaturationMetrics saturation(registry, &tracker, /*top_k=*/10,
//                                /*rubric_set_limit=*/64);
//   saturation.Record("medical", summary);  // once per graded group
//   saturation.CollectTopK(&families);      // at scrape time
//
// Series (rubric_set bounded like the reward series: at most
// rubric_set_limit values, later ones "other"; inline rubrics "_inline"):
//   rewardd_groups_graded_total{rubric_set}
//   rewardd_groups_zero_variance_total{rubric_set}  all valid rewards equal
//   rewardd_groups_tied_at_max_total{rubric_set}    >= 2 valid at the max
//   rewardd_group_responses_total{rubric_set}       valid responses
//   rewardd_group_responses_at_max_total{rubric_set}
//   rewardd_group_top2_gap{rubric_set}              histogram, groups with
//                                                   >= 2 valid responses
//   rewardd_rubric_saturation_score{rubric_set,rubric_id}  gauge at scrape
//       time: decayed count of saturated groups of the top_k rubrics
//
// Thread-safety: Record() may be called from any thread (lock-free after a
// set's first group); CollectTopK() too.
#ifndef REWARDD_SERVER_METRICS_SATURATION_METRICS_H_
#define REWARDD_SERVER_METRICS_SATURATION_METRICS_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/grading/group_saturation.h"
#include "server/grading/saturation_tracker.h"
#include "server/metrics/read_mostly_map.h"

namespace rewardd {

class SaturationMetrics {
 public:
  // `tracker` must outlive this object.
  SaturationMetrics(prometheus::Registry& registry,
                    const SaturationTracker* tracker, size_t top_k,
                    size_t rubric_set_limit);
  ~SaturationMetrics();

  // Series at 0 for `rubric_set` before its first group.
  void PrepareRubricSet(absl::string_view rubric_set);
  // One graded group of `rubric_set` ("" for inline rubrics).
  void Record(absl::string_view rubric_set, const GroupSaturation& summary);
  // Appends rewardd_rubric_saturation_score.
  void CollectTopK(std::vector<prometheus::MetricFamily>* out) const;

 private:
  struct SetCell;
  SetCell* FindSet(absl::string_view rubric_set);
  void Fill(const std::string& name, SetCell* cell);

  const SaturationTracker* const tracker_;
  const size_t top_k_;
  prometheus::Family<prometheus::Counter>& groups_;
  prometheus::Family<prometheus::Counter>& zero_variance_;
  prometheus::Family<prometheus::Counter>& tied_at_max_;
  prometheus::Family<prometheus::Counter>& responses_;
  prometheus::Family<prometheus::Counter>& responses_at_max_;
  prometheus::Family<prometheus::Histogram>& top2_gap_;
  ReadMostlyMap<SetCell> sets_;
  std::unique_ptr<SetCell> other_set_;
  std::once_flag other_filled_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_SATURATION_METRICS_H_
