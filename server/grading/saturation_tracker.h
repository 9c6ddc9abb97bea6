// Which rubrics saturated most recently: a bounded table of the rubrics whose
// GradeGroup calls tied at the maximum reward (group_saturation.h), ranked by
// an exponentially decayed count of saturated groups, so a rubric that
// stopped saturating falls down the ranking after a few half-lives. Feeds
// ListSaturatedRubrics and the per-rubric top-k gauge.
//
//   SaturationTracker tracker(SaturationTrackerOptions{});
//   tracker.Record(group, SummarizeGroup(group.results, group.max_possible));
//   for (const SaturatedRubric& r : tracker.Top(10, "medical")) { ... }
//
// A rubric enters the table with its first saturated group; from then on
// every group graded with it counts in `groups` (so `groups` is the groups
// seen since it first saturated). When the table is full, a new saturating
// rubric replaces the one with the lowest decayed score.
//
// Thread-safety: all methods may be called from any thread. Record() takes
// a mutex for a hash look-up (no I/O, no allocation unless a rubric enters
// the table).
#ifndef REWARDD_SERVER_GRADING_SATURATION_TRACKER_H_
#define REWARDD_SERVER_GRADING_SATURATION_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/grading/grade_observer.h"
#include "server/grading/group_saturation.h"

namespace rewardd {

struct SaturationTrackerOptions {
  // Rubrics remembered (--saturation_max_rubrics).
  size_t max_rubrics = 1024;
  // Half-life of a saturated group's weight in the ranking
  // (--saturation_half_life).
  absl::Duration half_life = absl::Minutes(15);
  // The time source; absl::Now when empty. Tests inject a fake clock.
  std::function<absl::Time()> clock;
};

struct SaturatedRubric {
  std::string rubric_set;  // "_inline" for inline rubrics
  std::string rubric_id;
  std::string rubric_version;
  std::string set_version;
  uint64_t saturated_groups = 0;
  uint64_t groups = 0;  // graded groups since the rubric entered the table
  absl::Time last_saturated = absl::InfinitePast();
  double score = 0;  // decayed count of saturated groups, at query time
};

class SaturationTracker {
 public:
  static constexpr absl::string_view kInlineSet = "_inline";

  explicit SaturationTracker(SaturationTrackerOptions options);
  ~SaturationTracker();

  // One graded group and its summary.
  void Record(const GradedGroup& group, const GroupSaturation& summary);

  // The `k` rubrics with the highest decayed score, highest first; only
  // those of `rubric_set` when it is non-empty.
  std::vector<SaturatedRubric> Top(size_t k,
                                   absl::string_view rubric_set = {}) const;

  // Rubrics in the table.
  size_t size() const;

 private:
  struct Entry;
  using Key = std::pair<absl::string_view, absl::string_view>;

  absl::Time Now() const;
  // `score` of `entry` decayed from its last update to `now`.
  double Decayed(const Entry& entry, absl::Time now) const;
  void EvictLowest(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SaturationTrackerOptions options_;
  mutable absl::Mutex mu_;
  // Keys view into their entry's strings.
  absl::flat_hash_map<Key, std::unique_ptr<Entry>> entries_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GRADING_SATURATION_TRACKER_H_
