// GradeJsonl: grades a JSONL file of requests through a RewardClient and
// writes one JSON result per request, in input order (reward-cli grade).
//
// Input lines are reward.v1.GradeRequest (or, in group mode,
// GradeGroupRequest) in the proto JSON mapping; blank lines are skipped.
// Output lines are the GradeResponse / GradeGroupResponse JSON (proto field
// names, default values printed) or, for a line that failed,
//   {"line":12,"request_id":"r7","error":{"code":3,"message":"..."}}
// where code is the gRPC status code. A failed line never stops the run.
//
//   rewardd::JsonlGradeOptions options;
//   options.mode = rewardd::JsonlGradeOptions::Mode::kStream;
//   absl::StatusOr<rewardd::JsonlGradeStats> stats =
//       rewardd::GradeJsonl(*client, options, std::cin, std::cout);
//   if (stats.ok()) std::cerr << rewardd::FormatSummary(*stats);
#ifndef REWARDD_CLIENT_JSONL_GRADER_H_
#define REWARDD_CLIENT_JSONL_GRADER_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/progress.h"
#include "client/reward_client.h"

namespace rewardd {

struct JsonlGradeOptions {
  enum class Mode {
    kUnary,   // one Grade call per line, `concurrency` at once
    kGroup,   // one GradeGroup call per line, `concurrency` at once
    kStream,  // one GradeStream, `concurrency` requests unanswered at most
  };
  Mode mode = Mode::kUnary;
  // Lines in flight or waiting for an earlier line to be written: bounds
  // memory and load. At least 1.
  int concurrency = 16;
  // Accept (and drop) JSON fields the proto does not have.
  bool ignore_unknown_fields = false;
  // Keep at most this many rows for the summary table (aggregates count
  // every line).
  int summary_rows = 50;
  // Told about every line written; may be null. Not owned.
  ProgressBar* progress = nullptr;
};

// One line of the summary table.
struct JsonlGradeRow {
  int64_t line = 0;
  std::string request_id;
  std::string error;      // empty when the line succeeded
  int responses = 0;      // 1 per Grade, N per GradeGroup
  int valid = 0;          // of those, how many are valid rewards
  double reward = 0;      // the reward, or the group's mean reward
  double std_reward = 0;  // groups only
  double seconds = 0;     // server-side total (largest of a group)
};

struct JsonlGradeStats {
  int64_t lines = 0;      // requests read (blank lines not counted)
  int64_t succeeded = 0;  // lines with a result
  int64_t failed = 0;     // parse errors, RPC errors, stream item errors
  int64_t responses = 0;  // graded responses (N per group)
  int64_t valid = 0;      // of those, valid rewards
  double reward_sum = 0;  // over valid responses
  absl::Duration elapsed;
  std::vector<JsonlGradeRow> rows;  // the first `summary_rows` lines
};

// Reads `in` to its end, grades every line and writes results to `out`.
// Returns an error only when `out` cannot be written or the options are bad;
// per-line failures are in the output and in the stats.
absl::StatusOr<JsonlGradeStats> GradeJsonl(RewardClient& client,
                                           const JsonlGradeOptions& options,
                                           std::istream& in, std::ostream& out);

// A human-readable table of `stats` (rows and totals).
std::string FormatSummary(const JsonlGradeStats& stats);

}  // namespace rewardd

#endif  // REWARDD_CLIENT_JSONL_GRADER_H_
