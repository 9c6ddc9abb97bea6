// Reads a rewardd tail log directory (`rewardd --tail_log_dir`): every
// `tail-<UTC yyyymmddThhmmssZ>-<seq>.jsonl` file in time order, each line a
// `rewardd.tail_log.v1` record (docs/rubric-refinement.md, "The tail log").
// Lines that are not JSON, records of an unknown schema or kind, and records
// missing a field this reader needs are skipped and counted, never fatal: the
// writer may be cut off mid-line by a full disk, and newer servers may add
// kinds.
//
//   absl::StatusOr<TailLog> log = ReadTailLog("/var/log/rewardd-tail");
//   if (!log.ok()) return log.status();  // the directory cannot be listed
//   for (const SaturatedGroupRecord& g : log->groups) ...
//   std::string note = DescribeTailLogStats(log->stats);  // "3 files, ..."
//
// Thread-safety: stateless functions; the returned TailLog is a plain value.
#ifndef REWARDD_CLIENT_CLI_TAIL_LOG_READER_H_
#define REWARDD_CLIENT_CLI_TAIL_LOG_READER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace rewardd::cli {

inline constexpr char kTailLogSchema[] = "rewardd.tail_log.v1";

// One criterion's verdict on a response tied at the top.
struct TailVerdict {
  std::string criterion_id;
  std::string verdict;  // "MET", "UNMET", ...
  std::string status;
};

// One of the responses tied at the top of a saturated group.
struct TailTopResponse {
  int index = 0;  // position in the GradeGroup request
  std::string response;
  double reward = 0;
  std::vector<TailVerdict> verdicts;
};

// A `"kind": "saturated_group"` record: one sampled GradeGroup call whose
// valid rewards tie at the top.
struct SaturatedGroupRecord {
  absl::Time time;
  std::string time_text;  // as written (RFC 3339)
  std::string rubric_set;
  std::string rubric_id;
  std::string rubric_version;
  std::string set_version;
  std::map<std::string, std::string> labels;  // policy_version, ...
  std::string prompt;
  nlohmann::json messages;  // [{"role","content"}] or null
  int64_t group_size = 0;
  int64_t valid = 0;
  double max_possible = 1.0;
  double top_reward = 0;
  int64_t tied_at_top = 0;
  bool zero_variance = false;
  std::vector<std::optional<double>> rewards;  // nullopt = not valid
  std::vector<TailTopResponse> top;
  std::string source;  // "<file>:<line>", for messages
};

// A fixed-edge histogram: counts[i] counts values in [edges[i], edges[i+1]).
struct TailHistogram {
  std::vector<double> edges;
  std::vector<int64_t> counts;  // edges.size() - 1 of them
};

// A `"kind": "window"` record: one rubric set's traffic over `seconds`.
struct WindowRecord {
  absl::Time time;
  std::string time_text;
  std::string rubric_set;
  std::string set_version;
  double seconds = 0;
  int64_t groups = 0;
  int64_t zero_variance_groups = 0;
  int64_t tied_at_max_groups = 0;
  int64_t responses = 0;
  int64_t responses_at_max = 0;
  std::optional<TailHistogram> reward_histogram;
  std::optional<TailHistogram> top2_gap_histogram;
  int64_t sampled = 0;
  int64_t dropped_rate_limited = 0;
  int64_t dropped_queue_full = 0;
};

// What was read and what was skipped.
struct TailLogStats {
  int64_t files = 0;
  int64_t lines = 0;  // non-blank lines
  int64_t saturated_groups = 0;
  int64_t windows = 0;
  int64_t unparsable = 0;  // not a JSON object
  int64_t unknown = 0;     // another schema or an unknown kind
  int64_t invalid = 0;     // a known kind missing or mistyping a field
  std::vector<std::string> problems;  // the first few, "<file>:<line>: ..."
};

struct TailLog {
  std::vector<std::string> files;            // read, in time order (full paths)
  std::vector<SaturatedGroupRecord> groups;  // in file and line order
  std::vector<WindowRecord> windows;
  TailLogStats stats;
};

// What to keep of each saturated group. A tail log can be hundreds of
// megabytes: what a caller never looks at need not be held in memory.
struct TailLogReadOptions {
  bool responses = true;  // top[].response texts (else left empty)
  bool verdicts = true;   // top[].verdicts
};

// The `tail-*.jsonl` files of `dir` in time order: by the UTC stamp, then
// the numeric sequence, then the name (a name that does not follow the
// pattern sorts after those that do, by name). NOT_FOUND when `dir` cannot
// be listed.
absl::StatusOr<std::vector<std::string>> ListTailLogFiles(
    const std::string& dir);

// Reads every file ListTailLogFiles() names. A directory with no tail files
// is not an error (an empty TailLog); callers decide what that means.
absl::StatusOr<TailLog> ReadTailLog(const std::string& dir,
                                    const TailLogReadOptions& options = {});

// Parses one line into `log` (counting it in log->stats); `source` names
// the line in problems. Exposed for tests.
void ParseTailLogLine(absl::string_view line, const std::string& source,
                      TailLog* log, const TailLogReadOptions& options = {});

// The one rubric set `log` has records of when `wanted` is empty, else
// `wanted` if the log has records of it. INVALID_ARGUMENT naming
// --rubric_set and the sets found otherwise; NOT_FOUND when the log has no
// usable record at all.
absl::StatusOr<std::string> ChooseRubricSet(const TailLog& log,
                                            const std::string& wanted);

// "read 3 files, 120 records (100 saturated groups, 20 windows); skipped 2
// unparsable lines, 1 record of unknown kind or schema, 0 invalid records".
std::string DescribeTailLogStats(const TailLogStats& stats);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_TAIL_LOG_READER_H_
