// Reads the JSON that `reward-cli eval-rubrics --json F` writes (schema
// "rewardd.eval_rubrics.v1", docs/rubric-refinement.md): one entry per rubric
// set compared. Keys of a mode that was not run are absent and stay absent
// here (nullopt), so the report shows "-" rather than a made-up 0.
//
//   absl::StatusOr<std::vector<EvalSetResult>> sets =
//       ReadEvalRubricsFile("old-vs-new.json");
//   // INVALID_ARGUMENT "--eval old-vs-new.json: sets[1].accuracy: not a number"
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_EVAL_RUBRICS_RESULT_H_
#define REWARDD_CLIENT_CLI_EVAL_RUBRICS_RESULT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rewardd::cli {

inline constexpr char kEvalRubricsSchema[] = "rewardd.eval_rubrics.v1";

// One rubric set's results. Counts and rates as in the file.
struct EvalSetResult {
  std::string source;  // the file it came from
  std::string rubric_set;
  std::string set_version;
  // Preference pairs mode.
  std::optional<double> pairs, accuracy, tie_rate, top_quartile_pairs,
      top_quartile_accuracy;
  // Groups mode.
  std::optional<double> groups, tied_top_groups, separated_groups,
      zero_variance_groups;
  std::optional<double> errors;
};

// Parses one eval-rubrics JSON document; errors name `source` and the field.
absl::StatusOr<std::vector<EvalSetResult>> ParseEvalRubricsJson(
    const nlohmann::json& doc, const std::string& source);

// Reads and parses the file at `path`.
absl::StatusOr<std::vector<EvalSetResult>> ReadEvalRubricsFile(
    const std::string& path);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_EVAL_RUBRICS_RESULT_H_
