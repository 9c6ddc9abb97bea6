// Renders a TailReportModel as ONE self-contained HTML page: inline CSS and
// inline SVG only, no script, and a Content-Security-Policy that forbids
// scripts and every network fetch, so the page opens offline and text from
// the log (prompts are untrusted) cannot run. Every such text is escaped.
//
// Sections (ids stable for tests and links): #summary, #reward-distribution
// (svg #reward-histogram, #top2-gap-histogram), #tied-over-time (svg
// #tied-share), #saturated-rubrics (table #rubric-table), #eval-comparison
// (table #eval-table, svg #eval-chart), #log-notes.
//
//   std::string html = RenderTailReportHtml(model, absl::Now());
//
// Thread-safety: stateless.
#ifndef REWARDD_CLIENT_CLI_TAIL_REPORT_HTML_H_
#define REWARDD_CLIENT_CLI_TAIL_REPORT_HTML_H_

#include <string>

#include "absl/time/time.h"
#include "client/cli/tail_report_model.h"

namespace rewardd::cli {

// Most rubrics listed in #rubric-table.
inline constexpr size_t kReportMaxRubrics = 25;

std::string RenderTailReportHtml(const TailReportModel& model,
                                 absl::Time generated_at);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_TAIL_REPORT_HTML_H_
