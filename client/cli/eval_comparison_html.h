// The report's side-by-side comparison of rubric set versions from
// eval-rubrics results: a table (#eval-table, one column per set, one row
// per metric any set has) and a grouped bar chart of the rates
// (#eval-chart). With exactly two sets a "change" column shows the second
// minus the first. All text from the files is escaped.
//
//   absl::StrAppend(&html, RenderEvalComparison(model.evals));
//
// Thread-safety: stateless.
#ifndef REWARDD_CLIENT_CLI_EVAL_COMPARISON_HTML_H_
#define REWARDD_CLIENT_CLI_EVAL_COMPARISON_HTML_H_

#include <string>
#include <vector>

#include "client/cli/eval_rubrics_result.h"

namespace rewardd::cli {

// A <section id="eval-comparison">; says so when `sets` is empty.
std::string RenderEvalComparison(const std::vector<EvalSetResult>& sets);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_EVAL_COMPARISON_HTML_H_
