// The records of the tail log (docs/observability.md, "Tail log"; schema
// "rewardd.tail_log.v1"): a sampled saturated group, copied out of the
// grading path so the writer thread can format it later, and a per-set
// window of group statistics. Formatting to one JSON line each.
//
//   SaturatedGroupRecord r = SaturatedGroupRecord::From(group, summary, now, 8);
//   std::string line = FormatSaturatedGroup(r);  // no trailing newline
//
// Thread-safety: plain values; the functions are stateless.
#ifndef REWARDD_SERVER_METRICS_TAIL_LOG_RECORD_H_
#define REWARDD_SERVER_METRICS_TAIL_LOG_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/grading/grade_observer.h"
#include "server/grading/group_saturation.h"

namespace rewardd {

inline constexpr absl::string_view kTailLogSchema = "rewardd.tail_log.v1";

struct TailVerdict {
  std::string criterion_id;
  std::string verdict;  // MET, UNMET, UNKNOWN
  std::string status;   // OK, JUDGE_ERROR, ...
};

struct TailTopResponse {
  size_t index = 0;
  std::string response;
  double reward = 0;
  std::vector<TailVerdict> verdicts;
};

struct SaturatedGroupRecord {
  absl::Time time;
  std::string rubric_set;
  std::string rubric_id;
  std::string rubric_version;
  std::string set_version;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string prompt;  // the request's, else the rubric's
  std::vector<std::pair<std::string, std::string>> messages;  // role, content
  size_t group_size = 0;
  size_t valid = 0;
  double max_possible = 1;
  double top_reward = 0;
  size_t tied_at_top = 0;
  bool zero_variance = false;
  std::vector<std::optional<double>> rewards;  // nullopt = not valid
  std::vector<TailTopResponse> top;            // at most max_top

  // Copies what the record needs out of `group` (the first `max_top`
  // responses tied at the top).
  static SaturatedGroupRecord From(const GradedGroup& group,
                                   const GroupSaturation& summary,
                                   absl::Time now, size_t max_top);
};

// Reward and top-2 gap histograms: 10 equal bins over [0, 1] (values
// outside are clamped into the end bins).
inline constexpr int kTailBins = 10;

struct WindowRecord {
  absl::Time time;  // the end of the window
  std::string rubric_set;
  std::string set_version;
  double seconds = 0;
  uint64_t groups = 0;
  uint64_t zero_variance_groups = 0;
  uint64_t tied_at_max_groups = 0;
  uint64_t responses = 0;
  uint64_t responses_at_max = 0;
  std::array<uint64_t, kTailBins> reward_counts{};
  std::array<uint64_t, kTailBins> gap_counts{};
  uint64_t sampled = 0;
  uint64_t dropped_rate_limited = 0;
  uint64_t dropped_queue_full = 0;

  // Counts one group (its valid rewards into the histogram).
  void Add(const GradedGroup& group, const GroupSaturation& summary);
};

// "2026-12-05T00:01:02.345Z".
std::string Rfc3339Millis(absl::Time t);

// One JSON line each, without the trailing newline.
std::string FormatSaturatedGroup(const SaturatedGroupRecord& record);
std::string FormatWindow(const WindowRecord& record);

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_TAIL_LOG_RECORD_H_
