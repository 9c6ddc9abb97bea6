// reward-cli eval-rubrics: grades held-out preference pairs
// ({prompt | messages | rubric_id, chosen, rejected}) and/or groups
// ({id, rubric_id, prompt | messages, responses}) with each rubric set
// given, one GradeGroup per pair or group and set (bounded concurrency),
// and prints the sets side by side: pairwise accuracy, tie rate and
// accuracy on the top-quartile pairs; groups tied at the top, separated,
// zero-variance (eval_metrics.h). `--json F` writes the same as
// {"schema": "rewardd.eval_rubrics.v1", "sets": [...]}.
//
// Exit codes (elicitation_common.h): 0 everything graded; 1 bad usage or
// input or a set that is not loaded; 2 the server cannot be reached or the
// JSON cannot be written; 3 some pairs or groups could not be graded (they
// are counted as errors, never as ties).
#ifndef REWARDD_CLIENT_CLI_EVAL_RUBRICS_COMMAND_H_
#define REWARDD_CLIENT_CLI_EVAL_RUBRICS_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kEvalRubricsCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_EVAL_RUBRICS_COMMAND_H_
