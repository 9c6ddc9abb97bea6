// Turns a tail log's saturated groups into the two datasets of the way back
// to refinement (docs/rubric-refinement.md, "From the tail log back to
// refinement"):
//  - refine input records (the paper code's shape `reward-cli refine`
//    reads): one per rubric, id = rubric_id, the distinct responses that tied
//    at the top across that rubric's logged groups (newest first, bounded),
//    the starting rubric by reference (rubric_set + rubric_id);
//  - eval groups (`reward-cli eval-rubrics --groups`): one per distinct
//    logged group, its tied top responses, so eval-rubrics can count how many
//    of them another rubric set version separates.
//
//   absl::StatusOr<TailDataset> d = ReadTailDataset(dir, {.rubric_set = "hb"});
//   if (!d.ok()) return d.status();
//   for (const nlohmann::json& record : d->refine_records) ...  // refine input
//   WriteJsonl(d->eval_groups) ...
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_TAIL_DATASET_H_
#define REWARDD_CLIENT_CLI_TAIL_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/tail_log_reader.h"
#include "nlohmann/json.hpp"

namespace rewardd::cli {

struct TailDatasetOptions {
  // The rubric set to take; empty = the only one in the log (a log holding
  // several sets is an error naming them).
  std::string rubric_set;
  // Most candidate responses per refine record (RefineRubric takes 2-64).
  int max_responses_per_rubric = 16;
};

struct TailDatasetStats {
  int64_t groups_used = 0;  // saturated groups of the chosen set
  int64_t rubrics = 0;      // distinct rubric ids among them
  // Rubrics left out of the refine records: fewer than 2 distinct tied
  // responses (identical texts tie on any rubric; refining needs a pair).
  int64_t rubrics_too_few_responses = 0;
  // Groups of a rubric whose prompt differs from the one its refine record
  // uses (a rubric shared by several prompts): in the eval groups only.
  int64_t groups_other_prompt = 0;
  int64_t groups_no_rubric_id = 0;      // cannot be referenced: skipped
  int64_t eval_groups_duplicate = 0;    // the same prompt and responses again
  int64_t eval_groups_too_few = 0;      // fewer than 2 distinct responses
  int64_t responses_dropped_bound = 0;  // past max_responses_per_rubric
};

struct TailDataset {
  std::string rubric_set;
  std::vector<nlohmann::json> refine_records;  // formats: "Refine input"
  // For messages about refine_records[i]: "tail log: rubric 'r' of set 'hb'
  // (3 saturated groups)".
  std::vector<std::string> refine_locations;
  std::vector<nlohmann::json> eval_groups;  // formats: "Eval groups"
  TailDatasetStats stats;
};

// The set name rewardd logs for requests that carried their rubric inline.
inline constexpr char kInlineRubricSet[] = "_inline";

// The datasets of `log`'s saturated groups of one rubric set.
// INVALID_ARGUMENT naming --rubric_set when the set is ambiguous, absent or
// the inline set (its rubrics are in no file, so they cannot be referenced),
// or naming max_responses_per_rubric when it is below 2.
absl::StatusOr<TailDataset> BuildTailDataset(const TailLog& log,
                                             const TailDatasetOptions& options);

// ReadTailLog(dir) then BuildTailDataset(): what `reward-cli tail-dataset`
// writes and what `refine --from_tail_log DIR` feeds to refinement, e.g.
//   for (size_t i = 0; i < d->refine_records.size(); ++i)
//     records.push_back({d->refine_records[i], d->refine_locations[i]});
absl::StatusOr<TailDataset> ReadTailDataset(const std::string& dir,
                                            const TailDatasetOptions& options);

// One compact JSON document per line.
std::string ToJsonl(const std::vector<nlohmann::json>& records);

// "12 refine records (3 rubrics skipped: fewer than 2 distinct responses),
// 40 eval groups (2 duplicates dropped) from 45 saturated groups of 'hb'".
std::string DescribeTailDataset(const TailDataset& dataset);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_TAIL_DATASET_H_
