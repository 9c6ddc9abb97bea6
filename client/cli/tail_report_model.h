// The numbers behind `reward-cli report`: one rubric set's tail picture
// aggregated from a tail log (window and saturated_group records) plus the
// eval-rubrics results to compare. Kept apart from the HTML so it can be
// tested on its own and rendered in other forms later.
//
//   absl::StatusOr<TailReportModel> m =
//       BuildTailReportModel(log, "hb", evals);  // "" = the only set
//   std::string html = RenderTailReportHtml(*m, absl::Now());
//
// Thread-safety: stateless functions; the model is a plain value.
#ifndef REWARDD_CLIENT_CLI_TAIL_REPORT_MODEL_H_
#define REWARDD_CLIENT_CLI_TAIL_REPORT_MODEL_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cli/eval_rubrics_result.h"
#include "client/cli/tail_log_reader.h"

namespace rewardd::cli {

// Windows merged into one point of the time series (adjacent windows are
// merged when there are more than kMaxSeriesPoints).
struct TailTimePoint {
  absl::Time time;  // of the last window merged in
  int64_t groups = 0;
  int64_t tied_at_max_groups = 0;
  int64_t zero_variance_groups = 0;
  int64_t responses = 0;
  int64_t responses_at_max = 0;
};

// One rubric's logged saturated groups.
struct RubricSaturation {
  std::string rubric_id;
  int64_t groups = 0;
  int64_t zero_variance = 0;
  int64_t max_tied = 0;        // the most responses tied at the top at once
  double mean_top_reward = 0;  // as a share of max_possible
  absl::Time last_seen = absl::InfinitePast();  // the newest group's time
  std::string last_seen_text;                   // as logged
  std::string rubric_version;                   // of the newest group
  std::set<std::string> policy_versions;
  std::string prompt;  // of the newest group (messages: the last content)
};

struct TailReportModel {
  std::string rubric_set;
  std::set<std::string> set_versions;
  TailLogStats log_stats;
  absl::Time first = absl::InfiniteFuture();
  absl::Time last = absl::InfinitePast();
  // Totals over the set's window records.
  int64_t windows = 0;
  int64_t groups = 0;
  int64_t tied_at_max_groups = 0;
  int64_t zero_variance_groups = 0;
  int64_t responses = 0;
  int64_t responses_at_max = 0;
  int64_t sampled = 0;
  int64_t dropped_rate_limited = 0;
  int64_t dropped_queue_full = 0;
  // Summed histograms of the windows sharing the first window's edges;
  // windows with other edges are counted, not summed.
  std::optional<TailHistogram> reward_histogram;
  std::optional<TailHistogram> top2_gap_histogram;
  int64_t histogram_windows_other_edges = 0;
  std::vector<TailTimePoint> series;
  std::vector<RubricSaturation> rubrics;  // most saturated first
  int64_t saturated_groups = 0;
  std::vector<EvalSetResult> evals;  // in the order given
};

inline constexpr size_t kMaxSeriesPoints = 240;

// INVALID_ARGUMENT naming --rubric_set when `rubric_set` is empty and the
// log holds several sets, or names one it does not hold.
absl::StatusOr<TailReportModel> BuildTailReportModel(
    const TailLog& log, const std::string& rubric_set,
    std::vector<EvalSetResult> evals);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_TAIL_REPORT_MODEL_H_
